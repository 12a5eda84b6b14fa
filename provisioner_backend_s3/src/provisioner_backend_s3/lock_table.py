"""The DynamoDB lock table as a resource of core's reconcile template: PAY_PER_REQUEST, LockID (S), SSE, point-in-time recovery, tags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner_backend_s3.client import AwsClients
from provisioner_backend_s3.config import S3Backend, S3Options
from provisioner_backend_s3.errors import error_code
from provisioner_backend_s3.merge import tags_text
from provisioner_backend_s3.plan import TableState, plan_table
from provisioner_backend_s3.steps import Steps
from provisioner_core import ChangeRecorder, LostRace, Plan, ProvisionerError, ResourceConflict, Write

LOCK_KEY = "LockID"


class LockTableProvisioner(Steps[TableState]):
    """The DynamoDB lock table: PAY_PER_REQUEST, LockID (S), SSE, point-in-time recovery, tags."""

    def __init__(self, clients: AwsClients, backend: S3Backend, options: S3Options, rec: ChangeRecorder) -> None:
        assert backend.dynamodb_table
        super().__init__(clients, backend, options, rec, "dynamodb", f"dynamodb table {backend.dynamodb_table}")
        self.ddb = clients.dynamodb()
        self.table = backend.dynamodb_table
        self.target = f"dynamodb table {self.table}"
        self.create_yourself = "create the table yourself (or add lock_table to provision.backend.skip)"
        self.t: dict[str, Any] = {"TableName": self.table}

    def describe(self) -> dict[str, Any] | None:
        answer = self.read_step("describe-table", self.ddb.describe_table, frozenset({"ResourceNotFoundException"}), **self.t)
        return None if answer is None else answer["Table"]

    def read(self) -> TableState | None:
        table = self.describe()
        if table is None:
            return None
        self.check_key_schema(table)
        if table.get("TableStatus") == "DELETING":
            raise ResourceConflict(f"table {self.table!r} is being deleted", hint="Wait for the deletion to finish, then run again.", context={"dynamodb_table": self.table})
        if table.get("TableStatus") != "ACTIVE":
            return TableState(table)  # read the rest once it is ACTIVE (see ready)
        pitr, status = False, None
        if self.options.wants("lock_table_pitr"):
            answer = self.call("describe-continuous-backups", self.ddb.describe_continuous_backups, **self.t)
            status = answer.get("ContinuousBackupsDescription", {}).get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
            pitr = status in ("ENABLED", "ENABLING")
        tags: dict[str, str] = {}
        if self.options.wants("tags") and table.get("TableArn"):
            answer = self.call("list-tags-of-resource", self.ddb.list_tags_of_resource, ResourceArn=table["TableArn"])
            tags = {t["Key"]: t["Value"] for t in answer.get("Tags", [])}
        return TableState(table, pitr, status, tags)

    def ready(self, state: TableState) -> bool:
        return state.status == "ACTIVE"

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

    # --- create ----------------------------------------------------------------------------

    def request(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            **self.t,
            "AttributeDefinitions": [{"AttributeName": LOCK_KEY, "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": LOCK_KEY, "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if self.options.wants("lock_table_sse"):
            kwargs["SSESpecification"] = {"Enabled": True}
        if self.options.wants("tags"):
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in self.options.desired_tags().items()]
        return kwargs

    def creation(self) -> Write:
        kwargs = self.request()
        detail = "PAY_PER_REQUEST, LockID (S)" + (", SSE" if "SSESpecification" in kwargs else "") + (f", tags {tags_text(self.options.desired_tags())}" if "Tags" in kwargs else "")
        return Write("create-table", detail, payload=kwargs)

    def planned(self) -> TableState:
        kwargs = self.request()
        table = {"TableStatus": "ACTIVE", "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}, **({"SSEDescription": {"Status": "ENABLED"}} if "SSESpecification" in kwargs else {})}
        return TableState(table, tags=self.options.desired_tags() if "Tags" in kwargs else {})

    def create(self, write: Write) -> TableState:
        from botocore.exceptions import ClientError

        with self.translated("create-table"):
            try:
                table = dict(self.ddb.create_table(**write.payload)["TableDescription"])
            except ClientError as exc:
                if error_code(exc) == "ResourceInUseException":
                    raise LostRace("ResourceInUseException") from None  # a concurrent run is creating it: described and waited for
                raise
        planned = self.planned()
        return TableState({**planned.table, **table}, tags=planned.tags)

    # --- plan and write ---------------------------------------------------------------------

    def plan(self, actual: TableState) -> Plan:
        return plan_table(self.table, self.options, actual)

    def apply(self, state: TableState, write: Write) -> None:
        method, kwargs = write.payload
        if write.verb == "update-continuous-backups":
            self.enable_pitr(write.verb, kwargs)
        else:
            self.call(write.verb, getattr(self.ddb, method), **kwargs, **({} if write.verb == "tag-resource" else self.t))

    def enable_pitr(self, step: str, kwargs: dict[str, Any]) -> None:
        from botocore.exceptions import ClientError

        def attempt() -> bool:
            try:
                self.call(step, self.ddb.update_continuous_backups, **kwargs, **self.t)
                return True
            except ProvisionerError as exc:
                cause = exc.__cause__
                # Right after CreateTable, backups may not be ready yet: try again shortly.
                if isinstance(cause, ClientError) and error_code(cause) == "ContinuousBackupsUnavailableException":
                    return False
                raise

        self.wait_until(attempt, f"point-in-time recovery on {self.table}")
