"""The DynamoDB lock table against a real moto server, calls counted at the wire."""

from __future__ import annotations

import pytest

from provisioner_backend_s3.lock_table import LockTableProvisioner
from provisioner_core import EXIT_CONFLICT, Resolution, ResourceConflict, Status
from support.s3_helpers import run

LOCK_KEY = {
    "AttributeDefinitions": [{"AttributeName": "LockID", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "LockID", "KeyType": "HASH"}],
}


def _ddb_ops(proxy):  # type: ignore[no-untyped-def]
    return [c.operation for c in proxy.calls if c.service == "dynamodb"]


def test_lock_table_is_created_with_every_setting(proxy, admin, bucket, table, backend_for):
    result = run(backend_for(bucket, dynamodb_table=table, use_lockfile=False), {"tags": {"Team": "platform"}})

    ddb = admin("dynamodb")
    described = ddb.describe_table(TableName=table)["Table"]
    assert result.status is Status.CREATED
    assert described["TableStatus"] == "ACTIVE"
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["KeySchema"] == LOCK_KEY["KeySchema"]
    assert described["AttributeDefinitions"] == LOCK_KEY["AttributeDefinitions"]
    assert described["SSEDescription"]["Status"] == "ENABLED"
    backups = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=described["TableArn"])["Tags"]}
    assert tags == {"ManagedBy": "provisioner", "Purpose": "terraform-state", "Team": "platform"}
    assert [a.verb for a in result.actions][-2:] == ["create-table", "update-continuous-backups"]
    assert result.details["locking"] == f"DynamoDB table {table}"
    assert "no state locking" not in " ".join(result.warnings)


def test_second_run_reads_the_table_and_writes_nothing(proxy, bucket, table, backend_for):
    run(backend_for(bucket, dynamodb_table=table))
    proxy.reset()

    again = run(backend_for(bucket, dynamodb_table=table))

    assert again.status is Status.UNCHANGED
    assert proxy.writes() == []
    assert _ddb_ops(proxy) == ["DescribeTable", "DescribeContinuousBackups", "ListTagsOfResource"]


def test_dry_run_plans_the_table_without_creating_it(proxy, admin, bucket, table, backend_for):
    result = run(backend_for(bucket, dynamodb_table=table), dry_run=True)

    assert [a.verb for a in result.actions][-2:] == ["create-table", "update-continuous-backups"]
    assert "PAY_PER_REQUEST, LockID (S), SSE" in result.actions[-2].detail
    assert _ddb_ops(proxy) == ["DescribeTable"]
    assert proxy.writes() == []
    assert table not in admin("dynamodb").list_tables()["TableNames"]


def test_an_existing_table_is_strengthened_and_its_billing_mode_kept(proxy, admin, bucket, table, backend_for):
    ddb = admin("dynamodb")
    ddb.create_table(
        TableName=table,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        Tags=[{"Key": "Owner", "Value": "dba"}],
        **LOCK_KEY,
    )

    result = run(backend_for(bucket, dynamodb_table=table))

    drift = {d.setting: d for d in result.drift}
    assert drift["lock_table.billing_mode"].resolution is Resolution.KEPT
    assert drift["lock_table.point_in_time_recovery"].resolution is Resolution.APPLIED
    assert drift["lock_table.sse"].resolution is Resolution.APPLIED
    assert "UpdateTable" in _ddb_ops(proxy) and "UpdateContinuousBackups" in _ddb_ops(proxy)
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert (
        ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"
        ]
        == "ENABLED"
    )
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=described["TableArn"])["Tags"]}
    assert tags == {"Owner": "dba", "ManagedBy": "provisioner", "Purpose": "terraform-state"}  # added, none dropped
    # moto accepts UpdateTable(SSESpecification) but does not store it, so SSE is not read back here.


def test_a_table_with_the_wrong_key_is_a_conflict(proxy, admin, bucket, table, backend_for):
    admin("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )

    with pytest.raises(ResourceConflict) as caught:
        run(backend_for(bucket, dynamodb_table=table))

    assert caught.value.exit_code == EXIT_CONFLICT
    assert "needs a single hash key LockID (S)" in caught.value.message
    assert not [c for c in proxy.writes() if c.service == "dynamodb"]


def test_a_table_created_by_a_concurrent_run_is_waited_for(proxy, admin, bucket, table, backend_for, monkeypatch):
    # The race: DescribeTable said "missing", then another run created it; CreateTable answers ResourceInUseException.
    admin("dynamodb").create_table(TableName=table, BillingMode="PAY_PER_REQUEST", **LOCK_KEY)
    real_describe = LockTableProvisioner.describe
    first = [True]

    def describe(self):  # type: ignore[no-untyped-def]
        if first.pop() if first else False:
            return None
        return real_describe(self)

    monkeypatch.setattr(LockTableProvisioner, "describe", describe)

    result = run(backend_for(bucket, dynamodb_table=table))

    create = next(a for a in result.actions if a.verb == "create-table")
    assert "concurrent" in create.detail
    assert "CreateTable" in _ddb_ops(proxy)
    assert (
        admin("dynamodb").describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"
        ]
        == "ENABLED"
    )


def test_use_lockfile_needs_no_table(proxy, bucket, backend_for):
    result = run(backend_for(bucket, use_lockfile=True))

    assert _ddb_ops(proxy) == []
    assert result.details["locking"] == "S3 lockfile (use_lockfile)"
    assert "lock_table" not in result.details


def test_skipping_the_table_and_its_settings(proxy, admin, bucket, table, backend_for):
    other = table + "-b"
    skipped = run(backend_for(bucket, dynamodb_table=table, use_lockfile=False), {"skip": ["lock_table"]})
    partial = run(backend_for(bucket + "-b", dynamodb_table=other), {"skip": ["lock_table_pitr", "lock_table_sse"]})

    assert skipped.details["locking"] == f"DynamoDB table {table} (not managed: skipped)"
    assert table not in admin("dynamodb").list_tables()["TableNames"]
    assert "update-continuous-backups" not in [a.verb for a in partial.actions]
    assert "SSEDescription" not in admin("dynamodb").describe_table(TableName=other)["Table"]


def test_report_only_with_a_missing_table_is_a_config_error(proxy, admin, bucket, table, backend_for):
    admin().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    with pytest.raises(Exception, match="does not exist and provision.backend.report_only is true") as caught:
        run(backend_for(bucket, dynamodb_table=table), {"report_only": True})

    assert caught.value.exit_code == 2
    assert proxy.writes() == []
