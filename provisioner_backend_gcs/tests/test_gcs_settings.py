"""Unit tests (no server) of the pure comparison: only strengthening changes are planned."""

from __future__ import annotations

from provisioner_backend_gcs.config import parse
from provisioner_backend_gcs.settings import BucketState, Patch, desired_patch, plan

COMPLIANT = BucketState(
    "tf-state-a",
    location="US",
    versioning=True,
    uniform_access=True,
    public_access_prevention="enforced",
    labels={"managed-by": "provisioner", "purpose": "terraform-state"},
)


def _plan(state: BucketState, **options):  # type: ignore[no-untyped-def]
    return plan(parse({"bucket": "tf-state-a"}, options), state)


def test_compliant_bucket_needs_no_patch() -> None:
    changes, patch = _plan(COMPLIANT)
    assert changes == [] and not patch


def test_weak_bucket_gets_every_setting_in_one_patch() -> None:
    changes, patch = _plan(BucketState("tf-state-a", public_access_prevention="inherited"))
    assert {c.setting for c in changes} == {"versioning", "uniform_access", "public_access_prevention", "labels.managed-by", "labels.purpose"}
    assert all(c.stronger for c in changes)
    assert patch == Patch(True, True, "enforced", {"managed-by": "provisioner", "purpose": "terraform-state"})


def test_labels_are_merged_never_dropped_and_foreign_defaults_are_kept() -> None:
    state = BucketState("tf-state-a", versioning=True, uniform_access=True, public_access_prevention="enforced",
                        labels={"owner": "team-a", "managed-by": "terraform", "team": "old"})  # fmt: skip
    changes, patch = _plan(state, labels={"team": "platform"})
    assert patch.labels == {"owner": "team-a", "managed-by": "terraform", "team": "platform", "purpose": "terraform-state"}
    kept = [c for c in changes if not c.stronger]
    assert [c.setting for c in kept] == ["labels.managed-by"]


def test_user_label_may_override_a_default_value() -> None:
    state = BucketState("tf-state-a", versioning=True, uniform_access=True, public_access_prevention="enforced", labels={"purpose": "x"})
    _, patch = _plan(state, labels={"purpose": "terraform-state-dev"})
    assert patch.labels is not None and patch.labels["purpose"] == "terraform-state-dev"


def test_longer_soft_delete_and_retention_are_never_lowered() -> None:
    state = BucketState("tf-state-a", uniform_access=True, public_access_prevention="enforced", labels=COMPLIANT.labels,
                        soft_delete_seconds=30 * 86400, retention_seconds=20 * 86400)  # fmt: skip
    changes, patch = _plan(state, soft_delete_days=7, retention_days=10, skip=["versioning"])
    assert changes == [] and not patch
    changes, patch = _plan(state, soft_delete_days=45, retention_days=25, skip=["versioning"])
    assert patch.soft_delete_seconds == 45 * 86400 and patch.retention_seconds == 25 * 86400


def test_versioning_is_not_forced_on_a_retention_bucket_and_is_reported_kept() -> None:
    state = BucketState("tf-state-a", uniform_access=True, public_access_prevention="enforced", labels=COMPLIANT.labels, retention_seconds=86400)
    changes, patch = _plan(state)
    assert [(c.setting, c.stronger) for c in changes] == [("versioning", False)]
    assert "retention policy" in changes[0].reason and not patch


def test_another_default_kms_key_is_kept() -> None:
    state = BucketState("tf-state-a", versioning=True, uniform_access=True, public_access_prevention="enforced", labels=COMPLIANT.labels,
                        kms_key="projects/p/locations/eu/keyRings/r/cryptoKeys/theirs")  # fmt: skip
    changes, patch = _plan(state, kms_key="projects/p/locations/eu/keyRings/r/cryptoKeys/ours")
    assert [(c.setting, c.stronger) for c in changes] == [("kms_key", False)] and not patch


def test_location_mismatch_is_reported_never_changed() -> None:
    changes, patch = _plan(COMPLIANT, location="EU")
    assert [(c.setting, c.stronger) for c in changes] == [("location", False)] and not patch


def test_skips_remove_settings_from_create_and_compare() -> None:
    config = parse({"bucket": "tf-state-a"}, {"skip": ["labels", "uniform_access", "public_access_prevention"]})
    assert desired_patch(config).fields() == {"versioning": True}
    changes, patch = plan(config, BucketState("tf-state-a", versioning=True))
    assert changes == [] and not patch


def test_with_patch_projects_the_result_for_dry_runs() -> None:
    projected = BucketState("tf-state-a").with_patch(Patch(versioning=True, labels={"a": "b"}))
    assert projected.versioning and projected.labels == {"a": "b"} and not projected.uniform_access
    assert Patch(soft_delete_seconds=14 * 86400).describe() == "soft_delete_days=14"
