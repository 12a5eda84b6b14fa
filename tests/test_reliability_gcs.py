"""Reliability of the gcs backend against real local GCS servers (issue 9).

Servers: **gcp-storage-emulator** (keeps every bucket setting once PATCHed: versioning, uniform
access, public access prevention, labels, soft delete, retention, lifecycle, default KMS key;
does not enforce preconditions) for everything that asserts settings; **fake-gcs-server**
(enforces object preconditions, drops labels/UBLA/PAP/soft delete) where the point is a server
that behaves like GCS on objects. Every request goes through ``support.reliability_cloud.FaultProxy``
on loopback, which records it (the proof "at the server") and injects 503 / 429 / resets when told.
The CLI runs in-process (``run_cli``) or as real OS processes (``race_cli``, ``cli_subprocess``).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner_core.plugins.manager import PluginRegistry
from support.gcs_helpers import raw_bucket, sdk_client
from support.gcs_servers import FakeGoogleAuthServer, service_account_key_file, start_fake_gcs_server, start_gcp_storage_emulator
from support.reliability_cloud import (
    BACKEND_ARGS,
    FaultProxy,
    assert_clean_failure,
    cli_subprocess,
    gcs_stack,
    json_results,
    race_cli,
    run_cli,
)
from support.servers import ServerProcess

DAY = 86400
LABELS = {"team": "platform", "env": "dev"}
OPTIONS: dict[str, Any] = {"labels": LABELS, "soft_delete_days": 30}
# fake-gcs-server cannot store these; the provisioner warns unless they are skipped (docs/backends/gcs.md).
FAKE_GCS_OPTIONS: dict[str, Any] = {"skip": ["uniform_access", "public_access_prevention", "labels", "soft_delete"]}


@pytest.fixture(scope="module")
def emulator() -> Iterator[ServerProcess]:
    server = start_gcp_storage_emulator()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fake_gcs() -> Iterator[ServerProcess]:
    server = start_fake_gcs_server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    """The installed plugins (entry points), loaded once for the in-process runs."""
    return PluginRegistry(environ={}).load()


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record GcsApi's retry delays instead of sleeping them (in-process runs only).

    The retry budget is counted in attempts (``retries``); GcsApi takes its ``sleep`` as a
    keyword default, so swapping that default keeps every attempt and makes the delays
    assertable (0.25 s, 0.5 s, 1 s ... capped at 8 s, with jitter) instead of waited for.
    """
    from provisioner_backend_gcs.client import GcsApi

    delays: list[float] = []
    monkeypatch.setitem(GcsApi.__init__.__kwdefaults__, "sleep", delays.append)
    return delays


@pytest.fixture
def bucket() -> str:
    return f"rel-{uuid.uuid4().hex[:20]}"


def proxy_for(server: ServerProcess) -> FaultProxy:
    return FaultProxy(server.url, "gcs")


def assert_fully_configured(url: str, bucket: str, labels: dict[str, str] = LABELS) -> dict[str, Any]:
    """Every setting the provisioner promises, read straight from the server (not through the proxy)."""
    raw = raw_bucket(url, bucket)
    assert raw["versioning"] == {"enabled": True}, raw
    assert raw["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True, raw
    assert raw["iamConfiguration"]["publicAccessPrevention"] == "enforced", raw
    assert raw["labels"] == {"managed-by": "provisioner", "purpose": "terraform-state", **labels}, raw
    assert int(raw["softDeletePolicy"]["retentionDurationSeconds"]) == 30 * DAY, raw
    return raw


def raw_object(url: str, bucket: str, name: str) -> dict[str, Any]:
    """An object's metadata exactly as the server returns it over HTTP."""
    with urllib.request.urlopen(f"{url}/storage/v1/b/{bucket}/o/{urllib.parse.quote(name, safe='')}", timeout=10) as response:  # noqa: S310 - loopback
        return dict(json.loads(response.read()))


def object_paths(proxy: FaultProxy) -> list[str]:
    """Requests on objects (JSON API, upload and download paths) that reached the server."""
    return [f"{s.method} {s.path}" for s in proxy.reached_server() if "/o/" in s.path or s.path.startswith(("/upload/", "/download/")) or s.path.endswith("/o")]


# --- 1. concurrency ---------------------------------------------------------------------------------


def hold_the_race(proxy: FaultProxy, bucket: str, n: int = 8) -> None:
    """All n bucket reads reach the server together (all see 404), then all n creates do (one wins, the rest get 409)."""
    proxy.hold(lambda m, p: m == "GET" and p == f"/storage/v1/b/{bucket}", n)
    proxy.hold(lambda m, p: m == "POST" and p == "/storage/v1/b", n)


def test_eight_processes_create_one_bucket_fully_configured_on_gcp_storage_emulator(emulator, bucket, tmp_path):
    proxy = proxy_for(emulator)
    hold_the_race(proxy, bucket)
    try:
        root = gcs_stack(tmp_path, bucket=bucket, endpoint=proxy.url, options=OPTIONS).root
        results = race_cli(root, 8, preload="google.cloud.storage", args=[*BACKEND_ARGS, "-o", "json"])
    finally:
        proxy.stop()

    assert [r.exit_code for r in results] == [0] * 8, [r.stderr for r in results]
    assert all("Traceback" not in r.stderr for r in results)
    statuses = Counter(json_results(r.stdout)[0]["status"] for r in results)
    assert statuses["created"] == 1, statuses  # exactly one process made it; the others found it (409 or a read)
    assert set(statuses) <= {"created", "updated", "unchanged"}, statuses
    assert_fully_configured(emulator.url, bucket)
    creates = [s for s in proxy.seen if s.method == "POST" and s.path == "/storage/v1/b"]
    assert proxy.broken_holds == 0  # the 8 reads and the 8 creates really met at the server
    assert sorted(s.status or 0 for s in creates) == [200] + [409] * 7, [s.status for s in creates]
    print(
        f"\nFIGURES gcs-race gcp-storage-emulator: 8 processes, exits {[r.exit_code for r in results]}, statuses {dict(statuses)}, "
        f"creates reaching the server {len(creates)} (409: {sum(s.status == 409 for s in creates)}), "
        f"patches {sum(s.method == 'PATCH' for s in proxy.seen)}, requests {len(proxy.seen)}"
    )


def test_eight_processes_create_one_versioned_bucket_on_fake_gcs_server(fake_gcs, bucket, tmp_path):
    proxy = proxy_for(fake_gcs)
    hold_the_race(proxy, bucket)
    try:
        root = gcs_stack(tmp_path, bucket=bucket, endpoint=proxy.url, options=FAKE_GCS_OPTIONS).root
        results = race_cli(root, 8, preload="google.cloud.storage", args=[*BACKEND_ARGS, "-o", "json"])
    finally:
        proxy.stop()

    assert [r.exit_code for r in results] == [0] * 8, [r.stderr for r in results]
    statuses = Counter(json_results(r.stdout)[0]["status"] for r in results)
    assert statuses["created"] == 1, statuses
    assert raw_bucket(fake_gcs.url, bucket)["versioning"] == {"enabled": True}
    creates = [s for s in proxy.seen if s.method == "POST" and s.path == "/storage/v1/b"]
    assert proxy.broken_holds == 0
    assert sorted(s.status or 0 for s in creates) == [200] + [409] * 7, [s.status for s in creates]
    print(f"\nFIGURES gcs-race fake-gcs-server: 8 processes, statuses {dict(statuses)}, creates reaching the server {len(creates)}, requests {len(proxy.seen)}")


def test_eight_processes_strengthen_one_existing_bucket_without_losing_a_label(emulator, bucket, tmp_path):
    # A hand-made bucket with its own labels and a longer soft delete; 8 processes read it together, then all PATCH together.
    client = sdk_client(emulator.url)
    existing = client.create_bucket(bucket, location="US")
    existing.labels = {"owner": "alice", "cost-center": "cc-42"}
    existing.soft_delete_policy.retention_duration_seconds = 60 * DAY
    existing.patch()
    proxy = proxy_for(emulator)
    proxy.hold(lambda m, p: m == "GET" and p == f"/storage/v1/b/{bucket}", 8)
    proxy.hold(lambda m, p: m == "PATCH" and p == f"/storage/v1/b/{bucket}", 8)
    try:
        root = gcs_stack(tmp_path, bucket=bucket, endpoint=proxy.url, options=OPTIONS).root
        results = race_cli(root, 8, preload="google.cloud.storage")
    finally:
        proxy.stop()

    assert [r.exit_code for r in results] == [0] * 8, [r.stderr for r in results]
    assert proxy.broken_holds == 0 and sum(s.method == "PATCH" for s in proxy.seen) == 8
    raw = raw_bucket(emulator.url, bucket)
    assert raw["labels"] == {"owner": "alice", "cost-center": "cc-42", "managed-by": "provisioner", "purpose": "terraform-state", **LABELS}
    assert int(raw["softDeletePolicy"]["retentionDurationSeconds"]) == 60 * DAY
    assert raw["versioning"] == {"enabled": True} and raw["iamConfiguration"]["publicAccessPrevention"] == "enforced"


# --- 2. injected faults -------------------------------------------------------------------------------

# (share of requests faulted, provision.backend.retries); each with 6 seeds. 503, 429, reset, lost response.
FAULT_MATRIX = [(0.2, 3), (0.4, 3), (0.6, 3), (0.6, 8), (1.0, 3)]
SEEDS = (1, 2, 3, 4, 5, 6)


def test_injected_faults_converge_or_fail_with_exit_5_never_half_configured(emulator, registry, tmp_path, backoff):
    proxy = proxy_for(emulator)
    outcomes: list[tuple[float, int, int, int, int, float]] = []
    kinds: Counter[str] = Counter()
    requests = 0
    try:
        for share, retries in FAULT_MATRIX:
            for seed in SEEDS:
                bucket = f"rel-fault-{uuid.uuid4().hex[:16]}"
                root = gcs_stack(tmp_path / f"{share}-{retries}-{seed}", bucket=bucket, endpoint=proxy.url, options={**OPTIONS, "attempts": retries}).root
                proxy.clear()
                proxy.configure(share=share, seed=seed)
                waited = len(backoff)
                result = run_cli(root, registry=registry)
                kinds.update(s.fault for s in proxy.faults() if s.fault)
                requests += len(proxy.seen)
                outcomes.append((share, retries, seed, result.exit_code, len(proxy.faults()), round(sum(backoff[waited:]), 1)))
                assert "Traceback" not in result.output, result.output
                if result.exit_code == 0:
                    # Success is only ever reported for a bucket with every setting in place.
                    assert_fully_configured(emulator.url, bucket)
                    continue
                error = assert_clean_failure(result.exit_code, result.stdout, result.stderr, 5, proxy.url)
                assert "after" in error and "attempt" in error, error
                # Whatever the failed run left behind, a clean run completes it.
                proxy.configure(share=0)
                assert run_cli(root, registry=registry).exit_code == 0
                assert_fully_configured(emulator.url, bucket)
    finally:
        proxy.stop()

    exits = Counter(o[3] for o in outcomes)
    assert set(exits) <= {0, 5}, outcomes
    assert all(o[3] == 5 for o in outcomes if o[0] == 1.0)  # every call fails: the budget runs out
    assert exits[0] >= 1 and exits[5] >= 1, outcomes  # both paths were exercised
    assert backoff and max(backoff) <= 8, backoff  # capped exponential backoff
    print(
        f"\nFIGURES gcs-faults gcp-storage-emulator: {len(outcomes)} runs (shares x retries {FAULT_MATRIX}, seeds {SEEDS}), "
        f"{requests} requests, {sum(kinds.values())} faults {dict(kinds)}; exit 0 (fully configured): {exits[0]}, "
        f"exit 5 (one-line error naming the endpoint, then repaired by a clean run): {exits[5]}; per run (share, retries, seed, exit, faults, backoff seconds): {outcomes}"
    )


def test_a_lost_create_response_is_taken_for_what_it_is(emulator, registry, bucket, tmp_path):
    # The create reaches the server, the client never hears: its retry gets 409 and the run carries on with the bucket.
    proxy = proxy_for(emulator)
    try:
        root = gcs_stack(tmp_path, bucket=bucket, endpoint=proxy.url, options=OPTIONS).root
        proxy.configure(share=1.0, kinds=("lost",), only=lambda method, path: method == "POST", limit=1)
        result = run_cli(root, [*BACKEND_ARGS, "-o", "json"], registry=registry)
    finally:
        proxy.stop()

    assert result.exit_code == 0, result.output
    creates = [s.status for s in proxy.seen if s.method == "POST"]
    assert creates == [None, 409]
    report = json_results(result.stdout)[0]
    assert "appeared while this run was creating it" in " ".join(report["warnings"])
    assert report["status"] != "created" and "answered 409" in report["actions"][0]["detail"]  # not claimed as our create
    assert_fully_configured(emulator.url, bucket)


def test_a_lost_patch_response_is_retried_on_fake_gcs_server(fake_gcs, registry, bucket, tmp_path):
    # fake-gcs-server keeps versioning only; the patch that turns it on is answered into the void once.
    sdk_client(fake_gcs.url).create_bucket(bucket, location="US")
    proxy = proxy_for(fake_gcs)
    try:
        root = gcs_stack(tmp_path, bucket=bucket, endpoint=proxy.url, options=FAKE_GCS_OPTIONS).root
        proxy.configure(share=1.0, kinds=("lost",), only=lambda method, path: method == "PATCH", limit=1)
        result = run_cli(root, registry=registry)
    finally:
        proxy.stop()

    assert result.exit_code == 0, result.output
    assert [s.status is None for s in proxy.seen if s.method == "PATCH"][:1] == [True]
    assert raw_bucket(fake_gcs.url, bucket)["versioning"] == {"enabled": True}


# --- 3. the server stopped mid-run -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PATCH"], ids=["during-create", "during-settings"])
def test_server_stopped_mid_run_exits_5_naming_the_endpoint(method, registry, bucket, tmp_path, backoff):
    server = start_gcp_storage_emulator()  # a dedicated instance: this test kills it
    proxy = proxy_for(server)
    try:
        proxy.stop_server_on(lambda m, _path: m == method, server)
        root = gcs_stack(tmp_path, bucket=bucket, endpoint=proxy.url, options=OPTIONS).root
        result = run_cli(root, registry=registry)
    finally:
        proxy.stop()
        server.stop()

    assert server.process.poll() is not None  # really stopped
    assert_clean_failure(result.exit_code, result.stdout, result.stderr, 5, f"cannot reach {proxy.url}")
    hint = next(line for line in result.stderr.splitlines() if line.startswith("Hint:"))
    assert proxy.url in hint, result.stderr
    assert [s.method for s in proxy.seen][:1] == ["GET"] and proxy.seen[-1].fault in ("trigger", "dead")
    assert len(backoff) == 2 and sum(backoff) <= 0.75, backoff  # 3 attempts (the default), under a second of backoff


def test_a_run_killed_after_create_is_completed_by_the_next_run(emulator, registry, bucket, tmp_path):
    # SIGKILL the provisioning process at its first PATCH: the bucket exists (the emulator ignored
    # the settings sent at create), its settings are not applied. The next run repairs and says so.
    proxy = proxy_for(emulator)
    root = gcs_stack(tmp_path, bucket=bucket, endpoint=proxy.url, options=OPTIONS).root
    script = Path(sys.executable).parent / "provision"
    process = subprocess.Popen([str(script), *BACKEND_ARGS], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proxy.on_request(lambda m, _path: m == "PATCH", process.kill)
    try:
        process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL
        raw = raw_bucket(emulator.url, bucket)
        assert "versioning" not in raw and "labels" not in raw  # half-configured, and nobody said otherwise
        result = run_cli(root, [*BACKEND_ARGS, "-o", "json"], registry=registry)
    finally:
        proxy.stop()

    assert result.exit_code == 0, result.output
    report = json_results(result.stdout)[0]
    assert report["status"] == "updated"
    repaired = {d["setting"] for d in report["drift"] if d["resolution"] == "applied"}
    assert {"versioning", "uniform_access", "public_access_prevention", "soft_delete_days"} <= repaired, report["drift"]
    assert_fully_configured(emulator.url, bucket)


# --- 4. never clobber, never weaken ----------------------------------------------------------------------

USER_KMS = "projects/acme/locations/us/keyRings/ops/cryptoKeys/user-key"
LIFECYCLE = [{"action": {"type": "Delete"}, "condition": {"age": 365}}, {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"}, "condition": {"age": 30}}]


def _arrange(url: str, name: str, **settings: Any) -> dict[str, Any]:
    client = sdk_client(url)
    bucket = client.create_bucket(name, location="US")
    bucket.labels = {"owner": "alice", "cost-center": "cc-42", "managed-by": "platform-team"}
    bucket.lifecycle_rules = LIFECYCLE
    for key, value in settings.items():
        setattr(bucket, key, value)
    bucket.patch()
    return raw_bucket(url, name)


def test_existing_bucket_keeps_labels_longer_soft_delete_lifecycle_and_kms_key(emulator, registry, bucket, tmp_path):
    before = _arrange(emulator.url, bucket, default_kms_key_name=USER_KMS)
    policy = sdk_client(emulator.url).get_bucket(bucket)
    policy.soft_delete_policy.retention_duration_seconds = 90 * DAY
    policy.patch()
    proxy = proxy_for(emulator)
    try:
        options = {**OPTIONS, "kms_key": "projects/acme/locations/us/keyRings/tf/cryptoKeys/provisioner"}
        root = gcs_stack(tmp_path, bucket=bucket, endpoint=proxy.url, options=options).root
        result = run_cli(root, [*BACKEND_ARGS, "-o", "json"], registry=registry)
    finally:
        proxy.stop()

    assert result.exit_code == 0, result.output
    after = raw_bucket(emulator.url, bucket)
    assert after["labels"]["owner"] == "alice"
    assert after["labels"]["cost-center"] == "cc-42"
    assert after["labels"]["managed-by"] == "platform-team"  # someone else's manager label is left alone
    assert after["labels"]["purpose"] == "terraform-state" and after["labels"]["team"] == "platform"
    assert after["lifecycle"] == before["lifecycle"] == {"rule": LIFECYCLE}
    assert after["encryption"] == {"defaultKmsKeyName": USER_KMS}  # never replaced
    assert int(after["softDeletePolicy"]["retentionDurationSeconds"]) == 90 * DAY  # never lowered to 30
    assert after["versioning"] == {"enabled": True} and after["iamConfiguration"]["publicAccessPrevention"] == "enforced"
    kept = {d["setting"]: d for d in json_results(result.stdout)[0]["drift"] if d["resolution"] == "kept"}
    assert "kms_key" in kept and "labels.managed-by" in kept, kept
    assert [s.method for s in proxy.seen if s.method != "GET"] == ["PATCH"]  # one write


def test_existing_bucket_keeps_a_longer_retention_policy_and_stays_unversioned(emulator, registry, bucket, tmp_path):
    _arrange(emulator.url, bucket, retention_period=400 * DAY)
    proxy = proxy_for(emulator)
    try:
        root = gcs_stack(tmp_path, bucket=bucket, endpoint=proxy.url, options={"labels": LABELS, "retention_days": 30, "skip": ["versioning"]}).root
        first = run_cli(root, registry=registry)
        root_default = gcs_stack(tmp_path / "default", bucket=bucket, endpoint=proxy.url, options={"labels": LABELS}).root
        second = run_cli(root_default, [*BACKEND_ARGS, "-o", "json"], registry=registry)  # no retention asked for, versioning not skipped
    finally:
        proxy.stop()

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    after = raw_bucket(emulator.url, bucket)
    assert after["retentionPolicy"]["retentionPeriod"] == str(400 * DAY)  # never lowered, never removed
    assert after.get("versioning", {}).get("enabled") in (None, False)  # GCS forbids versioning with retention: kept off
    assert after["lifecycle"] == {"rule": LIFECYCLE}
    assert after["labels"]["owner"] == "alice" and after["labels"]["cost-center"] == "cc-42"
    kept = {d["setting"]: d["reason"] for d in json_results(second.stdout)[0]["drift"] if d["resolution"] == "kept"}
    assert "retention" in kept.get("versioning", ""), kept


# --- 5. state objects -------------------------------------------------------------------------------------

STATE = json.dumps({"version": 4, "terraform_version": "1.11.0", "serial": 7, "lineage": "reliability", "outputs": {}, "resources": []}).encode()


@pytest.mark.parametrize("server_name", ["gcp-storage-emulator", "fake-gcs-server"])
def test_provisioning_never_touches_a_state_object(server_name, emulator, fake_gcs, registry, bucket, tmp_path):
    server = emulator if server_name == "gcp-storage-emulator" else fake_gcs
    client = sdk_client(server.url)
    client.create_bucket(bucket, location="US")  # drift: unversioned, no labels
    blob = client.bucket(bucket).blob("app/default.tfstate")
    blob.upload_from_string(STATE, content_type="application/json")
    before = raw_object(server.url, bucket, "app/default.tfstate")
    proxy = proxy_for(server)
    try:
        options = OPTIONS if server is emulator else FAKE_GCS_OPTIONS
        root = gcs_stack(tmp_path, bucket=bucket, endpoint=proxy.url, options=options).root
        repaired = run_cli(root, [*BACKEND_ARGS, "-o", "json"], registry=registry)
        again = run_cli(root, registry=registry)
        dry = run_cli(root, [*BACKEND_ARGS, "--dry-run"], registry=registry)
    finally:
        proxy.stop()

    assert (repaired.exit_code, again.exit_code, dry.exit_code) == (0, 0, 0), repaired.output
    assert json_results(repaired.stdout)[0]["status"] == "updated"  # a drift repair (PATCH) happened
    assert any(s.method == "PATCH" for s in proxy.seen)
    after = raw_object(server.url, bucket, "app/default.tfstate")
    assert after == before  # the whole resource: generation, metageneration, md5, crc32c, etag, updated, size
    assert {"generation", "md5Hash", "size"} <= set(after), after
    assert client.bucket(bucket).blob("app/default.tfstate").download_as_bytes() == STATE
    assert object_paths(proxy) == []  # no read, write or delete of any object reached the server
    assert not [s for s in proxy.seen if s.method == "DELETE"]
    assert [b.name for b in client.list_blobs(bucket)] == ["app/default.tfstate"]


# --- 6. ambient credentials --------------------------------------------------------------------------------


@pytest.fixture
def ambient(tmp_path) -> Iterator[tuple[dict[str, str], FakeGoogleAuthServer, FaultProxy]]:
    """A different identity in every place google-auth and the storage client look on their own."""
    ambient_auth = FakeGoogleAuthServer(sa_token="ambient-sa-token")
    decoy = FaultProxy("http://127.0.0.1:9", "gcs")  # STORAGE_EMULATOR_HOST: must never be called
    key_dir = tmp_path / "ambient"
    key_dir.mkdir()
    key = service_account_key_file(key_dir, ambient_auth.url + "/token", email="ambient@other-project.iam.gserviceaccount.com")
    env = {
        "GOOGLE_APPLICATION_CREDENTIALS": str(key),
        "GOOGLE_OAUTH_ACCESS_TOKEN": "ambient-oauth-token",
        "STORAGE_EMULATOR_HOST": decoy.url,
        "API_ENDPOINT_OVERRIDE": decoy.url,
        "GOOGLE_CLOUD_PROJECT": "ambient-project",
        "CLOUDSDK_CORE_PROJECT": "ambient-project",
        # google-auth's metadata server, and anything bound for googleapis.com, would land in the decoy (loopback only).
        "GCE_METADATA_HOST": decoy.url.removeprefix("http://"),
        "GCE_METADATA_IP": decoy.url.removeprefix("http://"),
        "HTTPS_PROXY": decoy.url,
        "HTTP_PROXY": decoy.url,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    yield env, ambient_auth, decoy
    decoy.stop()
    ambient_auth.stop()


@pytest.mark.parametrize("identity", ["access-token", "anonymous", "service-account-file"])
def test_every_request_carries_the_auth_context_identity_not_the_ambient_one(identity, ambient, emulator, bucket, tmp_path):
    env, ambient_auth, decoy = ambient
    context_auth = FakeGoogleAuthServer(sa_token="context-sa-token")
    proxy = proxy_for(emulator)
    try:
        if identity == "access-token":
            auth, expected = {"type": "access-token", "token": "context-token"}, "Bearer context-token"
        elif identity == "anonymous":
            auth, expected = {"type": "anonymous"}, None
        else:
            key_dir = tmp_path / "context"
            key_dir.mkdir()
            auth = {"type": "service-account-file", "file": str(service_account_key_file(key_dir, context_auth.url + "/token"))}
            expected = "Bearer context-sa-token"
        root = gcs_stack(tmp_path / "project", bucket=bucket, endpoint=proxy.url, options=OPTIONS, auth=auth).root
        created = cli_subprocess(root, env=env)
        again = cli_subprocess(root, env=env)
    finally:
        proxy.stop()
        context_auth.stop()

    assert (created.exit_code, again.exit_code) == (0, 0), created.stderr + again.stderr
    assert_fully_configured(emulator.url, bucket)
    assert len(proxy.seen) >= 4  # GET, POST, PATCH, GET
    assert {s.header("Authorization") for s in proxy.seen} == {expected}
    # STORAGE_EMULATOR_HOST / API_ENDPOINT_OVERRIDE / the metadata server were never used. The one thing that
    # does leave for Google is google-auth's own background "Regional Access Boundary" lookup
    # (https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/<email>/allowedLocations), made for
    # service account credentials whatever the storage endpoint; here it lands in the decoy as a CONNECT, unanswered.
    stray = {f"{s.method} {s.path}" for s in decoy.seen}
    assert stray <= ({"CONNECT iamcredentials.googleapis.com:443"} if identity == "service-account-file" else set()), stray
    assert ambient_auth.requests == []  # the ambient service account never signed in
    if identity == "service-account-file":
        assert [path for path, _, _ in context_auth.requests] == ["/token", "/token"]  # one sign-in per process
