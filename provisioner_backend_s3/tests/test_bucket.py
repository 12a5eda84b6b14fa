"""The state bucket against a real moto server over HTTP, with every call counted at the wire.

moto limitation (see shared/REFERENCE.md): moto does not evaluate ``aws:SecureTransport``, so
once the deny-non-TLS statement is in place every object call over HTTP is refused. These tests
only read bucket *settings* (never objects), and assert the statement with GetBucketPolicy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import support.s3_helpers as support_helpers
from provisioner_backend_s3.merge import tls_statement
from provisioner_core import ClientCache, Resolution, Status
from support.s3_helpers import SECRET_KEY, botocore_sends_tags_with_create, policy_of, run, tags_of

BUCKET_WRITES = [
    "create-bucket",
    "put-bucket-versioning",
    "put-bucket-encryption",
    "put-public-access-block",
    "put-bucket-ownership-controls",
    "put-bucket-policy",
]
TLS_CONDITION = {"Bool": {"aws:SecureTransport": "false"}}


def _hand_made(s3: Any, bucket: str) -> None:
    """A bucket made by hand, without any of the settings."""
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})


def _assert_compliant(s3: Any, bucket: str, *, sse: str = "AES256") -> None:
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == sse
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    tls = [s for s in policy_of(s3, bucket)["Statement"] if s.get("Condition") == TLS_CONDITION]
    assert len(tls) == 1 and tls[0]["Effect"] == "Deny"


def test_creates_bucket_with_every_setting(proxy, admin, bucket, backend_for):
    result = run(backend_for(bucket), {"tags": {"Team": "platform", "CostCenter": 42}})

    s3 = admin()
    assert result.status is Status.CREATED
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    policy = policy_of(s3, bucket)
    assert policy["Statement"] == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": TLS_CONDITION,
        }
    ]
    assert tags_of(s3, bucket) == {"ManagedBy": "provisioner", "Purpose": "terraform-state", "Team": "platform", "CostCenter": "42"}
    # The calls, in order, as the server saw them.
    assert [a.verb for a in result.actions][: len(BUCKET_WRITES)] == BUCKET_WRITES
    assert [c.operation for c in proxy.writes()][:6] == [
        "PUT (bucket)",
        "PUT versioning",
        "PUT encryption",
        "PUT publicAccessBlock",
        "PUT ownershipControls",
        "PUT policy",
    ]
    assert result.details["encryption"] == "AES256 (SSE-S3)"
    assert result.details["locking"] == "S3 lockfile (use_lockfile)"


def test_tags_go_in_the_create_call_and_are_put_when_the_store_drops_them(proxy, admin, bucket, backend_for):
    result = run(backend_for(bucket))

    create = next(a for a in result.actions if a.verb == "create-bucket")
    if botocore_sends_tags_with_create():
        assert "tags ManagedBy=provisioner, Purpose=terraform-state" in create.detail
        # moto ignores CreateBucketConfiguration.Tags: the provisioner notices and tags the bucket right after.
        assert any("dropped the tags sent with CreateBucket" in w for w in result.warnings)
    else:
        assert "tags" not in create.detail
    assert [a.verb for a in result.actions][-1] == "put-bucket-tagging"
    assert tags_of(admin(), bucket) == {"ManagedBy": "provisioner", "Purpose": "terraform-state"}


def test_us_east_1_is_created_without_location_constraint(proxy, admin, bucket, backend_for):
    # moto rejects LocationConstraint=us-east-1 (InvalidLocationConstraint), as AWS does.
    result = run(backend_for(bucket, region="us-east-1"))

    assert result.status is Status.CREATED
    assert admin(region="us-east-1").get_bucket_location(Bucket=bucket)["LocationConstraint"] is None


def test_second_run_is_unchanged_and_makes_no_write_call(proxy, admin, bucket, backend_for):
    run(backend_for(bucket), {"tags": {"Team": "platform"}})
    proxy.reset()

    again = run(backend_for(bucket), {"tags": {"Team": "platform"}})

    assert again.status is Status.UNCHANGED
    assert again.actions == () and again.drift == ()
    assert proxy.writes() == []
    assert not [c for c in proxy.calls if c.service == "sts"]  # who we are is asked only to explain a bare 403
    # It did read every setting to know that.
    assert {c.operation for c in proxy.calls} >= {
        "HEAD (bucket)",
        "GET versioning",
        "GET encryption",
        "GET publicAccessBlock",
        "GET ownershipControls",
        "GET policy",
        "GET tagging",
    }


def test_dry_run_lists_every_call_in_order_and_writes_nothing(proxy, admin, bucket, backend_for):
    result = run(backend_for(bucket), {"tags": {"Team": "platform"}}, dry_run=True)

    assert result.status is Status.PLANNED
    if botocore_sends_tags_with_create():
        assert [a.verb for a in result.actions] == BUCKET_WRITES  # tags ride in the create call
        assert "tags ManagedBy=provisioner, Purpose=terraform-state, Team=platform" in result.actions[0].detail
    else:
        assert [a.verb for a in result.actions] == [*BUCKET_WRITES, "put-bucket-tagging"]
    assert result.details["versioning"] == "Enabled"
    assert result.details["public_access_block"] == "all four flags on"
    assert result.details["tags"] == "ManagedBy=provisioner, Purpose=terraform-state, Team=platform"
    assert proxy.writes() == []
    assert [c.operation for c in proxy.calls] == ["HEAD (bucket)"]
    with pytest.raises(Exception, match="404|Not Found"):
        admin().head_bucket(Bucket=bucket)


def test_dry_run_on_a_drifted_bucket_plans_only_the_fixes(proxy, admin, bucket, backend_for):
    s3 = admin()
    _hand_made(s3, bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    result = run(backend_for(bucket), dry_run=True)

    assert result.status is Status.PLANNED
    assert "put-bucket-versioning" not in [a.verb for a in result.actions]
    assert {d.setting for d in result.drift} >= {"encryption", "public_access_block", "ownership_controls", "tls_policy"}
    assert all(d.resolution is Resolution.PLANNED for d in result.drift)
    assert proxy.writes() == []
    with pytest.raises(Exception, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=bucket)


def test_drift_is_repaired_by_strengthening(proxy, admin, bucket, backend_for):
    s3 = admin()
    _hand_made(s3, bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})

    result = run(backend_for(bucket))

    assert result.status is Status.UPDATED
    _assert_compliant(s3, bucket)
    drift = {d.setting: d for d in result.drift}
    assert drift["versioning"].actual == "Suspended" and drift["versioning"].resolution is Resolution.APPLIED
    assert drift["public_access_block"].actual == "off: IgnorePublicAcls, RestrictPublicBuckets"
    assert drift["ownership_controls"].actual == "ObjectWriter"
    assert drift["encryption"].actual == "none"
    assert "create-bucket" not in [a.verb for a in result.actions]


def test_keeps_every_user_policy_statement_and_adds_one_tls_statement(proxy, admin, bucket, backend_for):
    s3 = admin()
    _hand_made(s3, bucket)
    user_statement = {
        "Sid": "AllowCiRole",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/ci"},
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Id": "team-policy", "Statement": [user_statement]}))

    run(backend_for(bucket))
    proxy.reset()
    again = run(backend_for(bucket))

    policy = policy_of(s3, bucket)
    assert policy["Id"] == "team-policy"
    assert policy["Statement"][0] == user_statement  # untouched, first, as it was
    assert [s.get("Sid") for s in policy["Statement"]] == ["AllowCiRole", "DenyInsecureTransport"]
    assert again.status is Status.UNCHANGED and proxy.writes() == []


def test_an_equivalent_tls_statement_under_another_sid_is_accepted(proxy, admin, bucket, backend_for):
    # A bucket made by Terragrunt carries its statement as Sid "EnforcedTLS".
    s3 = admin()
    _hand_made(s3, bucket)
    arn = f"arn:aws:s3:::{bucket}"
    terragrunt = {
        "Sid": "EnforcedTLS",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["s3:*"],
        "Resource": [f"{arn}/*", arn],
        "Condition": {"Bool": {"aws:SecureTransport": False}},
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [terragrunt]}))

    result = run(backend_for(bucket))

    assert "put-bucket-policy" not in [a.verb for a in result.actions]
    assert result.details["tls_policy"] == "enforced by statement EnforcedTLS"
    assert policy_of(s3, bucket)["Statement"] == [terragrunt]


def _statements_json(policy: dict[str, Any]) -> list[str]:
    return [json.dumps(s) for s in policy["Statement"]]


def test_a_user_statement_under_our_sid_is_never_replaced(proxy, admin, bucket, backend_for):
    # Issue 16: delete protection written under "DenyInsecureTransport" was replaced by our TLS
    # statement (and the drift line still said "existing statements kept: 3").
    s3 = admin()
    _hand_made(s3, bucket)
    arn = f"arn:aws:s3:::{bucket}"
    readers = {"Sid": "Readers", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/ci"}, "Action": "s3:GetObject", "Resource": f"{arn}/*"}
    protect = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:DeleteBucket", "s3:PutBucketPolicy"],
        "Resource": arn,
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/admin"}},
    }
    writers = {"Sid": "Writers", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/ci"}, "Action": "s3:PutObject", "Resource": f"{arn}/*"}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Id": "team", "Statement": [readers, protect, writers]}))
    before = _statements_json(policy_of(s3, bucket))

    result = run(backend_for(bucket))

    policy = policy_of(s3, bucket)
    assert _statements_json(policy)[:3] == before  # every statement byte-equal, in its place
    assert policy["Id"] == "team"
    ours = policy["Statement"][3]
    assert ours["Sid"] == "DenyInsecureTransportProvisioner" and ours["Condition"] == TLS_CONDITION and ours["Action"] == "s3:*"
    assert len(policy["Statement"]) == 4
    drift = {d.setting: d for d in result.drift}
    assert drift["tls_policy"].actual == "no statement denies non-TLS requests (existing statements kept: 3)"
    assert drift["tls_policy"].expected == "statement DenyInsecureTransportProvisioner denies non-TLS requests"
    taken = drift["tls_policy.DenyInsecureTransport"]
    assert taken.resolution is Resolution.KEPT
    assert taken.actual == "a statement this provisioner did not write (Deny s3:DeleteBucket, s3:PutBucketPolicy)"
    assert "kept as it is" in taken.reason and "DenyInsecureTransportProvisioner" in taken.reason
    assert result.details["tls_policy"] == "statement DenyInsecureTransportProvisioner denies non-TLS requests"

    proxy.reset()
    again = run(backend_for(bucket))
    assert again.status is Status.UNCHANGED and proxy.writes() == []
    assert again.details["tls_policy"] == "enforced by statement DenyInsecureTransportProvisioner"


def test_a_stronger_tls_rule_under_our_sid_is_kept_and_nothing_written(proxy, admin, bucket, backend_for):
    # Issue 16: a statement denying TLS below 1.2 was replaced by ours, which allows TLS 1.0 and 1.1.
    s3 = admin()
    _hand_made(s3, bucket)
    arn = f"arn:aws:s3:::{bucket}"
    stronger = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}},
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [stronger]}))
    raw_before = s3.get_bucket_policy(Bucket=bucket)["Policy"]

    result = run(backend_for(bucket))

    assert "put-bucket-policy" not in [a.verb for a in result.actions]
    assert "tls_policy" not in {d.setting for d in result.drift}
    assert result.details["tls_policy"] == "enforced by statement DenyInsecureTransport"
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == raw_before


def test_our_exact_statement_is_left_unchanged(proxy, admin, bucket, backend_for):
    s3 = admin()
    _hand_made(s3, bucket)
    ours = tls_statement("DenyInsecureTransport", f"arn:aws:s3:::{bucket}")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [ours]}))

    result = run(backend_for(bucket))

    assert "put-bucket-policy" not in [a.verb for a in result.actions]
    assert result.details["tls_policy"] == "enforced by statement DenyInsecureTransport"
    assert policy_of(s3, bucket)["Statement"] == [ours]


def test_a_narrowed_statement_with_our_sid_is_kept_and_ours_added_under_another_sid(proxy, admin, bucket, backend_for):
    # Only on objects, only GetObject: we cannot tell who narrowed it, so it stays as it is.
    s3 = admin()
    _hand_made(s3, bucket)
    arn = f"arn:aws:s3:::{bucket}"
    narrowed = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"{arn}/*",
        "Condition": TLS_CONDITION,
    }
    other = {"Sid": "DenyDelete", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": arn}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [narrowed, other]}))

    result = run(backend_for(bucket))

    statements = policy_of(s3, bucket)["Statement"]
    assert statements[:2] == [narrowed, other]
    assert statements[2] == tls_statement("DenyInsecureTransportProvisioner", arn)
    detail = next(a for a in result.actions if a.verb == "put-bucket-policy").detail
    assert detail.startswith("add statement DenyInsecureTransportProvisioner")


def test_kms_encryption_is_never_replaced_by_aes256(proxy, admin, bucket, backend_for):
    s3 = admin()
    _hand_made(s3, bucket)
    kms = {
        "ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": "arn:aws:kms:eu-west-1:123456789012:key/team-key",
        },
        "BucketKeyEnabled": False,
    }
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [kms]})

    result = run(backend_for(bucket))  # no kms_key_id: the default would be AES256

    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"] == [kms]
    assert "put-bucket-encryption" not in [a.verb for a in result.actions]
    (drift,) = [d for d in result.drift if d.setting == "encryption"]
    assert drift.resolution is Resolution.KEPT and "stronger" in drift.reason
    assert result.details["encryption"].startswith("aws:kms key arn:aws:kms:eu-west-1:123456789012:key/team-key")


def test_configured_kms_key_upgrades_aes256_with_bucket_key(proxy, admin, bucket, backend_for):
    s3 = admin()
    _hand_made(s3, bucket)
    s3.put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    )
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    result = run(backend_for(bucket, kms_key_id=key, encrypt=True))

    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}, "BucketKeyEnabled": True}
    assert next(d for d in result.drift if d.setting == "encryption").resolution is Resolution.APPLIED


def test_another_kms_key_is_kept(proxy, admin, bucket, backend_for):
    s3 = admin()
    _hand_made(s3, bucket)
    theirs = {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "key-of-the-security-team"},
        "BucketKeyEnabled": True,
    }
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [theirs]})

    result = run(backend_for(bucket, kms_key_id="key-of-terraform"))

    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"] == [theirs]
    assert next(d for d in result.drift if d.setting == "encryption").resolution is Resolution.KEPT


def test_tags_are_merged_and_never_dropped(proxy, admin, bucket, backend_for):
    s3 = admin()
    _hand_made(s3, bucket)
    s3.put_bucket_tagging(
        Bucket=bucket,
        Tagging={
            "TagSet": [{"Key": "Owner", "Value": "team-a"}, {"Key": "ManagedBy", "Value": "terraform"}, {"Key": "Team", "Value": "old"}]
        },
    )

    result = run(backend_for(bucket), {"tags": {"Team": "platform"}})

    assert tags_of(s3, bucket) == {"Owner": "team-a", "ManagedBy": "terraform", "Team": "platform", "Purpose": "terraform-state"}
    drift = {d.setting: d for d in result.drift}
    assert drift["tags.ManagedBy"].resolution is Resolution.KEPT  # a default never overwrites an existing value
    assert drift["tags.Team"].resolution is Resolution.APPLIED  # the user's own tag does
    assert drift["tags.Purpose"].actual == "(none)"


def test_enabled_versioning_and_full_public_access_block_are_left_alone(proxy, admin, bucket, backend_for):
    s3 = admin()
    _hand_made(s3, bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
        ),
    )

    result = run(backend_for(bucket))

    written = {c.operation for c in proxy.writes()}
    assert "PUT versioning" not in written and "PUT publicAccessBlock" not in written
    assert {d.setting for d in result.drift}.isdisjoint({"versioning", "public_access_block"})


def test_report_only_reports_drift_and_writes_nothing(proxy, admin, bucket, backend_for):
    s3 = admin()
    _hand_made(s3, bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})

    result = run(backend_for(bucket), {"report_only": True, "tags": {"Team": "platform"}})

    assert result.status is Status.UNCHANGED
    assert "put-bucket-versioning" in [a.verb for a in result.actions] and all(a.planned for a in result.actions)  # listed, not made
    assert proxy.writes() == []
    drift = {d.setting: d for d in result.drift}
    assert {"versioning", "encryption", "public_access_block", "ownership_controls", "tls_policy", "tags.Team"} <= set(drift)
    assert all(d.resolution is Resolution.REPORTED for d in drift.values())
    assert result.details["versioning"] == "Suspended"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_skipped_settings_are_neither_read_nor_written(proxy, admin, bucket, backend_for):
    skip = ["ownership_controls", "tags", "tls_policy", "public_access_block"]
    result = run(backend_for(bucket), {"skip": skip})

    assert result.status is Status.CREATED
    operations = {c.operation for c in proxy.calls}
    for sub in ("ownershipControls", "tagging", "policy", "publicAccessBlock"):
        assert not any(sub in op for op in operations), sub
    assert [a.verb for a in result.actions] == ["create-bucket", "put-bucket-versioning", "put-bucket-encryption"]
    assert "tags" not in result.actions[0].detail
    assert result.details["tls_policy"] == "skipped (provision.backend.skip)"
    assert result.details["skipped"] == "ownership_controls, public_access_block, tags, tls_policy"
    with pytest.raises(Exception, match="NoSuchBucketPolicy"):
        admin().get_bucket_policy(Bucket=bucket)


def test_legacy_force_path_style_and_endpoint_keys_are_honoured(proxy, admin, bucket, backend_for):
    section = backend_for(bucket)
    del section["use_path_style"], section["endpoints"]
    section.update(force_path_style=True, endpoint=proxy.url)

    result = run(section)

    assert result.status is Status.CREATED
    assert all(c.path.startswith(f"/{bucket}") for c in proxy.calls if c.service == "s3")
    assert any("backend.endpoint is deprecated" in w for w in result.warnings)


def test_a_bucket_created_by_a_concurrent_run_is_continued_not_failed(proxy, admin, bucket, backend_for):
    # Simulate the race: our HeadBucket said "missing", then another run created it (AWS answers BucketAlreadyOwnedByYou).
    admin().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    proxy.fail("HEAD (bucket)", 404, "NotFound")

    result = run(backend_for(bucket))

    assert result.status is Status.UPDATED  # we did not create it, we strengthened it
    create = result.actions[0]
    assert create.verb == "create-bucket" and "concurrent" in create.detail
    _assert_compliant(admin(), bucket)


def test_concurrent_provisions_of_one_bucket_all_succeed_with_one_tls_statement(proxy, admin, bucket, backend_for):
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def one() -> None:
        try:
            start.wait()
            results.append(run(backend_for(bucket), clients=ClientCache()))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert len(results) == 6
    assert {r.status for r in results} <= {Status.CREATED, Status.UPDATED, Status.UNCHANGED}
    s3 = admin()
    _assert_compliant(s3, bucket)
    assert len(policy_of(s3, bucket)["Statement"]) == 1
    assert tags_of(s3, bucket) == {"ManagedBy": "provisioner", "Purpose": "terraform-state"}


def test_no_secret_in_any_result(proxy, bucket, backend_for):
    results = [
        run(backend_for(bucket), {"tags": {"Team": "x"}}, dry_run=True),
        run(backend_for(bucket)),
        run(backend_for(bucket), {"report_only": True}),
    ]

    for result in results:
        assert SECRET_KEY not in json.dumps(result.to_dict())


def test_concurrent_provisions_from_separate_processes(proxy, admin, bucket, backend_for):
    # Like parallel CI jobs: separate interpreters, each with its own clients, started together.
    script = "import json, sys; from support.s3_helpers import run; print(run(json.loads(sys.argv[1])).status.value)"
    tests_dir = str(Path(support_helpers.__file__).resolve().parents[1])  # the folder holding support/ (the repo's tests/, or an sdist's)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [tests_dir, os.environ.get("PYTHONPATH")]))}
    section = json.dumps(backend_for(bucket, dynamodb_table=f"{bucket}-locks"))
    workers = [
        subprocess.Popen([sys.executable, "-c", script, section], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(4)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]

    assert [w.returncode for w in workers] == [0, 0, 0, 0], [err for _, err in outputs]
    assert {out.strip() for out, _ in outputs} <= {"created", "updated", "unchanged"}
    s3 = admin()
    _assert_compliant(s3, bucket)
    assert len(policy_of(s3, bucket)["Statement"]) == 1
    table = admin("dynamodb").describe_table(TableName=f"{bucket}-locks")["Table"]
    assert table["TableStatus"] == "ACTIVE" and table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
