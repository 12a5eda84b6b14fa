"""Reliability, S3 backend: never clobber, never weaken, never touch state, never use ambient credentials (moto server).

Scenes are arranged straight on moto; `provision` talks to moto through the recording fault proxy
(tests/support/faults.py, no faults), so "no such call reached the server" is asserted on the wire.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from typing import Any

import pytest

from provisioner_core.plugins import PluginRegistry
from provisioner_core.testing import CliRunner
from support.faults import FaultProxy, is_write
from support.s3_reliability import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    TLS_SID,
    USER_TAGS,
    admin,
    all_gaps,
    clean_env,
    one_result,
    run_provision,
    write_stack,
)

ARGS = ["backend", "app", "-s", "dev", "-o", "json"]
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f0f0f0f-aaaa-bbbb-cccc-0123456789ab"
EXISTING_TAGS = {"Owner": "data-team", "Environment": "prod", "ManagedBy": "console"}
LIFECYCLE = [
    {"ID": "expire-old-versions", "Status": "Enabled", "Filter": {"Prefix": ""}, "NoncurrentVersionExpiration": {"NoncurrentDays": 3650}},
    {
        "ID": "abort-uploads",
        "Status": "Enabled",
        "Filter": {"Prefix": "tmp/"},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    },
]
RETENTION = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 400}}}


@pytest.fixture
def proxy(moto_server):
    with FaultProxy(moto_server.url) as recording:
        yield recording


@pytest.fixture
def cli(stack_tree):
    return CliRunner(stack_tree.root, PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-s3"}))


def _names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:12]
    return f"safe-{tag}", f"safe-locks-{tag}"


def _user_statement(bucket: str) -> dict[str, Any]:
    return {
        "Sid": "ReadersMayRead",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/state-reader"},
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    }


def _existing_table(ddb: Any, table: str) -> None:
    ddb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        SSESpecification={"Enabled": True},
        Tags=[{"Key": k, "Value": v} for k, v in EXISTING_TAGS.items()],
    )


@pytest.mark.parametrize("kms_key_id", [None, OTHER_KMS_KEY], ids=["sse-s3-desired", "another-kms-key-desired"])
def test_existing_settings_are_never_clobbered_or_weakened(cli, stack_tree, proxy, moto_server, kms_key_id):
    bucket, table = _names()
    s3, ddb = admin(moto_server.url), admin(moto_server.url, "dynamodb")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}, ObjectLockEnabledForBucket=True)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=RETENTION)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_KEY}, "BucketKeyEnabled": True}
            ]
        },
    )
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in EXISTING_TAGS.items()]})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": LIFECYCLE})
    user_statement = _user_statement(bucket)
    original_policy = json.dumps({"Version": "2012-10-17", "Id": "team-policy", "Statement": [user_statement]})
    s3.put_bucket_policy(Bucket=bucket, Policy=original_policy)
    _existing_table(ddb, table)
    lifecycle_before = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    retention_before = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert retention_before["Rule"]["DefaultRetention"]["Days"] == 400
    extra = {"kms_key_id": kms_key_id} if kms_key_id else {}
    write_stack(stack_tree, proxy.url, bucket, table, **extra)

    result = one_result(cli.run(ARGS).stdout)

    assert result["status"] == "updated"
    # The user's policy statement: still there, first, byte for byte; ours appended once; Version and Id kept.
    raw_policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    policy = json.loads(raw_policy)
    assert json.dumps(user_statement) in raw_policy
    assert policy["Statement"][0] == user_statement
    assert [s["Sid"] for s in policy["Statement"]] == ["ReadersMayRead", TLS_SID]
    assert (policy["Version"], policy["Id"]) == ("2012-10-17", "team-policy")
    # KMS encryption: still aws:kms with the same key and bucket key on (never replaced by AES256 or by another key).
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_KEY}
    assert rule["BucketKeyEnabled"] is True
    encryption_drift = [d for d in result["drift"] if d["setting"] == "encryption"]
    assert [d["resolution"] for d in encryption_drift] == ["kept"]
    # Each user tag, one by one; an existing ManagedBy value is kept; ours are added.
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    for key, value in EXISTING_TAGS.items():
        assert tags[key] == value, key
    assert tags["Purpose"] == "terraform-state" and all(tags[k] == v for k, v in USER_TAGS.items())
    # Lifecycle rules and the object-lock retention (400 days): unchanged.
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == lifecycle_before
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == retention_before
    # Versioning still on.
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    # The lock table: PROVISIONED billing kept (a cost choice), its tags kept, PITR turned on.
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    table_tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=described["TableArn"])["Tags"]}
    for key, value in EXISTING_TAGS.items():
        assert table_tags[key] == value, key
    pitr = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    # On the wire: no call that could replace encryption, lifecycle, versioning, object lock, or the table's billing.
    writes = [r.aws_operation for r in proxy.requests() if is_write(r)]
    assert sorted(writes) == sorted(
        ["PUT publicAccessBlock", "PUT ownershipControls", "PUT policy", "PUT tagging", "UpdateContinuousBackups", "TagResource"]
    )


def _versions(s3: Any, bucket: str) -> list[tuple[str, str, str, int, bool]]:
    answer = s3.list_object_versions(Bucket=bucket)
    return sorted((v["Key"], v["VersionId"], v["ETag"], v["Size"], v["IsLatest"]) for v in answer.get("Versions", []))


def test_state_objects_are_never_deleted_or_rewritten(cli, stack_tree, proxy, moto_server):
    bucket, table = _names()
    s3, ddb = admin(moto_server.url), admin(moto_server.url, "dynamodb")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    bodies = [json.dumps({"version": 4, "serial": n, "lineage": "l-1", "outputs": {}}).encode() for n in (1, 2)]
    for body in bodies:  # two versions of the state object
        s3.put_object(Bucket=bucket, Key="app/terraform.tfstate", Body=body)
    s3.put_object(Bucket=bucket, Key="app/terraform.tfstate.tflock", Body=b'{"ID": "held-by-a-running-apply"}')
    # Drift to repair: versioning suspended, nothing else configured; the lock table exists with terraform's digest item.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    ddb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    digest_item = {"LockID": {"S": f"{bucket}/app/terraform.tfstate-md5"}, "Digest": {"S": hashlib.md5(bodies[1]).hexdigest()}}  # noqa: S324
    ddb.put_item(TableName=table, Item=digest_item)
    versions_before = _versions(s3, bucket)
    assert len(versions_before) == 3
    write_stack(stack_tree, proxy.url, bucket, table)

    repaired = one_result(cli.run(ARGS).stdout)
    proxy_writes_first = [str(r) for r in proxy.requests() if is_write(r)]
    again = one_result(cli.run(ARGS).stdout)

    assert repaired["status"] == "updated" and "versioning" in [d["setting"] for d in repaired["drift"]]
    assert again["status"] in ("unchanged", "updated")  # moto forgets UpdateTable(SSE) on an existing table: see docs
    assert all_gaps(moto_server.url, bucket, None) == []
    # moto cannot evaluate aws:SecureTransport: with the TLS-only statement in place it refuses every
    # object read over HTTP. Take the policy off (straight at moto, after the runs) to read the objects back.
    s3.delete_bucket_policy(Bucket=bucket)
    # Every version of every object: same id, ETag, size, latest flag, and body.
    assert _versions(s3, bucket) == versions_before
    for key, version_id, _etag, _size, _latest in versions_before:
        body = s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"].read()
        assert body in (*bodies, b'{"ID": "held-by-a-running-apply"}')
    state_versions = sorted((v for v in versions_before if v[0] == "app/terraform.tfstate"), key=lambda v: v[4])
    assert [s3.get_object(Bucket=bucket, Key=v[0], VersionId=v[1])["Body"].read() for v in state_versions] == bodies
    assert ddb.get_item(TableName=table, Key={"LockID": digest_item["LockID"]})["Item"] == digest_item
    # On the wire: no call touched an object (a path below the bucket), nothing was deleted, no item was written.
    assert proxy_writes_first
    for request in proxy.requests():
        assert request.path in ("/", f"/{bucket}", f"/{bucket}/"), str(request)
        assert request.method != "DELETE", str(request)
        assert request.aws_operation not in ("PutItem", "DeleteItem", "UpdateItem", "BatchWriteItem", "DeleteTable"), str(request)


AMBIENT_SECRETS = ("ambient-environ-secret", "ambient-session-token", "ambient-profile-secret", "ambient-default-secret")


def _ambient_files(tmp_path, decoy_url: str, broken: bool) -> dict[str, str]:
    config, credentials = tmp_path / "aws-config", tmp_path / "aws-credentials"
    if broken:  # files botocore cannot parse, and a profile that does not exist
        config.write_text("[profile broken\nregion = \n")
        credentials.write_text("[default\naws_access_key_id\n")
        return {"AWS_PROFILE": "no-such-profile", "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    config.write_text(
        f"[default]\nregion = us-west-2\nendpoint_url = {decoy_url}\n"
        f"[profile ambient]\nregion = ap-south-1\nendpoint_url = {decoy_url}\nmax_attempts = 1\n"
    )
    credentials.write_text(
        "[default]\naws_access_key_id = AKIAAMBIENTDEFAULT01\naws_secret_access_key = ambient-default-secret\n"
        "[ambient]\naws_access_key_id = AKIAAMBIENTPROFILE01\naws_secret_access_key = ambient-profile-secret\n"
    )
    return {"AWS_PROFILE": "ambient", "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}


@pytest.mark.parametrize("broken", [False, True], ids=["another-identity", "broken-ambient-config"])
def test_ambient_aws_credentials_and_endpoints_are_never_used(stack_tree, proxy, moto_server, tmp_path, broken):
    bucket, table = _names()
    write_stack(stack_tree, proxy.url, bucket, table)
    with FaultProxy(moto_server.url) as decoy:  # where the ambient endpoint settings point: must see nothing
        env = clean_env(
            AWS_ACCESS_KEY_ID="AKIAAMBIENTENVIRON01",
            AWS_SECRET_ACCESS_KEY="ambient-environ-secret",
            AWS_SESSION_TOKEN="ambient-session-token",
            AWS_DEFAULT_REGION="us-west-2",
            AWS_REGION="ap-south-1",
            AWS_ENDPOINT_URL=decoy.url,
            AWS_ENDPOINT_URL_S3=decoy.url,
            AWS_ENDPOINT_URL_DYNAMODB=decoy.url,
            AWS_ENDPOINT_URL_STS=decoy.url,
            **_ambient_files(tmp_path, decoy.url, broken),
        )

        created = run_provision(stack_tree.root, env=env)
        proxy_requests_first = proxy.requests()
        unchanged = run_provision(stack_tree.root, env=env)

        assert created.returncode == 0, created.stderr
        assert unchanged.returncode == 0 and one_result(unchanged.stdout)["status"] == "unchanged"
        assert decoy.exchanges == []
    requests = proxy.requests()
    assert {"s3", "dynamodb"} <= {r.aws_service for r in requests} and len(proxy_requests_first) > 10
    for request in requests:
        # Signed with the AuthContext's key, for the backend's region, with no session token from the environment.
        assert request.access_key_id == ACCESS_KEY, str(request)
        assert request.credential[2] == REGION, (str(request), request.credential)
        assert request.header("X-Amz-Security-Token") == "", str(request)
    assert all_gaps(moto_server.url, bucket, table) == []
    for output in (created.stdout + created.stderr, unchanged.stdout + unchanged.stderr):
        for secret in (SECRET_KEY, *AMBIENT_SECRETS):
            assert secret not in output


@pytest.mark.parametrize(
    ("config", "fragment"),
    [("[profile other]\nregion = eu-west-1\n", "AWS profile not found: team-admin"), ("[profile team-admin\n", "cannot be parsed")],
    ids=["missing-profile", "unparsable-config"],
)
def test_a_profile_that_cannot_be_loaded_is_a_config_error(cli, stack_tree, proxy, tmp_path, config, fragment):
    # The explicit opt-in to a config file (auth type profile): its problems are the user's (exit 2), never "a bug" (exit 1).
    (tmp_path / "config").write_text(config)
    write_stack(stack_tree, proxy.url, _names()[0], auth={"aws": {"type": "profile", "profile": "team-admin"}})

    result = cli.run(ARGS, exit_code=2, env={"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": os.devnull})

    assert fragment in json.loads(result.stdout)["error"]["message"]
    assert "Traceback" not in result.output and proxy.exchanges == []
