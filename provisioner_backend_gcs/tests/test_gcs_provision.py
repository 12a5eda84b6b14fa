"""Create, strengthen, idempotency, dry run and report-only against a real local GCS server.

Server: gcp-storage-emulator (it keeps settings sent by PATCH), behind the recording proxy
of ``support.gcs_servers`` so "no write call" is counted at the HTTP level. What the
emulator stored is read back over plain HTTP (``raw_bucket``), not through the code under test.
"""

from __future__ import annotations

import pytest

from provisioner_core import EXIT_CONFIG, ClientCache, ConfigError, Resolution, Status
from support.gcs_helpers import raw_bucket, run, sdk_client
from support.gcs_servers import RecordingProxy
from support.servers import ServerProcess

KMS = "projects/test-project/locations/us/keyRings/tf/cryptoKeys/state"


def _drift(result, setting):  # type: ignore[no-untyped-def]
    return next(d for d in result.drift if d.setting == setting)


def test_missing_bucket_is_created_secure_and_settings_are_stored(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    result = run(proxy.url, bucket_name, {"labels": {"team": "platform"}, "kms_key": KMS, "soft_delete_days": 14})

    assert result.status is Status.CREATED
    assert [a.verb for a in result.actions] == ["create", "patch"]  # the emulator ignores settings sent at create
    assert proxy.calls() == [f"GET /storage/v1/b/{bucket_name}", "POST /storage/v1/b", f"PATCH /storage/v1/b/{bucket_name}"]
    stored = raw_bucket(gcs_emulator.url, bucket_name)
    assert stored["versioning"] == {"enabled": True}
    assert stored["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True
    assert stored["iamConfiguration"]["publicAccessPrevention"] == "enforced"
    assert stored["labels"] == {"managed-by": "provisioner", "purpose": "terraform-state", "team": "platform"}
    assert stored["encryption"] == {"defaultKmsKeyName": KMS}
    assert int(stored["softDeletePolicy"]["retentionDurationSeconds"]) == 14 * 86400
    assert result.details["labels"]["team"] == "platform" and result.details["soft_delete_days"] == 14
    assert result.warnings == ()


def test_second_run_is_unchanged_with_no_write_call(proxy: RecordingProxy, bucket_name: str) -> None:
    options = {"labels": {"team": "platform"}, "kms_key": KMS, "soft_delete_days": 14}
    run(proxy.url, bucket_name, options)
    proxy.clear()

    again = run(proxy.url, bucket_name, options)

    assert again.status is Status.UNCHANGED
    assert again.actions == () and again.drift == ()
    assert proxy.calls() == [f"GET /storage/v1/b/{bucket_name}"]
    assert proxy.writes() == []


def test_dry_run_on_a_missing_bucket_plans_the_create_and_writes_nothing(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    result = run(proxy.url, bucket_name, {"labels": {"team": "platform"}}, dry_run=True)

    assert result.status is Status.PLANNED
    assert [(a.verb, a.target) for a in result.actions] == [("create", f"gcs bucket {bucket_name}")]
    assert "public_access_prevention=enforced" in result.actions[0].detail and "project test-project" in result.actions[0].detail
    assert result.details["versioning"] is True and result.details["labels"]["purpose"] == "terraform-state"
    assert proxy.writes() == []
    assert sdk_client(gcs_emulator.url).lookup_bucket(bucket_name) is None


def _hand_made(url: str, name: str, *, labels: dict[str, str] | None = None, **settings: object) -> None:
    """A bucket made outside the provisioner (create, then patch: the emulator ignores create settings)."""
    client = sdk_client(url)
    bucket = client.create_bucket(name)
    bucket.labels = labels or {}
    for key, value in settings.items():
        setattr(bucket, key, value)
    bucket.patch()


def test_existing_weak_bucket_is_strengthened_in_one_patch_keeping_foreign_labels(
    proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str
) -> None:
    _hand_made(gcs_emulator.url, bucket_name, labels={"owner": "team-a", "managed-by": "terraform"}, versioning_enabled=False)

    result = run(proxy.url, bucket_name, {"labels": {"team": "platform"}})

    assert result.status is Status.UPDATED
    assert [w.method for w in proxy.writes()] == ["PATCH"]
    stored = raw_bucket(gcs_emulator.url, bucket_name)
    assert stored["versioning"]["enabled"] is True
    assert stored["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True
    assert stored["iamConfiguration"]["publicAccessPrevention"] == "enforced"
    # Never drop a label; a foreign managed-by is kept (and reported), ours are added.
    assert stored["labels"] == {"owner": "team-a", "managed-by": "terraform", "purpose": "terraform-state", "team": "platform"}
    assert _drift(result, "labels.managed-by").resolution is Resolution.KEPT
    assert _drift(result, "versioning").resolution is Resolution.APPLIED


def test_dry_run_on_a_drifted_bucket_plans_the_patch_without_writing(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    _hand_made(gcs_emulator.url, bucket_name)

    result = run(proxy.url, bucket_name, dry_run=True)

    assert result.status is Status.PLANNED
    assert [a.verb for a in result.actions] == ["patch"]
    assert {d.resolution for d in result.drift} == {Resolution.PLANNED}
    assert result.details["versioning"] is True  # the planned result
    assert proxy.writes() == []
    assert raw_bucket(gcs_emulator.url, bucket_name).get("versioning", {}).get("enabled") is not True


def test_report_only_reports_drift_and_writes_nothing(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    _hand_made(gcs_emulator.url, bucket_name)

    result = run(proxy.url, bucket_name, {"report_only": True})

    assert result.status is Status.UNCHANGED
    assert {d.setting for d in result.drift} >= {"versioning", "uniform_access", "public_access_prevention"}
    assert {d.resolution for d in result.drift} == {Resolution.REPORTED}
    assert result.details["versioning"] is False  # as the bucket really is
    assert proxy.writes() == []


def test_report_only_on_a_missing_bucket_is_a_config_error(proxy: RecordingProxy, bucket_name: str) -> None:
    with pytest.raises(ConfigError, match="does not exist") as info:
        run(proxy.url, bucket_name, {"report_only": True})
    assert info.value.exit_code == EXIT_CONFIG
    assert proxy.writes() == []


def test_stronger_existing_settings_are_never_lowered(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    other_key = "projects/test-project/locations/us/keyRings/tf/cryptoKeys/theirs"
    _hand_made(gcs_emulator.url, bucket_name, labels={"managed-by": "provisioner", "purpose": "terraform-state"},
               versioning_enabled=True, default_kms_key_name=other_key)  # fmt: skip
    client = sdk_client(gcs_emulator.url)
    bucket = client.get_bucket(bucket_name)
    bucket.iam_configuration.uniform_bucket_level_access_enabled = True
    bucket.iam_configuration.public_access_prevention = "enforced"
    bucket.soft_delete_policy.retention_duration_seconds = 60 * 86400
    bucket.patch()

    result = run(proxy.url, bucket_name, {"soft_delete_days": 7, "kms_key": KMS})

    assert result.status is Status.UNCHANGED
    assert proxy.writes() == []
    assert [(d.setting, d.resolution) for d in result.drift] == [("kms_key", Resolution.KEPT)]
    stored = raw_bucket(gcs_emulator.url, bucket_name)
    assert int(stored["softDeletePolicy"]["retentionDurationSeconds"]) == 60 * 86400
    assert stored["encryption"]["defaultKmsKeyName"] == other_key


def test_retention_is_raised_but_never_lowered(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    options = {"retention_days": 10, "skip": ["versioning"]}
    run(proxy.url, bucket_name, options)
    assert int(raw_bucket(gcs_emulator.url, bucket_name)["retentionPolicy"]["retentionPeriod"]) == 10 * 86400
    proxy.clear()

    lower = run(proxy.url, bucket_name, {**options, "retention_days": 3})
    assert lower.status is Status.UNCHANGED and proxy.writes() == []

    higher = run(proxy.url, bucket_name, {**options, "retention_days": 20})
    assert higher.status is Status.UPDATED
    assert int(raw_bucket(gcs_emulator.url, bucket_name)["retentionPolicy"]["retentionPeriod"]) == 20 * 86400


def test_existing_bucket_needs_neither_project_nor_location(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    _hand_made(gcs_emulator.url, bucket_name)

    result = run(proxy.url, bucket_name, {"project": None, "location": None})

    assert result.status is Status.UPDATED
    assert "project" not in result.details


@pytest.mark.parametrize("dry_run", [False, True])
def test_creating_without_project_and_location_is_exit_2_naming_both(proxy: RecordingProxy, bucket_name: str, dry_run: bool) -> None:
    with pytest.raises(ConfigError) as info:
        run(proxy.url, bucket_name, {"project": None, "location": None}, dry_run=dry_run)
    assert info.value.exit_code == EXIT_CONFIG
    assert "provision.backend.project and provision.backend.location" in info.value.message
    assert "only to create" in " ".join(info.value.hints)
    assert proxy.writes() == []


def test_project_may_come_from_the_auth_provider(proxy: RecordingProxy, bucket_name: str) -> None:
    from provisioner_backend_gcs.credentials import GcpCredentials
    from provisioner_core import AuthContext

    auth = AuthContext({"gcp": GcpCredentials("anonymous", project="from-auth")})
    result = run(proxy.url, bucket_name, {"project": None}, auth=auth)
    assert result.status is Status.CREATED and result.details["project"] == "from-auth"
    assert any(r.method == "POST" and "project=from-auth" in r.query for r in proxy.requests)


def test_existing_bucket_in_another_location_is_reported_not_changed(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    run(proxy.url, bucket_name)  # the emulator puts every bucket in US
    proxy.clear()

    result = run(proxy.url, bucket_name, {"location": "EU"})

    assert result.status is Status.UNCHANGED and proxy.writes() == []
    assert (_drift(result, "location").resolution, _drift(result, "location").actual) == (Resolution.KEPT, "US")


def test_invalid_bucket_name_fails_before_any_request(proxy: RecordingProxy) -> None:
    with pytest.raises(ConfigError, match="'goog' prefix"):
        run(proxy.url, "goog-tfstate")
    assert proxy.requests == []


def test_skipped_settings_are_neither_set_nor_compared(proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:
    result = run(proxy.url, bucket_name, {"skip": ["labels", "public_access_prevention"]})

    stored = raw_bucket(gcs_emulator.url, bucket_name)
    assert "labels" not in stored and stored["iamConfiguration"].get("publicAccessPrevention") != "enforced"
    assert stored["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True
    assert result.details["public_access_prevention"] == "inherited"


def test_client_is_built_once_per_identity_and_endpoint(proxy: RecordingProxy, bucket_name: str) -> None:
    clients = ClientCache()
    run(proxy.url, bucket_name, clients=clients)
    run(proxy.url, bucket_name + "-b", clients=clients)
    assert (clients.misses, clients.hits) == (1, 1)
