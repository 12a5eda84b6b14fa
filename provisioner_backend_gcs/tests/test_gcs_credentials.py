"""Credentials come from the AuthContext only: service account key, access token, anonymous,
impersonation; never the ambient environment.

Server: gcp-storage-emulator behind the recording proxy, which records the Authorization
header each request carried. Token issuance (a key's token_uri, the IAM Credentials
generateAccessToken call) is answered by ``FakeGoogleAuthServer`` on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner_backend_gcs.credentials import GcpCredentials
from provisioner_core import EXIT_CONFIG, EXIT_PERMISSION, AuthContext, ConfigError, PermissionDenied, Status
from support.gcs_helpers import backend_for, run
from support.gcs_servers import FakeGoogleAuthServer, RecordingProxy, closed_port_url, service_account_key_file

SA = "terraform@state-project.iam.gserviceaccount.com"


@pytest.fixture()
def google_auth() -> Iterator[FakeGoogleAuthServer]:
    server = FakeGoogleAuthServer()
    yield server
    server.stop()


@pytest.fixture()
def iam_endpoint(google_auth: FakeGoogleAuthServer, monkeypatch: pytest.MonkeyPatch) -> FakeGoogleAuthServer:
    """Send google-auth's generateAccessToken call to the fake IAM Credentials server."""
    from google.auth import iam, impersonated_credentials

    # google-auth keeps the template in google.auth.iam; before 2.30 it lived in impersonated_credentials.
    monkeypatch.setattr(iam if hasattr(iam, "_IAM_ENDPOINT") else impersonated_credentials, "_IAM_ENDPOINT", google_auth.iam_endpoint_template)
    return google_auth


def test_access_token_is_sent_as_bearer(proxy: RecordingProxy, bucket_name: str) -> None:
    auth = AuthContext({"gcp": GcpCredentials("access-token", token="ya29.test-token")})
    result = run(proxy.url, bucket_name, auth=auth)
    assert result.status is Status.CREATED
    assert {r.authorization for r in proxy.requests} == {"Bearer ya29.test-token"}
    assert "ya29.test-token" not in json.dumps(result.to_dict())


def test_anonymous_sends_no_authorization(proxy: RecordingProxy, bucket_name: str) -> None:
    run(proxy.url, bucket_name)
    assert {r.authorization for r in proxy.requests} == {None}


def test_service_account_key_is_exchanged_at_its_token_uri(proxy: RecordingProxy, google_auth: FakeGoogleAuthServer, bucket_name: str, tmp_path: Path) -> None:
    key = service_account_key_file(tmp_path, google_auth.url + "/token")
    auth = AuthContext({"gcp": GcpCredentials("service-account-file", file=str(key))})

    result = run(proxy.url, bucket_name, auth=auth)

    assert result.status is Status.CREATED
    assert [path for path, _, _ in google_auth.requests] == ["/token"]
    assert b"jwt-bearer" in google_auth.requests[0][2]  # a signed JWT assertion grant
    assert {r.authorization for r in proxy.requests} == {"Bearer sa-token"}


def test_permission_hint_names_the_service_account(proxy: RecordingProxy, google_auth: FakeGoogleAuthServer, bucket_name: str, tmp_path: Path) -> None:
    key = service_account_key_file(tmp_path, google_auth.url + "/token", email="ci-bot@test-project.iam.gserviceaccount.com")
    proxy.fail("GET", r"^/storage/v1/b/", 403)
    with pytest.raises(PermissionDenied) as info:
        run(proxy.url, bucket_name, auth=AuthContext({"gcp": GcpCredentials("service-account-file", file=str(key))}))
    assert "ci-bot@test-project.iam.gserviceaccount.com" in info.value.hints[0]


def test_a_401_names_the_service_account_whose_credentials_were_rejected(proxy: RecordingProxy, google_auth: FakeGoogleAuthServer, bucket_name: str, tmp_path: Path) -> None:
    key = service_account_key_file(tmp_path, google_auth.url + "/token", email="ci-bot@test-project.iam.gserviceaccount.com")
    proxy.fail("GET", r"^/storage/v1/b/", 401, times=5)  # refreshed once by google-auth, refused again
    with pytest.raises(PermissionDenied) as info:
        run(proxy.url, bucket_name, auth=AuthContext({"gcp": GcpCredentials("service-account-file", file=str(key))}))
    assert info.value.message.startswith("GCS rejected the credentials of ci-bot@test-project.iam.gserviceaccount.com (401) to get gcs bucket")
    assert info.value.context["identity"] == "ci-bot@test-project.iam.gserviceaccount.com"
    assert not any("Grant" in h for h in info.value.hints)


@pytest.mark.parametrize("content", [None, "{not json", json.dumps({"type": "authorized_user"})])
def test_unreadable_or_wrong_key_file_is_exit_2(tmp_path: Path, bucket_name: str, content: str | None) -> None:
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    auth = AuthContext({"gcp": GcpCredentials("service-account-file", file=str(path))})
    with pytest.raises(ConfigError) as info:
        run(closed_port_url(), bucket_name, auth=auth)
    assert info.value.exit_code == EXIT_CONFIG and str(path) in info.value.message


def test_impersonation_uses_the_target_token(proxy: RecordingProxy, iam_endpoint: FakeGoogleAuthServer, bucket_name: str) -> None:
    auth = AuthContext({"gcp": GcpCredentials("access-token", token="source-token")})
    backend = backend_for(proxy.url, bucket_name, impersonate_service_account=SA, impersonate_service_account_delegates=["middle@p.iam.gserviceaccount.com"])

    result = run(proxy.url, bucket_name, auth=auth, backend=backend)

    assert result.status is Status.CREATED
    (path, authorization, body), *_ = iam_endpoint.requests
    assert path == f"/v1/projects/-/serviceAccounts/{SA}:generateAccessToken"
    assert authorization == "Bearer source-token"
    assert json.loads(body)["delegates"] == ["projects/-/serviceAccounts/middle@p.iam.gserviceaccount.com"]
    assert {r.authorization for r in proxy.requests} == {"Bearer impersonated-token"}
    assert result.details["impersonated_service_account"] == SA


def test_impersonation_refused_is_exit_3_naming_token_creator(proxy: RecordingProxy, iam_endpoint: FakeGoogleAuthServer, bucket_name: str) -> None:
    iam_endpoint.iam_status = 403
    auth = AuthContext({"gcp": GcpCredentials("access-token", token="source-token")})
    with pytest.raises(PermissionDenied) as info:
        run(proxy.url, bucket_name, auth=auth, backend=backend_for(proxy.url, bucket_name, impersonate_service_account=SA))
    assert info.value.exit_code == EXIT_PERMISSION
    assert any("serviceAccountTokenCreator" in h and SA in h for h in info.value.hints)
    assert proxy.requests == []  # nothing reached storage without a token


def test_impersonating_from_anonymous_is_a_config_error(bucket_name: str) -> None:
    with pytest.raises(ConfigError, match="anonymous"):
        run(closed_port_url(), bucket_name, backend=backend_for(closed_port_url(), bucket_name, impersonate_service_account=SA))


def test_missing_gcp_auth_is_exit_2_and_mentions_terraform_only_credentials(bucket_name: str) -> None:
    backend = backend_for(closed_port_url(), bucket_name, credentials="/path/key.json")
    with pytest.raises(ConfigError) as info:
        run(closed_port_url(), bucket_name, auth=AuthContext({}), backend=backend)
    assert info.value.exit_code == EXIT_CONFIG
    assert "never use ambient credentials" in info.value.message
    assert any("for Terraform only" in h for h in info.value.hints)


def test_ambient_environment_is_ignored(proxy: RecordingProxy, bucket_name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Ambient credentials and endpoint overrides that would break (or redirect) the run if read.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "does-not-exist.json"))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", closed_port_url())
    monkeypatch.setenv("API_ENDPOINT_OVERRIDE", closed_port_url())
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "ambient-project")

    result = run(proxy.url, bucket_name, {"project": None}, auth=AuthContext({"gcp": GcpCredentials("anonymous", project="configured")}))

    assert result.status is Status.CREATED
    assert any("project=configured" in r.query for r in proxy.requests if r.method == "POST")
