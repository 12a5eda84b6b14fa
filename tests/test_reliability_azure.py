"""Reliability of the azurerm backend's data plane against a real Azurite (issue 9).

Azurite 3.35 stores containers, container metadata and ACLs (public access, stored access
policies), blobs with leases, and the blob service properties (``DeleteRetentionPolicy``, CORS,
logging). The management plane (ARM) has no emulator and is not exercised here. Every request
goes through ``support.reliability_cloud.FaultProxy`` on loopback, which records it (the proof
"at the server") and injects 503 ServerBusy / 429 / resets when told. The CLI runs in-process
(``run_cli``) or as real OS processes (``race_cli``, ``cli_subprocess``).
"""

from __future__ import annotations

import types
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from provisioner_core.plugins.manager import PluginRegistry
from support.azurite import INSTALL_HINT, AzuriteServer, account_key, find_azurite, start_azurite
from support.reliability_cloud import (
    BACKEND_ARGS,
    FaultProxy,
    assert_clean_failure,
    azure_stack,
    cli_subprocess,
    json_results,
    race_cli,
    run_cli,
)

POOL = tuple(f"relacct{i:03d}" for i in range(1, 61))
METADATA = {"team": "platform"}


@pytest.fixture(scope="module")
def azurite() -> Iterator[AzuriteServer]:
    if find_azurite() is None:
        pytest.fail(f"Azurite is required for the Azure reliability tests and was not found; {INSTALL_HINT}", pytrace=False)
    server = start_azurite({name: account_key(name) for name in POOL})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def _accounts() -> Iterator[str]:
    return iter(POOL)


@pytest.fixture
def account(_accounts: Iterator[str]) -> str:
    """An account no other test touched (blob service properties at Azurite's defaults)."""
    name = next(_accounts, None)
    if name is None:
        pytest.fail(f"the account pool ({len(POOL)}) is used up; raise POOL", pytrace=False)
    return name


@pytest.fixture
def container() -> str:
    return f"tfstate-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    return PluginRegistry(environ={}).load()


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the retry delays instead of sleeping them (in-process runs only; start servers before asking for it).

    The retry budget is counted in attempts, and both the storage SDK's policy and the backend's
    429 retry sleep through ``time.sleep``: recording keeps every attempt and makes the delays
    assertable instead of waited for (about 1 s, 2 s, 4 s, at most 8 s, with jitter).
    """
    return record_sleeps(monkeypatch)


def record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The two places a data-plane retry waits, recorded instead of slept: the storage SDK's policy
    (through azure-core's ``HttpTransport.sleep``, which the storage clients' transports inherit)
    and the backend's 429 retry (``client.time.sleep``). The attempts are real; the waits are asserted, not waited."""
    from azure.core.pipeline.transport import HttpTransport

    import provisioner_backend_azure.client as azure_client

    delays: list[float] = []
    monkeypatch.setattr(HttpTransport, "sleep", lambda _self, seconds: delays.append(seconds))
    monkeypatch.setattr(azure_client, "time", types.SimpleNamespace(sleep=delays.append))
    return delays


@pytest.fixture
def proxy(azurite: AzuriteServer) -> Iterator[FaultProxy]:
    recording = FaultProxy(azurite.url, "azure")
    yield recording
    recording.stop()


def admin(azurite: AzuriteServer, account: str) -> Any:
    """A client straight to Azurite (not through the proxy), to arrange and to assert."""
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient.from_connection_string(azurite.connection_string(account))


def connection_auth(azurite: AzuriteServer, account: str, proxy: FaultProxy) -> dict[str, str]:
    return {"type": "connection-string", "connection_string": azurite.connection_string(account, base=proxy.url)}


def assert_fully_configured(azurite: AzuriteServer, account: str, container: str, metadata: dict[str, str] = METADATA, retention: int = 30) -> None:
    service = admin(azurite, account)
    properties = service.get_container_client(container).get_container_properties()
    assert properties.public_access is None  # private
    assert dict(properties.metadata) == {"managed_by": "provisioner", **metadata}
    policy = service.get_service_properties()["delete_retention_policy"]
    assert (policy.enabled, policy.days) == (True, retention)
    assert [c.name for c in service.list_containers()] == [container]  # one container, no stray ones


def is_container_create(method: str, path: str) -> bool:
    return method == "PUT" and path.strip("/").count("/") == 1


def is_service_properties(method: str, path: str) -> bool:
    return method == "PUT" and path.strip("/").count("/") == 0


# --- 1. concurrency ---------------------------------------------------------------------------------


def test_eight_processes_create_one_private_container(azurite, proxy, account, container, tmp_path):
    root = azure_stack(tmp_path, account=account, container=container, auth=connection_auth(azurite, account, proxy), options={"metadata": METADATA}).root
    # All 8 container reads reach Azurite together (all see 404), then all 8 creates do (one wins, 7 get 409).
    proxy.hold(lambda m, p: m == "GET" and p == f"/{account}/{container}", 8)
    proxy.hold(lambda m, p: m == "PUT" and p == f"/{account}/{container}", 8)

    results = race_cli(root, 8, preload="azure.storage.blob", args=[*BACKEND_ARGS, "-o", "json"])

    assert [r.exit_code for r in results] == [0] * 8, [r.stderr for r in results]
    assert all("Traceback" not in r.stderr for r in results)
    statuses = Counter(json_results(r.stdout)[0]["status"] for r in results)
    assert statuses["created"] == 1, statuses
    assert set(statuses) <= {"created", "updated", "unchanged"}, statuses
    assert_fully_configured(azurite, account, container)
    creates = [s.status for s in proxy.seen if is_container_create(s.method, s.path) and "restype=container" in s.query and "comp=" not in s.query]
    assert proxy.broken_holds == 0
    assert sorted(creates) == [201] + [409] * 7, creates
    print(
        f"\nFIGURES azure-race azurite: 8 processes, exits {[r.exit_code for r in results]}, statuses {dict(statuses)}, "
        f"container creates reaching the server {len(creates)} (409: {creates.count(409)}), "
        f"retention PUTs {sum(is_service_properties(s.method, s.path) for s in proxy.seen)}, requests {len(proxy.seen)}"
    )


def test_eight_processes_strengthen_one_existing_container_without_losing_metadata(azurite, proxy, account, container, tmp_path):
    from azure.storage.blob import RetentionPolicy

    service = admin(azurite, account)
    service.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True, days=90))
    service.create_container(container, metadata={"owner": "alice", "costcenter": "cc42"})
    root = azure_stack(tmp_path, account=account, container=container, auth=connection_auth(azurite, account, proxy), options={"metadata": METADATA}).root
    # 8 reads of the container together, then 8 metadata writes together (each a merge of what it read).
    proxy.hold(lambda m, p: m == "GET" and p == f"/{account}/{container}", 8)
    proxy.hold(lambda m, p: m == "PUT" and p == f"/{account}/{container}", 8)

    results = race_cli(root, 8, preload="azure.storage.blob")

    assert [r.exit_code for r in results] == [0] * 8, [r.stderr for r in results]
    assert proxy.broken_holds == 0
    assert [s.query for s in proxy.seen if s.method == "PUT"] == ["restype=container&comp=metadata"] * 8
    properties = service.get_container_client(container).get_container_properties()
    assert dict(properties.metadata) == {"owner": "alice", "costcenter": "cc42", "managed_by": "provisioner", **METADATA}
    assert properties.public_access is None
    policy = service.get_service_properties()["delete_retention_policy"]
    assert (policy.enabled, policy.days) == (True, 90)
    assert not [s for s in proxy.seen if is_service_properties(s.method, s.path)]  # 90 days is never "raised" to 30


# --- 2. injected faults -------------------------------------------------------------------------------

FAULT_MATRIX = [(0.2, 3), (0.4, 3), (0.6, 3), (0.6, 6), (1.0, 3)]
SEEDS = (1, 2, 3, 4)


def test_injected_faults_converge_or_fail_with_exit_5_never_half_configured(azurite, proxy, registry, tmp_path, _accounts, backoff):
    outcomes: list[tuple[float, int, int, int, int, float]] = []
    kinds: Counter[str] = Counter()
    requests = 0
    for share, retries in FAULT_MATRIX:
        for seed in SEEDS:
            account = next(_accounts)
            container = f"tfstate-{uuid.uuid4().hex[:12]}"
            auth = connection_auth(azurite, account, proxy)
            root = azure_stack(tmp_path / f"{share}-{seed}", account=account, container=container, auth=auth, options={"metadata": METADATA, "attempts": retries}).root
            proxy.clear()
            proxy.configure(share=share, seed=seed)
            waited = len(backoff)
            result = run_cli(root, registry=registry)
            elapsed = sum(backoff[waited:])
            kinds.update(s.fault for s in proxy.faults() if s.fault)
            requests += len(proxy.seen)
            outcomes.append((share, retries, seed, result.exit_code, len(proxy.faults()), round(elapsed, 1)))
            assert "Traceback" not in result.output, result.output
            if result.exit_code == 0:
                assert_fully_configured(azurite, account, container)
                continue
            error = assert_clean_failure(result.exit_code, result.stdout, result.stderr, 5, f"{proxy.url}/{account}")
            assert f"after {retries} attempt(s)" in result.stderr, error  # the budget is said to be spent
            proxy.configure(share=0)
            assert run_cli(root, registry=registry).exit_code == 0
            assert_fully_configured(azurite, account, container)

    exits = Counter(o[3] for o in outcomes)
    assert set(exits) <= {0, 5}, outcomes
    assert all(o[3] == 5 for o in outcomes if o[0] == 1.0)
    assert exits[0] >= 1 and exits[5] >= 1, outcomes
    assert backoff and max(backoff) <= 8, backoff  # capped: about 1 s, 2 s, 4 s, then 8 s at most (the SDK's formula reached 33 s at the 5th retry)
    print(
        f"\nFIGURES azure-faults azurite: {len(outcomes)} runs (shares x retries {FAULT_MATRIX}, seeds {SEEDS}), {requests} requests, "
        f"{sum(kinds.values())} faults {dict(kinds)}; exit 0 (fully configured): {exits[0]}, exit 5 (then repaired): {exits[5]}; "
        f"per run (share, retries, seed, exit, faults, backoff seconds): {outcomes}"
    )


def test_throttling_429_is_retried_like_503(azurite, proxy, registry, account, container, tmp_path, backoff):
    root = azure_stack(tmp_path, account=account, container=container, auth=connection_auth(azurite, account, proxy), options={"metadata": METADATA}).root
    proxy.configure(share=1.0, kinds=("429",), limit=2)  # the first two requests are throttled, then answered on retry

    result = run_cli(root, registry=registry)

    assert result.exit_code == 0, result.output
    throttled, answered = proxy.seen[:2], proxy.seen[2:]
    assert [s.status for s in throttled] == [429, 429] and 429 not in {s.status for s in answered}
    # the container probe and the service-properties read run side by side, so either retry may come first
    for first in throttled:
        retry = next(s for s in answered if (s.method, s.path, s.query) == (first.method, first.path, first.query))
        assert retry.status is not None and retry.status < 500, retry
    assert len(backoff) == 2 and all(0 < d <= 8 for d in backoff), backoff
    assert_fully_configured(azurite, account, container)


def test_a_lost_container_create_response_is_not_reported_as_someone_elses(azurite, proxy, registry, account, container, tmp_path, backoff):
    root = azure_stack(tmp_path, account=account, container=container, auth=connection_auth(azurite, account, proxy), options={"metadata": METADATA}).root
    proxy.configure(share=1.0, kinds=("lost",), only=is_container_create, limit=1)

    result = run_cli(root, [*BACKEND_ARGS, "-o", "json"], registry=registry)

    assert result.exit_code == 0, result.output
    assert [s.status for s in proxy.seen if is_container_create(s.method, s.path) and "comp=" not in s.query] == [None, 409]
    assert_fully_configured(azurite, account, container)
    report = json_results(result.stdout)[0]
    assert "lost" in " ".join(report["warnings"]), report["warnings"]  # it may well have been this run's own create
    create = next(a for a in report["actions"] if a["verb"] == "create-container")
    assert report["status"] != "created" and "answered 409" in create["detail"], report


# --- 3. the server stopped mid-run -----------------------------------------------------------------------


@pytest.mark.parametrize("when", ["during-retention", "during-container"])
def test_server_stopped_mid_run_exits_5_naming_the_endpoint(when, registry, container, tmp_path, monkeypatch):
    server = start_azurite()  # a dedicated instance: this test kills it
    proxy = FaultProxy(server.url, "azure")
    delays = record_sleeps(monkeypatch)  # after the start-up wait
    try:
        proxy.stop_server_on(is_service_properties if when == "during-retention" else is_container_create, server)
        root = azure_stack(tmp_path, account="devstoreaccount1", container=container, auth=connection_auth(server, "devstoreaccount1", proxy)).root
        result = run_cli(root, registry=registry)
    finally:
        proxy.stop()
        server.stop()

    assert server.process.poll() is not None
    endpoint = f"{proxy.url}/devstoreaccount1"
    assert_clean_failure(result.exit_code, result.stdout, result.stderr, 5, endpoint)
    hint = next(line for line in result.stderr.splitlines() if line.startswith("Hint:"))
    assert endpoint in hint, result.stderr
    assert "***" not in result.stderr  # nothing but secrets is masked (the SAS scrubber once ate "host=")
    assert len(delays) == 2 and sum(delays) <= 3, delays  # 3 attempts (the default): at most 1 s + 2 s of backoff


# --- 4. never clobber, never weaken ----------------------------------------------------------------------


def test_existing_container_keeps_metadata_access_policies_and_a_longer_retention(azurite, proxy, registry, account, container, tmp_path):
    from azure.storage.blob import AccessPolicy, ContainerSasPermissions, CorsRule, RetentionPolicy

    service = admin(azurite, account)
    cors = [CorsRule(["https://portal.example.com"], ["GET", "HEAD"], max_age_in_seconds=300)]
    service.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True, days=90), cors=cors)
    client = service.create_container(container, metadata={"owner": "alice", "costcenter": "cc42", "managed_by": "platform_team"})
    policy = AccessPolicy(permission=ContainerSasPermissions(read=True), expiry="2099-01-01T00:00:00Z", start="2020-01-01T00:00:00Z")
    client.set_container_access_policy(signed_identifiers={"readers": policy})
    root = azure_stack(tmp_path, account=account, container=container, auth=connection_auth(azurite, account, proxy), options={"metadata": METADATA}).root

    result = run_cli(root, [*BACKEND_ARGS, "-o", "json"], registry=registry)

    assert result.exit_code == 0, result.output
    metadata = client.get_container_properties().metadata
    assert metadata["owner"] == "alice"
    assert metadata["costcenter"] == "cc42"
    assert metadata["managed_by"] == "platform_team"  # another manager's claim is left alone
    assert metadata["team"] == "platform"
    retention = service.get_service_properties()
    assert (retention["delete_retention_policy"].enabled, retention["delete_retention_policy"].days) == (True, 90)  # never lowered to 30
    assert [(r.allowed_origins, r.allowed_methods) for r in retention["cors"]] == [("https://portal.example.com", "GET,HEAD")]
    identifiers = client.get_container_access_policy()["signed_identifiers"]
    assert [i.id for i in identifiers] == ["readers"]
    writes = [(s.method, s.query) for s in proxy.seen if s.method != "GET"]
    assert writes == [("PUT", "restype=container&comp=metadata")], writes  # no service-properties PUT at all
    kept = {d["setting"] for d in json_results(result.stdout)[0]["drift"] if d["resolution"] == "kept"}
    assert "metadata.managed_by" in kept


def test_raising_retention_keeps_cors_and_logging_and_making_private_keeps_access_policies(azurite, proxy, registry, account, container, tmp_path):
    from azure.storage.blob import AccessPolicy, BlobAnalyticsLogging, ContainerSasPermissions, CorsRule, RetentionPolicy

    service = admin(azurite, account)
    service.set_service_properties(
        cors=[CorsRule(["https://portal.example.com"], ["GET"], max_age_in_seconds=60)],
        analytics_logging=BlobAnalyticsLogging(read=True, write=True, retention_policy=RetentionPolicy(enabled=True, days=5)),
    )
    client = service.create_container(container, public_access="blob", metadata={"owner": "alice"})
    policy = AccessPolicy(permission=ContainerSasPermissions(read=True, list=True), expiry="2099-01-01T00:00:00Z")
    client.set_container_access_policy(signed_identifiers={"auditors": policy}, public_access="blob")
    root = azure_stack(tmp_path, account=account, container=container, auth=connection_auth(azurite, account, proxy), options={"metadata": METADATA}).root

    result = run_cli(root, registry=registry)

    assert result.exit_code == 0, result.output
    after = service.get_service_properties()
    assert (after["delete_retention_policy"].enabled, after["delete_retention_policy"].days) == (True, 30)
    assert [r.allowed_origins for r in after["cors"]] == ["https://portal.example.com"]
    assert (after["analytics_logging"].read, after["analytics_logging"].write, after["analytics_logging"].retention_policy.days) == (True, True, 5)
    properties = client.get_container_properties()
    assert properties.public_access is None
    assert dict(properties.metadata) == {"owner": "alice", "managed_by": "provisioner", "team": "platform"}
    assert [i.id for i in client.get_container_access_policy()["signed_identifiers"]] == ["auditors"]


# --- 5. state blobs ------------------------------------------------------------------------------------------

STATE = b'{"version": 4, "terraform_version": "1.11.0", "serial": 3, "lineage": "reliability", "outputs": {}, "resources": []}'


def test_provisioning_never_touches_a_state_blob_even_while_repairing_drift(azurite, proxy, registry, account, container, tmp_path):
    service = admin(azurite, account)
    client = service.create_container(container, public_access="blob")  # drift: public, no metadata, no soft delete
    blob = client.get_blob_client("app/terraform.tfstate")
    blob.upload_blob(STATE, metadata={"terraformlockid": "none"})
    lease = blob.acquire_lease(lease_duration=-1)  # as terraform holds its lock
    before = blob.get_blob_properties()
    root = azure_stack(tmp_path, account=account, container=container, auth=connection_auth(azurite, account, proxy), options={"metadata": METADATA}).root

    repaired = run_cli(root, [*BACKEND_ARGS, "-o", "json"], registry=registry)
    again = run_cli(root, registry=registry)
    dry = run_cli(root, [*BACKEND_ARGS, "--dry-run"], registry=registry)

    assert (repaired.exit_code, again.exit_code, dry.exit_code) == (0, 0, 0), repaired.output
    assert json_results(repaired.stdout)[0]["status"] == "updated"
    after = blob.get_blob_properties()
    assert (after.etag, after.last_modified, after.size, after.content_settings.content_md5) == (
        before.etag, before.last_modified, before.size, before.content_settings.content_md5,
    )  # fmt: skip
    assert dict(after.metadata) == {"terraformlockid": "none"}
    assert (after.lease.state, after.lease.status) == ("leased", "locked")  # terraform's lock is still held
    assert blob.download_blob(lease=lease).readall() == STATE
    assert [b.name for b in client.list_blobs()] == ["app/terraform.tfstate"]
    blob_requests = [f"{s.method} {s.path}" for s in proxy.reached_server() if s.path.strip("/").count("/") >= 2]
    assert blob_requests == []  # nothing on any blob reached the server
    assert not [s for s in proxy.seen if s.method == "DELETE"]
    lease.release()


# --- 6. ambient credentials --------------------------------------------------------------------------------


@pytest.fixture
def ambient(azurite: AzuriteServer, _accounts: Iterator[str]) -> Iterator[tuple[dict[str, str], FaultProxy, str]]:
    """Another account (through a decoy proxy that must see nothing) and another principal, in every AZURE_* variable."""
    other = next(_accounts)
    decoy = FaultProxy(azurite.url, "azure")
    env = {
        "AZURE_CLIENT_ID": "99999999-8888-7777-6666-555555555555",
        "AZURE_CLIENT_SECRET": "ambient-client-secret",
        "AZURE_TENANT_ID": "00000000-1111-2222-3333-444444444444",
        "AZURE_AUTHORITY_HOST": decoy.url,
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string(other, base=decoy.url),
        "AZURE_STORAGE_ACCOUNT": other,
        "AZURE_STORAGE_KEY": account_key(other),
        "AZURE_STORAGE_SAS_TOKEN": "sv=2020-08-04&ss=b&srt=sco&sp=rwdlac&se=2099-01-01&sig=ambient",
        "ARM_ACCESS_KEY": account_key(other),
        # Anything that tried https://<account>.blob.core.windows.net or Azure AD would land in the decoy (no DNS, no internet).
        "HTTPS_PROXY": decoy.url,
        "HTTP_PROXY": decoy.url,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    yield env, decoy, other
    decoy.stop()


@pytest.mark.parametrize("identity", ["connection-string", "account-key", "sas"])
def test_every_request_carries_the_auth_context_account_not_the_ambient_one(identity, ambient, azurite, proxy, account, container, tmp_path):
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    env, decoy, other = ambient
    endpoint = f"{proxy.url}/{account}"
    if identity == "connection-string":
        auth: dict[str, str] = connection_auth(azurite, account, proxy)
    elif identity == "account-key":
        auth = {"type": "account-key", "account_name": account, "account_key": account_key(account), "blob_endpoint": endpoint}
    else:
        sas = generate_account_sas(
            account, account_key(account), ResourceTypes(service=True, container=True), AccountSasPermissions(read=True, write=True, list=True, create=True),
            expiry="2099-01-01T00:00:00Z",
        )  # fmt: skip
        auth = {"type": "sas", "account_name": account, "sas_token": sas, "blob_endpoint": endpoint}
    root = azure_stack(tmp_path, account=account, container=container, auth=auth, options={"metadata": METADATA}).root

    created = cli_subprocess(root, env=env)
    again = cli_subprocess(root, env=env)

    assert (created.exit_code, again.exit_code) == (0, 0), created.stderr + again.stderr
    assert_fully_configured(azurite, account, container)
    assert len(proxy.seen) >= 5  # service properties GET + PUT, container GET + PUT, then GETs
    assert all(s.path.startswith(f"/{account}") for s in proxy.seen), [s.path for s in proxy.seen]
    if identity == "sas":
        assert {s.header("Authorization") for s in proxy.seen} == {None}
        assert all("sig=" in s.query for s in proxy.seen)
    else:
        assert {(s.header("Authorization") or "").split(":")[0] for s in proxy.seen} == {f"SharedKey {account}"}
    assert decoy.seen == []
    assert list(admin(azurite, other).list_containers()) == []  # the ambient account was never used
