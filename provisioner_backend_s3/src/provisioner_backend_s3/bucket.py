"""The state bucket: create it secure, or read every setting and only ever strengthen it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from provisioner_backend_s3.client import AwsClients
from provisioner_backend_s3.config import DEFAULT_TAGS, S3Backend, S3Options
from provisioner_backend_s3.errors import error_code, response_header, wrong_region
from provisioner_backend_s3.merge import as_list, merge_tags, merge_tls_statement, same_kms_key, sse_text, statement_summary, tags_text
from provisioner_backend_s3.names import MAX_TAGS, validate_region
from provisioner_backend_s3.steps import NOT_CONFIGURED, Steps
from provisioner_core import ChangeRecorder, ConfigError, ProvisionerError

US_EAST_1 = "us-east-1"
PAB_FLAGS: tuple[str, ...] = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
OWNERSHIP = "BucketOwnerEnforced"
BUCKET_MISSING = frozenset({"404", "NoSuchBucket", "NotFound"})
CONCURRENT_CREATE = frozenset({"BucketAlreadyOwnedByYou", "OperationAborted"})
TAGS_IN_CREATE_REFUSED = frozenset({"MalformedXML", "InvalidArgument", "NotImplemented", "InvalidRequest", "UnexpectedContent"})


class BucketProvisioner(Steps):
    """The state bucket: create it secure, or strengthen what exists."""

    def __init__(self, clients: AwsClients, backend: S3Backend, options: S3Options, rec: ChangeRecorder) -> None:
        super().__init__(clients, backend, options, rec, "s3", f"s3://{backend.bucket}")
        self.s3 = clients.s3()
        self.target = f"s3 bucket {backend.bucket}"
        self.b: dict[str, Any] = {"Bucket": backend.bucket}
        self.tags_sent_in_create = False

    def run(self) -> None:
        self.rec.details["bucket"] = self.backend.bucket
        self.rec.details["region"] = self.backend.region
        if self.exists():
            self.converge(fresh=False)
            return
        if self.rec.report_only:
            raise ConfigError(
                f"bucket {self.backend.bucket!r} does not exist and provision.backend.report_only is true",
                hint="report_only never creates anything: create the bucket (or have its owners create it), or set report_only: false.",
                context={"bucket": self.backend.bucket, "region": self.backend.region},
            )
        created = self.create()
        self.converge(fresh=created)

    # --- existence and creation ------------------------------------------------------------

    def exists(self) -> bool:
        """HeadBucket: only "not found" means missing; a bucket in another region is an error."""
        answer = self.read("head-bucket", self.s3.head_bucket, BUCKET_MISSING, **self.b)
        if answer is None:
            return False
        actual = answer.get("BucketRegion") or response_header(answer, "x-amz-bucket-region")
        if actual and actual != self.backend.region and _looks_like_region(actual):
            raise wrong_region(self.backend.bucket, self.backend.region, actual)
        return True

    def create(self) -> bool:
        """Create the bucket; False when a concurrent run created it first (not an error)."""
        from botocore.exceptions import ClientError

        config: dict[str, Any] = {}
        if self.backend.region != US_EAST_1:
            config["LocationConstraint"] = self.backend.region
        desired_tags = self.options.desired_tags()
        tags_in_create = self.options.wants("tags") and _create_accepts_tags(self.s3)
        if tags_in_create:
            # Tags in the create call, so tag-enforcing SCPs let it through.
            config["Tags"] = [{"Key": k, "Value": v} for k, v in desired_tags.items()]
        detail = f"region {self.backend.region}" + (f", tags {tags_text(desired_tags)}" if tags_in_create else "")
        self.tags_sent_in_create = tags_in_create
        kwargs: dict[str, Any] = dict(self.b)
        if config:
            kwargs["CreateBucketConfiguration"] = config

        def create_call() -> str:
            with self.translated("create-bucket"):
                try:
                    try:
                        self.s3.create_bucket(**kwargs)
                    except ClientError as exc:
                        if not (tags_in_create and error_code(exc) in TAGS_IN_CREATE_REFUSED):
                            raise
                        # An S3-compatible store that rejects tags in CreateBucket: create, then tag.
                        config.pop("Tags")
                        self.tags_sent_in_create = False
                        self.rec.warn("the endpoint refused tags in CreateBucket; the bucket was created first and tagged right after")
                        if config:
                            kwargs["CreateBucketConfiguration"] = config
                        else:
                            kwargs.pop("CreateBucketConfiguration", None)
                        self.s3.create_bucket(**kwargs)
                except ClientError as exc:
                    if error_code(exc) in CONCURRENT_CREATE:
                        return "concurrent"
                    raise
            return "created"

        outcome = self.record("create-bucket", self.target, create_call, detail, creates=True)
        if not self.rec.writing:
            return True
        if outcome == "concurrent":
            # Someone else created it between our HeadBucket and CreateBucket: treat it as existing.
            self.rec.amend_last(detail="already created by a concurrent run; continuing", created=False)
        self.wait(
            f"bucket {self.backend.bucket} becoming visible",
            lambda: self.read("head-bucket", self.s3.head_bucket, BUCKET_MISSING, **self.b) is not None,
        )
        return outcome == "created"

    # --- settings ------------------------------------------------------------------------

    def converge(self, *, fresh: bool) -> None:
        """Bring every wanted setting up to the desired one (``fresh``: we just created it, skip the reads)."""
        # A new bucket has nothing to read (and a dry run on a missing one cannot read): plan every write.
        if not fresh:
            reads = {
                "versioning": ("get-bucket-versioning", self.s3.get_bucket_versioning),
                "encryption": ("get-bucket-encryption", self.s3.get_bucket_encryption),
                "public_access_block": ("get-public-access-block", self.s3.get_public_access_block),
                "ownership_controls": ("get-bucket-ownership-controls", self.s3.get_bucket_ownership_controls),
                "tls_policy": ("get-bucket-policy", self.s3.get_bucket_policy),
                "tags": ("get-bucket-tagging", self.s3.get_bucket_tagging),
            }
            self.prefetch((read for setting, read in reads.items() if self.options.wants(setting)), **self.b)
        for setting, handler in (
            ("versioning", self.versioning),
            ("encryption", self.encryption),
            ("public_access_block", self.public_access_block),
            ("ownership_controls", self.ownership_controls),
            ("tls_policy", self.tls_policy),
            ("tags", self.tags),
        ):
            if not self.options.wants(setting):
                self.rec.details[setting] = "skipped (provision.backend.skip)"
                continue
            handler(fresh)

    def versioning(self, fresh: bool) -> None:
        actual = None if fresh else self.call("get-bucket-versioning", self.s3.get_bucket_versioning, **self.b).get("Status")
        change = actual != "Enabled"
        if change and not fresh:
            self.rec.drifted("versioning", "Enabled", actual or "never enabled", stronger=True)
        if change:
            self.write(
                "put-bucket-versioning",
                self.target,
                self.s3.put_bucket_versioning,
                "Status=Enabled",
                VersioningConfiguration={"Status": "Enabled"},
                **self.b,
            )
        self.rec.details["versioning"] = self.result_value("Enabled", actual or "never enabled", change)

    def encryption(self, fresh: bool) -> None:
        kms_key = self.backend.kms_key_id
        desired_alg = "aws:kms" if kms_key else "AES256"
        default: dict[str, Any] = {"SSEAlgorithm": desired_alg}
        if kms_key:
            default["KMSMasterKeyID"] = kms_key
        rule = {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": self.options.bucket_key}
        desired_text = sse_text(desired_alg, kms_key, self.options.bucket_key)
        if fresh:
            actual_alg, actual_key, actual_bucket_key = None, None, False
        else:
            answer = self.read("get-bucket-encryption", self.s3.get_bucket_encryption, NOT_CONFIGURED["get-bucket-encryption"], **self.b)
            rules = (answer or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules") or [{}]
            by_default = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
            actual_alg, actual_key, actual_bucket_key = (
                by_default.get("SSEAlgorithm"),
                by_default.get("KMSMasterKeyID"),
                bool(rules[0].get("BucketKeyEnabled")),
            )
        actual_text = sse_text(actual_alg, actual_key, actual_bucket_key) if actual_alg else "none"
        change, keep_reason = False, ""
        if actual_alg is None:
            change = True
        elif actual_alg == "AES256":
            change = desired_alg == "aws:kms"
        elif actual_alg == "aws:kms:dsse":
            keep_reason = "dual-layer KMS encryption is stronger than the requested setting"
        elif actual_alg == "aws:kms" and desired_alg == "AES256":
            keep_reason = "KMS encryption is stronger than SSE-S3 (AES256)"
        elif actual_alg == "aws:kms":
            if actual_key and kms_key and not same_kms_key(actual_key, kms_key):
                keep_reason = (
                    "the bucket uses another KMS key (or names it differently, e.g. by alias); switching keys is left to the key's owners"
                )
            elif not actual_key:
                change = True  # the AWS managed key -> the customer key terraform is told to use
            elif self.options.bucket_key and not actual_bucket_key:
                change = True  # same key, bucket key off: turning it on cuts KMS calls, weakens nothing
        if keep_reason:
            self.rec.drifted("encryption", desired_text, actual_text, stronger=False, reason=keep_reason)
        elif change and not fresh:
            self.rec.drifted("encryption", desired_text, actual_text, stronger=True)
        if change:
            self.write(
                "put-bucket-encryption",
                self.target,
                self.s3.put_bucket_encryption,
                desired_text,
                ServerSideEncryptionConfiguration={"Rules": [rule]},
                **self.b,
            )
        self.rec.details["encryption"] = self.result_value(desired_text, actual_text, change)

    def public_access_block(self, fresh: bool) -> None:
        if fresh:
            actual: Mapping[str, Any] = {}
        else:
            answer = self.read(
                "get-public-access-block", self.s3.get_public_access_block, NOT_CONFIGURED["get-public-access-block"], **self.b
            )
            actual = (answer or {}).get("PublicAccessBlockConfiguration") or {}
        off = [flag for flag in PAB_FLAGS if not actual.get(flag)]
        actual_text = "all four flags on" if not off else ("off: " + ", ".join(off))
        if off and not fresh:
            self.rec.drifted("public_access_block", "all four flags on", actual_text, stronger=True)
        if off:
            # Only ever turns flags on: every flag is true in what we write.
            self.write(
                "put-public-access-block",
                self.target,
                self.s3.put_public_access_block,
                "all four flags on",
                PublicAccessBlockConfiguration=dict.fromkeys(PAB_FLAGS, True),
                **self.b,
            )
        self.rec.details["public_access_block"] = self.result_value("all four flags on", actual_text, bool(off))

    def ownership_controls(self, fresh: bool) -> None:
        actual = None
        if not fresh:
            answer = self.read(
                "get-bucket-ownership-controls",
                self.s3.get_bucket_ownership_controls,
                NOT_CONFIGURED["get-bucket-ownership-controls"],
                **self.b,
            )
            rules = (answer or {}).get("OwnershipControls", {}).get("Rules") or [{}]
            actual = rules[0].get("ObjectOwnership")
        change = actual != OWNERSHIP
        if change and not fresh:
            # BucketOwnerEnforced disables ACLs: the strictest ownership setting.
            self.rec.drifted("ownership_controls", OWNERSHIP, actual or "not set (ObjectWriter)", stronger=True)
        if change:
            self.write(
                "put-bucket-ownership-controls",
                self.target,
                self.s3.put_bucket_ownership_controls,
                f"ObjectOwnership={OWNERSHIP}",
                OwnershipControls={"Rules": [{"ObjectOwnership": OWNERSHIP}]},
                **self.b,
            )
        self.rec.details["ownership_controls"] = self.result_value(OWNERSHIP, actual or "not set (ObjectWriter)", change)

    def tls_policy(self, fresh: bool) -> None:
        sid, arn = self.options.tls_policy_sid, self.backend.bucket_arn
        policy: dict[str, Any] | None = None
        if not fresh:
            answer = self.read("get-bucket-policy", self.s3.get_bucket_policy, NOT_CONFIGURED["get-bucket-policy"], **self.b)
            if answer and answer.get("Policy"):
                try:
                    policy = json.loads(answer["Policy"])
                except ValueError as exc:
                    raise ProvisionerError(
                        f"the bucket policy of {self.backend.bucket!r} is not valid JSON",
                        hint="Fix the policy in the console.",
                        context={"bucket": self.backend.bucket},
                    ) from exc
                if not isinstance(policy, dict):
                    raise ProvisionerError(
                        f"the bucket policy of {self.backend.bucket!r} is not a JSON object",
                        hint="Fix the policy in the console, or add tls_policy to provision.backend.skip to leave it alone.",
                        context={"bucket": self.backend.bucket},
                    )
        merge = merge_tls_statement(policy, sid, arn)
        if merge.policy is None:
            self.rec.details["tls_policy"] = merge.how
            return
        wanted = f"statement {merge.sid} denies non-TLS requests"
        if not fresh:
            # True by construction: merge_tls_statement only ever appends.
            actual = (
                "no bucket policy"
                if policy is None
                else f"no statement denies non-TLS requests (existing statements kept: {len(as_list(policy.get('Statement')))})"
            )
            self.rec.drifted("tls_policy", wanted, actual, stronger=True)
        if merge.taken_by is not None:
            self.rec.drifted(
                f"tls_policy.{sid}",
                "our TLS-only statement",
                f"a statement this provisioner did not write ({statement_summary(merge.taken_by)})",
                stronger=False,
                reason=f"a statement this provisioner did not write is kept as it is; ours is added as {merge.sid}",
            )
        self.write("put-bucket-policy", self.target, self.s3.put_bucket_policy, merge.how, Policy=json.dumps(merge.policy), **self.b)
        self.rec.details["tls_policy"] = self.result_value(wanted, "not enforced", True)

    def tags(self, fresh: bool) -> None:
        defaults, user = dict(DEFAULT_TAGS), dict(self.options.tags)
        if fresh and self.rec.dry_run:
            desired = {**defaults, **user}
            self.rec.details["tags"] = tags_text(desired)
            if not self.tags_sent_in_create:
                tag_set = [{"Key": k, "Value": v} for k, v in desired.items()]
                self.write(
                    "put-bucket-tagging",
                    self.target,
                    self.s3.put_bucket_tagging,
                    tags_text(desired),
                    Tagging={"TagSet": tag_set},
                    **self.b,
                )
            return
        answer = self.read("get-bucket-tagging", self.s3.get_bucket_tagging, NOT_CONFIGURED["get-bucket-tagging"], **self.b)
        existing = {t["Key"]: t["Value"] for t in (answer or {}).get("TagSet", [])}
        merged, changes = merge_tags(existing, defaults, user)
        # PutBucketTagging replaces the whole set and cannot write aws: system tags (CloudFormation buckets).
        system_tags = any(k.lower().startswith("aws:") for k in existing)
        change = merged != existing and not system_tags
        if fresh and self.tags_sent_in_create and changes:
            self.rec.warn("the endpoint dropped the tags sent with CreateBucket; they were set with PutBucketTagging")
        for key, actual, expected, applied in changes:
            if fresh:
                continue
            if applied and not system_tags:
                self.rec.drifted(f"tags.{key}", expected, actual, stronger=True)
                continue
            reason = (
                "the bucket has aws: system tags, which PutBucketTagging cannot keep; tag it where it is managed"
                if applied
                else "the existing value is kept; set it in provision.backend.tags to override"
            )
            self.rec.drifted(f"tags.{key}", expected, actual, stronger=False, reason=reason)
        if change:
            if len(merged) > MAX_TAGS:
                raise ConfigError(
                    f"bucket {self.backend.bucket!r} would have {len(merged)} tags; S3 allows {MAX_TAGS}",
                    hint="Remove tags from provision.backend.tags or from the bucket.",
                    context={"bucket": self.backend.bucket},
                )
            self.write(
                "put-bucket-tagging",
                self.target,
                self.s3.put_bucket_tagging,
                tags_text(merged),
                Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]},
                **self.b,
            )
        self.rec.details["tags"] = tags_text(merged if change and not self.rec.report_only else existing)


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
