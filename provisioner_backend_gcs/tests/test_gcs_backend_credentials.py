"""backend.gcs's own credentials become the gcp provider (auth.providers, when set, wins in core)."""

from provisioner_backend_gcs.backend_type import GCS_BACKEND


def test_access_token_then_key_file_then_nothing():
    rule = GCS_BACKEND.auth_from_settings
    assert rule({"bucket": "b", "access_token": "tok"}) == {"gcp": {"type": "access-token", "token": "tok"}}
    assert rule({"bucket": "b", "credentials": "/keys/sa.json"}) == {"gcp": {"type": "service-account-file", "file": "/keys/sa.json"}}
    assert rule({"bucket": "b", "credentials": '{"type": "service_account"}'}) == {}  # key JSON inline: terraform's only
    assert rule({"bucket": "b"}) == {}
