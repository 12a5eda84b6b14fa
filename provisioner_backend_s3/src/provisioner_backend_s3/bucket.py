"""The state bucket as a resource of core's reconcile template: read every setting, create it, make one write."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from provisioner_backend_s3.client import AwsClients
from provisioner_backend_s3.config import S3Backend, S3Options
from provisioner_backend_s3.errors import error_code, explain_denied, response_header, wrong_region
from provisioner_backend_s3.merge import tags_text
from provisioner_backend_s3.names import validate_region
from provisioner_backend_s3.plan import BucketState, Encryption, plan_bucket
from provisioner_backend_s3.steps import NOT_CONFIGURED, Steps
from provisioner_core import ChangeRecorder, ConfigError, LostRace, PermissionDenied, Plan, ProvisionerError, Write, prefetched

US_EAST_1 = "us-east-1"
BUCKET_MISSING = frozenset({"404", "NoSuchBucket", "NotFound"})
CONCURRENT_CREATE = frozenset({"BucketAlreadyOwnedByYou", "OperationAborted"})
TAGS_IN_CREATE_REFUSED = frozenset({"MalformedXML", "InvalidArgument", "NotImplemented", "InvalidRequest", "UnexpectedContent"})
# The read of each setting: (step, client method).
READS: dict[str, tuple[str, str]] = {
    "versioning": ("get-bucket-versioning", "get_bucket_versioning"),
    "encryption": ("get-bucket-encryption", "get_bucket_encryption"),
    "public_access_block": ("get-public-access-block", "get_public_access_block"),
    "ownership_controls": ("get-bucket-ownership-controls", "get_bucket_ownership_controls"),
    "tls_policy": ("get-bucket-policy", "get_bucket_policy"),
    "tags": ("get-bucket-tagging", "get_bucket_tagging"),
}


class BucketProvisioner(Steps[BucketState]):
    """The state bucket: created secure, or read setting by setting and only ever strengthened."""

    def __init__(self, clients: AwsClients, backend: S3Backend, options: S3Options, rec: ChangeRecorder) -> None:
        super().__init__(clients, backend, options, rec, "s3", f"s3://{backend.bucket}")
        self.s3 = clients.s3()
        self.target = f"s3 bucket {backend.bucket}"
        self.create_yourself = "create the bucket yourself (or have its owners create it)"
        self.b: dict[str, Any] = {"Bucket": backend.bucket}
        self.tags_in_create: bool | None = None  # asked of botocore's model only when creating (the no-op path never pays for it)

    # --- read ----------------------------------------------------------------------------

    def exists(self) -> bool:
        """HeadBucket: only "not found" means missing; a bucket in another region is an error."""
        answer = self.head()
        if answer is None:
            return False
        actual = answer.get("BucketRegion") or response_header(answer, "x-amz-bucket-region")
        if actual and actual != self.backend.region and _looks_like_region(actual):
            raise wrong_region(self.backend.bucket, self.backend.region, actual)
        return True

    def head(self) -> Any:
        try:
            return self.read_step("head-bucket", self.s3.head_bucket, BUCKET_MISSING, **self.b)
        except PermissionDenied as denied:
            if denied.context.get("aws_error") not in ("403", "Forbidden"):
                raise
            # A HEAD's 403 has no body: credentials AWS does not know get it too. Ask STS (a failure path only).
            raise explain_denied(denied, *self.clients.caller_identity(), self.clients.identity()) from denied.__cause__

    def read(self) -> BucketState | None:
        if not self.exists():
            return None
        wanted = {setting: step for setting, step in READS.items() if self.options.wants(setting)}
        # The reads of a no-op check are independent: issued together, they cost one round trip.
        with prefetched({setting: partial(getattr(self.s3, method), **self.b) for setting, (_, method) in wanted.items()}) as reads:
            answers = {setting: self.read_step(step, reads[setting], NOT_CONFIGURED.get(step, frozenset())) for setting, (step, _) in wanted.items()}
        return _state(self.backend.bucket, answers)

    # --- create --------------------------------------------------------------------------

    def creation(self) -> Write:
        self.tags_in_create = self.options.wants("tags") and _create_accepts_tags(self.s3)
        detail = f"region {self.backend.region}" + (f", tags {tags_text(self.options.desired_tags())}" if self.tags_in_create else "")
        return Write("create-bucket", detail)

    def planned(self) -> BucketState:
        return BucketState(tags=self.options.desired_tags() if self.tags_in_create else {})

    def create(self, write: Write) -> BucketState:
        from botocore.exceptions import ClientError

        config: dict[str, Any] = {"LocationConstraint": self.backend.region} if self.backend.region != US_EAST_1 else {}
        if self.tags_in_create:
            # Tags in the create call, so tag-enforcing SCPs let it through.
            config["Tags"] = [{"Key": k, "Value": v} for k, v in self.options.desired_tags().items()]
        with self.translated("create-bucket"):
            try:
                try:
                    self.s3.create_bucket(**self.b, **({"CreateBucketConfiguration": config} if config else {}))
                except ClientError as exc:
                    if not (self.tags_in_create and error_code(exc) in TAGS_IN_CREATE_REFUSED):
                        raise
                    # An S3-compatible store that rejects tags in CreateBucket: create, then tag.
                    config.pop("Tags")
                    self.tags_in_create = False
                    self.rec.warn("the endpoint refused tags in CreateBucket; the bucket was created first and tagged right after")
                    self.s3.create_bucket(**self.b, **({"CreateBucketConfiguration": config} if config else {}))
            except ClientError as exc:
                if error_code(exc) in CONCURRENT_CREATE:
                    # Another request is creating it (OperationAborted): it may not be visible at once.
                    raise LostRace(error_code(exc), wait=True) from None
                raise
        return BucketState()

    def settle(self, state: BucketState) -> BucketState:
        """Wait until the new bucket is visible; read back tags sent with the create (some stores drop them)."""
        self.wait_until(lambda: self.head() is not None, f"bucket {self.backend.bucket} becoming visible")
        if not self.tags_in_create:
            return state
        answer = self.read_step("get-bucket-tagging", self.s3.get_bucket_tagging, NOT_CONFIGURED["get-bucket-tagging"], **self.b)
        stored = _state(self.backend.bucket, {"tags": answer}).tags
        if dict(stored) != self.options.desired_tags():
            self.rec.warn("the endpoint dropped the tags sent with CreateBucket; they were set with PutBucketTagging")
        return BucketState(tags=stored)

    # --- plan and write --------------------------------------------------------------------

    def plan(self, actual: BucketState) -> Plan:
        return plan_bucket(self.backend, self.options, actual)

    def apply(self, state: BucketState, write: Write) -> None:
        method, kwargs = write.payload
        self.call(write.verb, getattr(self.s3, method), **kwargs, **self.b)


def _state(bucket: str, answers: dict[str, Any]) -> BucketState:
    """The settings from the read answers (None: not configured)."""
    values: dict[str, Any] = {}
    if "versioning" in answers:
        values["versioning"] = answers["versioning"].get("Status")
    if answers.get("encryption"):
        rules = answers["encryption"].get("ServerSideEncryptionConfiguration", {}).get("Rules") or [{}]
        default = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm"):
            values["encryption"] = Encryption(default["SSEAlgorithm"], default.get("KMSMasterKeyID"), bool(rules[0].get("BucketKeyEnabled")))
    if answers.get("public_access_block"):
        flags = answers["public_access_block"].get("PublicAccessBlockConfiguration") or {}
        values["public_access_block"] = frozenset(flag for flag, on in flags.items() if on)
    if answers.get("ownership_controls"):
        rules = answers["ownership_controls"].get("OwnershipControls", {}).get("Rules") or [{}]
        values["ownership"] = rules[0].get("ObjectOwnership")
    if answers.get("tls_policy") and answers["tls_policy"].get("Policy"):
        values["policy"] = _policy(bucket, answers["tls_policy"]["Policy"])
    if answers.get("tags"):
        values["tags"] = {t["Key"]: t["Value"] for t in answers["tags"].get("TagSet", [])}
    return BucketState(**values)


def _policy(bucket: str, text: str) -> dict[str, Any]:
    try:
        policy = json.loads(text)
    except ValueError as exc:
        raise ProvisionerError(f"the bucket policy of {bucket!r} is not valid JSON", hint="Fix the policy in the console.", context={"bucket": bucket}) from exc
    if not isinstance(policy, dict):
        raise ProvisionerError(
            f"the bucket policy of {bucket!r} is not a JSON object",
            hint="Fix the policy in the console, or add tls_policy to provision.backend.skip to leave it alone.",
            context={"bucket": bucket},
        )
    return policy


def _looks_like_region(value: str) -> bool:
    try:
        validate_region(value)
    except ConfigError:
        return False
    return True


def _create_accepts_tags(s3: Any) -> bool:
    """Whether the installed botocore can send tags in CreateBucket (CreateBucketConfiguration.Tags)."""
    try:
        shape = s3.meta.service_model.operation_model("CreateBucket").input_shape.members["CreateBucketConfiguration"]
        return "Tags" in shape.members
    except (KeyError, AttributeError):
        return False
