"""The files generated for terraform never hold a secret or a provision key."""

from __future__ import annotations

import json

from provisioner_core import BackendType, ResolvedComponent
from provisioner_core.redaction import redact_mapping
from provisioner_core.terraform.files import backend_config, backend_secret_env, write_files

# A backend type of the test's own: its secret settings reach terraform through these variables.
STORE = BackendType("store", secret_env={"encryption_key": "STORE_ENCRYPTION_KEY", "secret_key": "STORE_SECRET_KEY", "access_key": "STORE_ACCESS_KEY"})
TYPES = {"store": STORE}


def component(backend_type, backend, vars_=None):
    return ResolvedComponent(stack="dev", name="app", terraform_component="app", backend_type=backend_type, backend=backend,
                             vars=vars_ or {}, provision={"backend": {"enabled": True}})


def test_a_registered_secret_setting_goes_to_its_variable_not_the_file(tmp_path):
    app = component("store", {"bucket": "b", "prefix": "p", "encryption_key": "c2VjcmV0LWtleS0zMi1ieXRlcw==", "kms_key": "projects/x/keys/k"})
    assert backend_config(app, TYPES)["terraform"] == {"backend": {"store": {"bucket": "b", "prefix": "p", "kms_key": "projects/x/keys/k"}}}
    assert backend_secret_env(app, TYPES) == {"STORE_ENCRYPTION_KEY": "c2VjcmV0LWtleS0zMi1ieXRlcw=="}
    assert backend_secret_env(app, {}) == {}  # an unregistered type: secret-looking keys are only dropped
    assert redact_mapping(app.sections())["backend"]["encryption_key"] == "***"


def test_secret_backend_keys_and_vars_stay_out_of_files(tmp_path):
    app = component(
        "store",
        {"bucket": "b", "key": "k", "secret_key": "S3CRET-value", "access_key": "AKIA", "skip_credentials_validation": True},
        {"name": "x", "db_password": "pw-123456", "api_token": "tok-123456"},
    )
    generated = write_files(tmp_path, app, TYPES)
    written = (tmp_path / "backend.tf.json").read_text() + generated.varfile.read_text()
    for secret in ("S3CRET-value", "pw-123456", "tok-123456"):
        assert secret not in written
    assert json.loads((tmp_path / "backend.tf.json").read_text())["terraform"]["backend"]["store"]["skip_credentials_validation"] is True
    assert generated.secret_vars == {"db_password": "pw-123456", "api_token": "tok-123456"}
    assert generated.secret_env == {"STORE_SECRET_KEY": "S3CRET-value", "STORE_ACCESS_KEY": "AKIA"}
    assert "enabled" not in written and "provision\"" not in written  # no provision keys
    assert not list(tmp_path.glob(".*.tmp*")), "no temporary file left behind"


def test_a_backendless_run_removes_our_stale_backend_file_but_never_the_users(tmp_path):
    write_files(tmp_path, component("store", {"bucket": "b", "key": "k"}), TYPES)
    write_files(tmp_path, component(None, {}), TYPES)
    assert not (tmp_path / "backend.tf.json").exists(), "another stack's backend must not be reused"
    own = '{"terraform": {"backend": {"local": {}}}}'
    (tmp_path / "backend.tf.json").write_text(own)
    write_files(tmp_path, component(None, {}), TYPES)
    assert (tmp_path / "backend.tf.json").read_text() == own
