"""The DynamoDB lock table: PAY_PER_REQUEST, LockID (S), SSE, point-in-time recovery, tags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner_backend_s3.client import AwsClients
from provisioner_backend_s3.config import DEFAULT_TAGS, S3Backend, S3Options
from provisioner_backend_s3.errors import error_code
from provisioner_backend_s3.merge import merge_tags, tags_text
from provisioner_backend_s3.steps import Steps
from provisioner_core import ChangeRecorder, ConfigError, ProvisionerError, ResourceConflict

LOCK_KEY = "LockID"


class LockTableProvisioner(Steps):
    """The DynamoDB lock table: PAY_PER_REQUEST, LockID (S), SSE, point-in-time recovery, tags."""

    def __init__(self, clients: AwsClients, backend: S3Backend, options: S3Options, rec: ChangeRecorder) -> None:
        assert backend.dynamodb_table
        super().__init__(clients, backend, options, rec, "dynamodb", f"dynamodb table {backend.dynamodb_table}")
        self.ddb = clients.dynamodb()
        self.table = backend.dynamodb_table
        self.target = f"dynamodb table {self.table}"
        self.t: dict[str, Any] = {"TableName": self.table}
        self.concurrent = False  # True when another run created the table first

    def describe(self) -> dict[str, Any] | None:
        answer = self.read("describe-table", self.ddb.describe_table, frozenset({"ResourceNotFoundException"}), **self.t)
        return None if answer is None else answer["Table"]

    def run(self) -> None:
        table = self.describe()
        fresh = table is None
        if table is None:
            if self.rec.report_only:
                raise ConfigError(
                    f"lock table {self.table!r} does not exist and provision.backend.report_only is true",
                    hint="report_only never creates anything: create the table, or set report_only: false (or add lock_table to skip).",
                    context={"dynamodb_table": self.table, "region": self.backend.region},
                )
            table = self.create()
            fresh = not self.concurrent
        else:
            self.check_key_schema(table)
        if table is not None and table.get("TableStatus") != "ACTIVE" and self.rec.writing:
            table = self.wait_active()
        settings = ["PAY_PER_REQUEST", "LockID (S)"]
        if not fresh and table is not None:
            billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
            if billing != "PAY_PER_REQUEST":
                self.rec.drifted(
                    "lock_table.billing_mode",
                    "PAY_PER_REQUEST",
                    billing,
                    stronger=False,
                    reason="the billing mode is a cost choice, not a safety one; kept",
                )
                settings[0] = billing
        if self.options.wants("lock_table_sse"):
            settings.append(self.sse(table, fresh))
        if self.options.wants("lock_table_pitr"):
            settings.append(self.pitr(fresh))
        if self.options.wants("tags"):
            settings.append(self.tags(table, fresh))
        self.rec.details["lock_table"] = f"{self.table}: " + ", ".join(settings)

    def check_key_schema(self, table: Mapping[str, Any]) -> None:
        keys = [(k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", [])]
        types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
        if keys != [(LOCK_KEY, "HASH")] or types.get(LOCK_KEY) != "S":
            found = ", ".join(f"{name} ({types.get(name, '?')}, {kind})" for name, kind in keys)
            raise ResourceConflict(
                f"table {self.table!r} exists with key {found}; terraform's lock table needs a single hash key LockID (S)",
                hint="Point backend.dynamodb_table at another table name, or use use_lockfile: true instead of a table.",
                context={"dynamodb_table": self.table, "region": self.backend.region},
            )

    def create(self) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {
            **self.t,
            "AttributeDefinitions": [{"AttributeName": LOCK_KEY, "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": LOCK_KEY, "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if self.options.wants("lock_table_sse"):
            kwargs["SSESpecification"] = {"Enabled": True}
        tags = self.options.desired_tags()
        if self.options.wants("tags"):
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        detail = (
            "PAY_PER_REQUEST, LockID (S)"
            + (", SSE" if "SSESpecification" in kwargs else "")
            + (f", tags {tags_text(tags)}" if "Tags" in kwargs else "")
        )

        def create_call() -> dict[str, Any] | None:
            with self.translated("create-table"):
                try:
                    return dict(self.ddb.create_table(**kwargs)["TableDescription"])
                except ClientError as exc:
                    if error_code(exc) == "ResourceInUseException":
                        return None  # a concurrent run is creating it: wait below
                    raise

        created_before = self.rec.created
        created = self.record("create-table", self.target, create_call, detail, creates=True)
        if not self.rec.writing:
            return None
        if created is None:
            self.concurrent = True
            self.rec.amend_last(detail="already being created by a concurrent run; waited for it", created=created_before)
            table = self.wait_active()
            self.check_key_schema(table)
            return table
        return created

    def wait_active(self) -> dict[str, Any]:
        box: dict[str, Any] = {}

        def active() -> bool:
            table = self.describe()
            if table is not None and table.get("TableStatus") == "DELETING":
                raise ResourceConflict(
                    f"table {self.table!r} is being deleted",
                    hint="Wait for the deletion to finish, then run again.",
                    context={"dynamodb_table": self.table},
                )
            box["table"] = table
            return table is not None and table.get("TableStatus") == "ACTIVE"

        self.wait(f"table {self.table} becoming ACTIVE", active)
        return box["table"]

    def sse(self, table: Mapping[str, Any] | None, fresh: bool) -> str:
        if fresh:
            return "SSE (KMS)"
        status = ((table or {}).get("SSEDescription") or {}).get("Status")
        if status in ("ENABLED", "ENABLING", "UPDATING"):
            return "SSE (KMS)"
        self.rec.drifted("lock_table.sse", "KMS (AWS managed key)", "AWS owned key", stronger=True)
        self.write(
            "update-table",
            self.target,
            self.ddb.update_table,
            "SSESpecification Enabled=true",
            SSESpecification={"Enabled": True},
            **self.t,
        )
        return self.result_value("SSE (KMS)", "SSE (AWS owned key)", True)

    def pitr(self, fresh: bool) -> str:
        enabled = False
        if not fresh:
            answer = self.call("describe-continuous-backups", self.ddb.describe_continuous_backups, **self.t)
            status = (
                answer.get("ContinuousBackupsDescription", {}).get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
            )
            enabled = status in ("ENABLED", "ENABLING")
            if not enabled:
                self.rec.drifted("lock_table.point_in_time_recovery", "ENABLED", status or "DISABLED", stronger=True)
        if enabled:
            return "point-in-time recovery"
        self.record("update-continuous-backups", self.target, self.enable_pitr, "PointInTimeRecoveryEnabled=true")
        return self.result_value("point-in-time recovery", "no point-in-time recovery", True)

    def enable_pitr(self) -> None:
        from botocore.exceptions import ClientError

        def attempt() -> bool:
            try:
                self.call(
                    "update-continuous-backups",
                    self.ddb.update_continuous_backups,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                    **self.t,
                )
                return True
            except ProvisionerError as exc:
                cause = exc.__cause__
                # Right after CreateTable, backups may not be ready yet: try again shortly.
                if isinstance(cause, ClientError) and error_code(cause) == "ContinuousBackupsUnavailableException":
                    return False
                raise

        self.wait(f"point-in-time recovery on {self.table}", attempt)

    def tags(self, table: Mapping[str, Any] | None, fresh: bool) -> str:
        desired = self.options.desired_tags()
        if fresh and not self.rec.writing:
            return "tags " + tags_text(desired)
        arn = (table or {}).get("TableArn")
        if not arn:
            return "tags " + tags_text(desired)
        answer = self.call("list-tags-of-resource", self.ddb.list_tags_of_resource, ResourceArn=arn)
        existing = {t["Key"]: t["Value"] for t in answer.get("Tags", [])}
        merged, changes = merge_tags(existing, DEFAULT_TAGS, self.options.tags)
        add = {k: v for k, v in merged.items() if existing.get(k) != v}
        if not fresh:
            for key, actual, expected, applied in changes:
                reason = "" if applied else "the existing value is kept; set it in provision.backend.tags to override"
                self.rec.drifted(f"lock_table.tags.{key}", expected, actual, stronger=applied, reason=reason)
        if add:
            # TagResource only adds or updates the keys it is given: existing tags stay.
            self.write(
                "tag-resource",
                self.target,
                self.ddb.tag_resource,
                tags_text(add),
                ResourceArn=arn,
                Tags=[{"Key": k, "Value": v} for k, v in add.items()],
            )
        return "tags " + tags_text(merged if add and not self.rec.report_only else existing)
