"""Error mapping over real HTTP: only a 404 means "missing"; 403 -> 3, 409 -> 4 or continue, network -> 5.

Server: gcp-storage-emulator behind the recording proxy. The emulator never answers 401,
403, 412 or 503, so the proxy answers those itself with GCS-shaped JSON errors (said in
each test); 404 and 409 come from the emulator where it can give them.
"""

from __future__ import annotations

import time

import pytest

from provisioner_backend_gcs.credentials import GcpCredentials
from provisioner_core import (
    EXIT_CONFIG,
    EXIT_CONFLICT,
    EXIT_NETWORK,
    EXIT_PERMISSION,
    AuthContext,
    ConfigError,
    NetworkError,
    PermissionDenied,
    ResourceConflict,
    Status,
)
from support.gcs_helpers import raw_bucket, run, sdk_client
from support.gcs_servers import RecordingProxy, closed_port_url
from support.servers import ServerProcess

BUCKET_PATH = r"^/storage/v1/b/[^/]+$"
CREATE_PATH = r"^/storage/v1/b$"


def test_403_on_read_is_permission_denied_listing_the_permission_and_never_creates(proxy: RecordingProxy, bucket_name: str) -> None:
    # Proxy-injected 403 (Terragrunt would call this "missing" and try to create).
    proxy.fail("GET", BUCKET_PATH, 403, reason="caller does not have storage.buckets.get access")

    with pytest.raises(PermissionDenied) as info:
        run(proxy.url, bucket_name)

    error = info.value
    assert error.exit_code == EXIT_PERMISSION
    assert error.context["permissions"] == "storage.buckets.get"
    assert "roles/storage.admin" in error.hints[0] and "another project" in " ".join(error.hints)
    assert proxy.writes() == []


def test_403_on_patch_names_storage_buckets_update(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    sdk_client(gcs_emulator.url).create_bucket(bucket_name)
    proxy.fail("PATCH", BUCKET_PATH, 403)

    with pytest.raises(PermissionDenied) as info:
        run(proxy.url, bucket_name)
    assert "storage.buckets.update" in info.value.context["permissions"]


def test_403_on_create_with_a_kms_key_points_at_the_service_agent(proxy: RecordingProxy, bucket_name: str) -> None:
    proxy.fail("POST", CREATE_PATH, 403)
    key = "projects/p/locations/us/keyRings/r/cryptoKeys/k"

    with pytest.raises(PermissionDenied) as info:
        run(proxy.url, bucket_name, {"kms_key": key})
    assert "storage.buckets.create" in info.value.context["permissions"]
    assert any("service agent" in h and key in h for h in info.value.hints)


def test_401_says_the_credentials_were_rejected_and_never_shows_the_token(proxy: RecordingProxy, bucket_name: str) -> None:
    proxy.fail("GET", BUCKET_PATH, 401, reason="Invalid Credentials")
    auth = AuthContext({"gcp": GcpCredentials("access-token", token="ya29.SECRET-TOKEN")})

    with pytest.raises(PermissionDenied) as info:
        run(proxy.url, bucket_name, auth=auth)
    assert any("401" in h for h in info.value.hints)
    # A token cannot refresh itself: said as unusable credentials, never as a missing grant.
    assert "credentials" in info.value.message and not any("Grant" in h for h in info.value.hints)
    assert "SECRET-TOKEN" not in str(info.value.to_dict())
    assert proxy.requests[0].authorization == "Bearer ya29.SECRET-TOKEN"  # it was sent, as a header only


def test_409_from_a_concurrent_create_continues_with_the_existing_bucket(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    # Our read sees 404 (proxy), then another run creates it: the emulator's real 409 answers our create.
    sdk_client(gcs_emulator.url).create_bucket(bucket_name)
    proxy.fail("GET", BUCKET_PATH, 404)

    result = run(proxy.url, bucket_name)

    assert result.status is Status.UPDATED  # not "created": someone else created it
    assert any("409" in w for w in result.warnings)
    assert [c.split(" ")[0] for c in proxy.calls()] == ["GET", "POST", "GET", "PATCH"]
    assert raw_bucket(gcs_emulator.url, bucket_name)["versioning"]["enabled"] is True


def test_409_for_a_bucket_we_cannot_read_is_a_conflict_exit_4(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    # Real 409 from the emulator; the proxy plays "another project": 404 to our first read, 403 to the second.
    sdk_client(gcs_emulator.url).create_bucket(bucket_name)
    proxy.fail("GET", BUCKET_PATH, 404)
    proxy.fail("GET", BUCKET_PATH, 403)

    with pytest.raises(ResourceConflict) as info:
        run(proxy.url, bucket_name)
    assert info.value.exit_code == EXIT_CONFLICT
    assert "another project" in info.value.message and "choose another" in info.value.hints[0]
    assert [w.method for w in proxy.writes()] == ["POST"]


def test_409_for_a_bucket_that_stays_invisible_is_a_conflict(proxy: RecordingProxy, bucket_name: str) -> None:
    proxy.fail("POST", CREATE_PATH, 409, reason="Sorry, that name is not available.")
    with pytest.raises(ResourceConflict, match="not visible"):
        run(proxy.url, bucket_name)


def test_lost_create_response_is_retried_and_the_409_is_recognised_as_ours(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    # The proxy forwards the create, then drops the connection: the bucket exists but we never heard.
    proxy.fail("POST", CREATE_PATH, None, after_forward=True)

    result = run(proxy.url, bucket_name, {"attempts": 3})

    assert [c.split(" ")[0] for c in proxy.calls()] == ["GET", "POST", "POST", "GET", "PATCH"]
    assert result.status is Status.UPDATED
    assert raw_bucket(gcs_emulator.url, bucket_name)["iamConfiguration"]["publicAccessPrevention"] == "enforced"


def test_transient_503_is_retried_then_succeeds(proxy: RecordingProxy, bucket_name: str) -> None:
    proxy.fail("GET", BUCKET_PATH, 503, times=2)  # proxy-injected
    result = run(proxy.url, bucket_name, {"attempts": 3})
    assert result.status is Status.CREATED
    assert [r.forwarded for r in proxy.requests[:3]] == [False, False, True]


def test_503_that_never_ends_is_a_network_error_after_the_configured_attempts(proxy: RecordingProxy, bucket_name: str) -> None:
    proxy.fail("GET", BUCKET_PATH, 503, times=10)
    with pytest.raises(NetworkError) as info:
        run(proxy.url, bucket_name, {"attempts": 2})
    assert info.value.exit_code == EXIT_NETWORK
    assert "after 2 attempt(s)" in info.value.message
    assert len(proxy.requests) == 2


def test_unreachable_endpoint_is_exit_5_naming_the_endpoint_quickly(bucket_name: str) -> None:
    url = closed_port_url()
    started = time.monotonic()
    with pytest.raises(NetworkError) as info:
        run(url, bucket_name, {"attempts": 2})
    assert url in info.value.message
    assert time.monotonic() - started < 5  # no SDK-default 120 s retry deadline


def test_412_on_patch_rereads_and_retries_once(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    sdk_client(gcs_emulator.url).create_bucket(bucket_name)
    proxy.fail("PATCH", BUCKET_PATH, 412)  # proxy-injected: the emulator ignores ifMetagenerationMatch

    result = run(proxy.url, bucket_name)

    assert result.status is Status.UPDATED
    assert [(r.method, r.forwarded) for r in proxy.requests] == [("GET", True), ("PATCH", False), ("GET", True), ("PATCH", True)]
    assert "ifMetagenerationMatch=" in proxy.requests[1].query


def test_412_twice_is_a_conflict(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    sdk_client(gcs_emulator.url).create_bucket(bucket_name)
    proxy.fail("PATCH", BUCKET_PATH, 412, times=2)
    with pytest.raises(ResourceConflict, match="412 twice") as info:
        run(proxy.url, bucket_name)
    assert info.value.exit_code == EXIT_CONFLICT


def test_400_on_create_is_a_config_error_with_the_server_message(proxy: RecordingProxy, bucket_name: str) -> None:
    proxy.fail("POST", CREATE_PATH, 400, reason="The specified location constraint is not valid.")
    with pytest.raises(ConfigError) as info:
        run(proxy.url, bucket_name, {"location": "mars-north1"})
    assert info.value.exit_code == EXIT_CONFIG
    assert "location constraint is not valid" in info.value.message


def test_412_on_the_patch_after_create_is_handled_too(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    proxy.fail("PATCH", BUCKET_PATH, 412)  # proxy-injected, right after the emulator's create

    result = run(proxy.url, bucket_name)

    assert result.status is Status.CREATED
    assert [(r.method, r.forwarded) for r in proxy.requests] == [("GET", True), ("POST", True), ("PATCH", False), ("GET", True), ("PATCH", True)]
    assert raw_bucket(gcs_emulator.url, bucket_name)["versioning"]["enabled"] is True


def test_a_failure_after_creating_says_the_bucket_exists_and_what_it_lacks(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    proxy.fail("PATCH", BUCKET_PATH, 403)  # the emulator ignored the settings sent at create; the PATCH is refused

    with pytest.raises(PermissionDenied) as info:
        run(proxy.url, bucket_name)

    message = info.value.message
    assert f"(gcs bucket {bucket_name} exists: this run created it; it still lacks versioning, uniform_access" in message
    assert info.value.context["created"] == f"gcs bucket {bucket_name}" and "versioning" in info.value.context["missing"]
    assert raw_bucket(gcs_emulator.url, bucket_name)["name"] == bucket_name  # it really exists
