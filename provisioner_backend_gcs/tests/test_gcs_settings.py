"""Unit tests (no server) of the pure comparison: only strengthening changes are planned."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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


_label_keys = st.sampled_from(["managed-by", "purpose", "team", "owner", "env"])
_label_values = st.sampled_from(["provisioner", "terraform-state", "platform", "other", ""])
_seconds = st.none() | st.integers(min_value=0, max_value=400 * 86400)


@given(
    state=st.builds(
        BucketState,
        name=st.just("tf-state-a"),
        location=st.sampled_from([None, "US", "EU"]),
        versioning=st.booleans(),
        uniform_access=st.booleans(),
        public_access_prevention=st.sampled_from([None, "inherited", "unspecified", "enforced"]),
        labels=st.dictionaries(_label_keys, _label_values, max_size=5),
        kms_key=st.sampled_from([None, "projects/p/locations/l/keyRings/r/cryptoKeys/a"]),
        soft_delete_seconds=_seconds,
        retention_seconds=_seconds,
    ),
    options=st.fixed_dictionaries(
        {},
        optional={
            "labels": st.dictionaries(_label_keys, st.sampled_from(["platform", "x"]), max_size=3),
            "skip": st.lists(st.sampled_from(["uniform_access", "public_access_prevention", "labels", "kms", "soft_delete"]), unique=True),
            "kms_key": st.sampled_from(["projects/p/locations/l/keyRings/r/cryptoKeys/b"]),
            "soft_delete_days": st.integers(min_value=7, max_value=90),
            "location": st.sampled_from(["US", "EU"]),
        },
    ),
)
def test_a_planned_patch_never_weakens_anything(state: BucketState, options: dict) -> None:
    """Property: whatever the bucket and options, applying the plan keeps or strengthens every setting."""
    _, patch = plan(parse({"bucket": "tf-state-a"}, options), state)
    after = state.with_patch(patch)
    assert after.versioning >= state.versioning and after.uniform_access >= state.uniform_access
    assert state.public_access_prevention != "enforced" or after.public_access_prevention == "enforced"
    assert set(after.labels) >= set(state.labels)
    assert all(after.labels[k] == v for k, v in state.labels.items() if k not in options.get("labels", {}))
    assert state.kms_key is None or after.kms_key == state.kms_key
    assert (after.soft_delete_seconds or 0) >= (state.soft_delete_seconds or 0)
    assert (after.retention_seconds or 0) >= (state.retention_seconds or 0)
    assert after.location == state.location
    # Idempotent: planning again on the result wants nothing more.
    assert not plan(parse({"bucket": "tf-state-a"}, options), after)[1]


# --- never clobber: a PATCH carries only the fields this plugin manages ----------------------------


MANAGED_FIELDS = {"versioning", "iamConfiguration", "labels", "encryption", "softDeletePolicy", "retentionPolicy"}


def test_a_patch_sends_only_managed_fields_and_keeps_what_it_merges() -> None:
    # Issue 16's audit: nothing a user may own (CORS, lifecycle, logging, website, IAM bindings,
    # autoclass, object retention) is ever part of the request, so the server keeps it as it is.
    from google.cloud import storage

    from provisioner_backend_gcs.client import apply_patch

    read = {
        "name": "tfstate",
        "labels": {"owner": "alice", "managed-by": "platform-team"},
        "cors": [{"origin": ["https://console.example.com"], "method": ["GET"], "maxAgeSeconds": 60}],
        "lifecycle": {"rule": [{"action": {"type": "Delete"}, "condition": {"age": 365}}]},
        "logging": {"logBucket": "audit-logs", "logObjectPrefix": "tfstate"},
        "website": {"mainPageSuffix": "index.html"},
        "autoclass": {"enabled": True},
        "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": False}, "publicAccessPrevention": "inherited", "bucketPolicyOnly": {"enabled": False}},
        "softDeletePolicy": {"retentionDurationSeconds": "604800", "effectiveTime": "2024-01-01T00:00:00Z"},
        "retentionPolicy": {"retentionPeriod": "86400", "effectiveTime": "2024-01-01T00:00:00Z"},
    }
    bucket = storage.Bucket(client=None, name="tfstate")  # type: ignore[arg-type]
    bucket._set_properties(read)
    labels = {**read["labels"], "purpose": "terraform-state"}
    patch = Patch(versioning=True, uniform_access=True, public_access_prevention="enforced", labels=labels, kms_key="k", soft_delete_seconds=30 * 86400, retention_seconds=2 * 86400)

    apply_patch(bucket, patch)

    assert bucket._changes <= MANAGED_FIELDS, bucket._changes - MANAGED_FIELDS
    sent = {field: bucket._properties[field] for field in bucket._changes}
    assert sent["labels"] == labels  # every label read is sent back: none is removed
    assert not bucket._label_removals
    assert sent["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True
    assert sent["retentionPolicy"]["retentionPeriod"] == str(2 * 86400)
