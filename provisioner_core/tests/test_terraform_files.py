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


# URL settings of the test's type, and the variables terraform would read them from.
URLS = BackendType("urls", url_env={"endpoints.store": "STORE_ENDPOINT", "address": "STORE_ADDRESS"})


def test_a_url_with_credentials_moves_to_its_variable_and_one_without_stays(tmp_path):
    app = component("urls", {
        "address": "https://ci:Url-Pa55word@state.example/app",
        "endpoints": {"store": "http://user:Endpoint-Pa55@127.0.0.1:9000", "other": "http://127.0.0.1:9001"},
        "proxy": "http://proxy-user:Proxy-Pa55@proxy:3128",
    })
    warnings: list[str] = []
    generated = write_files(tmp_path, app, {"urls": URLS}, warn=warnings.append)
    written = json.loads((tmp_path / "backend.tf.json").read_text())["terraform"]["backend"]["urls"]
    assert written == {"endpoints": {"other": "http://127.0.0.1:9001"}, "proxy": "http://proxy-user:Proxy-Pa55@proxy:3128"}
    assert generated.secret_env == {"STORE_ADDRESS": "https://ci:Url-Pa55word@state.example/app", "STORE_ENDPOINT": "http://user:Endpoint-Pa55@127.0.0.1:9000"}
    # The one with no variable stays (nothing else could reach terraform): said once, without the password.
    assert len(warnings) == 1 and warnings[0].startswith("backend.urls.proxy holds credentials in its URL") and "Proxy-Pa55" not in warnings[0]
    # A mapping left empty goes too; a URL without credentials stays where it was.
    plain = component("urls", {"endpoints": {"store": "http://user:Endpoint-Pa55@h:1"}, "address": "https://state.example/app"})
    assert backend_config(plain, {"urls": URLS})["terraform"]["backend"]["urls"] == {"address": "https://state.example/app"}


def test_every_generated_file_is_private(tmp_path):
    generated = write_files(tmp_path, component("store", {"bucket": "b", "key": "k"}, {"name": "x"}), TYPES)
    for path in (generated.backend_file, generated.varfile):
        assert path is not None and path.stat().st_mode & 0o777 == 0o600
