"""Pure plans: the bucket's and the lock table's settings as read, compared with what we want.

No SDK and no I/O: each plan says, per setting, the drift and the one call that strengthens it
(never weakens), and what the result's details say with and without the writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from provisioner_backend_s3.config import DEFAULT_TAGS, S3Backend, S3Options
from provisioner_backend_s3.merge import as_list, merge_tags, merge_tls_statement, same_kms_key, sse_text, statement_summary, tags_text
from provisioner_backend_s3.names import MAX_TAGS
from provisioner_core import ConfigError, Plan, PlanBuilder

PAB_FLAGS: tuple[str, ...] = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
OWNERSHIP = "BucketOwnerEnforced"
SKIPPED = "skipped (provision.backend.skip)"
KEPT_TAG = "the existing value is kept; set it in provision.backend.tags to override"


@frozen
class Encryption:
    algorithm: str
    key: str | None = None
    bucket_key: bool = False


@frozen
class BucketState:
    """A bucket's settings as read (a setting that is skipped is not read and stays at its default)."""

    versioning: str | None = None  # Enabled, Suspended; None: never enabled
    encryption: Encryption | None = None
    public_access_block: frozenset[str] = frozenset()  # the flags that are on
    ownership: str | None = None
    policy: Mapping[str, Any] | None = None
    tags: Mapping[str, str] = field(factory=dict)


@frozen
class TableState:
    """A lock table as read: the DescribeTable answer, point-in-time recovery, tags."""

    table: Mapping[str, Any]
    pitr: bool = False
    pitr_status: str | None = None
    tags: Mapping[str, str] = field(factory=dict)

    @property
    def status(self) -> str | None:
        return self.table.get("TableStatus")


def _put(p: PlanBuilder, verb: str, detail: str, setting: str, method: str, **kwargs: Any) -> None:
    """A write whose payload is the SDK method and its arguments."""
    p.write(verb, detail, (method, kwargs), settings=(setting,))


def plan_bucket(backend: S3Backend, options: S3Options, actual: BucketState) -> Plan:
    """Every wanted setting of the bucket, in the order they are written."""
    p = PlanBuilder()
    for setting, rule in (
        ("versioning", _versioning),
        ("encryption", _encryption),
        ("public_access_block", _public_access_block),
        ("ownership_controls", _ownership),
        ("tls_policy", _tls_policy),
        ("tags", _tags),
    ):
        if options.wants(setting):
            rule(p, backend, options, actual)
        else:
            p.show(setting, SKIPPED)
    return p.build()


def _versioning(p: PlanBuilder, backend: S3Backend, options: S3Options, actual: BucketState) -> None:
    now = actual.versioning or "never enabled"
    if actual.versioning == "Enabled":
        p.show("versioning", now)
        return
    p.drift("versioning", "Enabled", now)
    _put(p, "put-bucket-versioning", "Status=Enabled", "versioning", "put_bucket_versioning", VersioningConfiguration={"Status": "Enabled"})
    p.show("versioning", now, "Enabled")


def _encryption(p: PlanBuilder, backend: S3Backend, options: S3Options, actual: BucketState) -> None:
    kms_key = backend.kms_key_id
    desired = Encryption("aws:kms" if kms_key else "AES256", kms_key, options.bucket_key)
    desired_text = sse_text(desired.algorithm, kms_key, options.bucket_key)
    now = actual.encryption
    now_text = sse_text(now.algorithm, now.key, now.bucket_key) if now else "none"
    change, keep = False, ""
    if now is None:
        change = True
    elif now.algorithm == "AES256":
        change = desired.algorithm == "aws:kms"
    elif now.algorithm == "aws:kms:dsse":
        keep = "dual-layer KMS encryption is stronger than the requested setting"
    elif now.algorithm == "aws:kms" and desired.algorithm == "AES256":
        keep = "KMS encryption is stronger than SSE-S3 (AES256)"
    elif now.algorithm == "aws:kms":
        if now.key and kms_key and not same_kms_key(now.key, kms_key):
            keep = "the bucket uses another KMS key (or names it differently, e.g. by alias); switching keys is left to the key's owners"
        else:
            # The AWS managed key -> the customer key terraform is told to use; or the same key with the bucket key off.
            change = not now.key or (options.bucket_key and not now.bucket_key)
    if keep:
        p.drift("encryption", desired_text, now_text, stronger=False, reason=keep)
    if not change:
        p.show("encryption", now_text)
        return
    p.drift("encryption", desired_text, now_text)
    default: dict[str, Any] = {"SSEAlgorithm": desired.algorithm, **({"KMSMasterKeyID": kms_key} if kms_key else {})}
    rule = {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": options.bucket_key}
    _put(p, "put-bucket-encryption", desired_text, "encryption", "put_bucket_encryption", ServerSideEncryptionConfiguration={"Rules": [rule]})
    p.show("encryption", now_text, desired_text)


def _public_access_block(p: PlanBuilder, backend: S3Backend, options: S3Options, actual: BucketState) -> None:
    off = [flag for flag in PAB_FLAGS if flag not in actual.public_access_block]
    now = "all four flags on" if not off else "off: " + ", ".join(off)
    if not off:
        p.show("public_access_block", now)
        return
    p.drift("public_access_block", "all four flags on", now)
    # Only ever turns flags on: every flag is true in what we write.
    _put(p, "put-public-access-block", "all four flags on", "public_access_block", "put_public_access_block", PublicAccessBlockConfiguration=dict.fromkeys(PAB_FLAGS, True))
    p.show("public_access_block", now, "all four flags on")


def _ownership(p: PlanBuilder, backend: S3Backend, options: S3Options, actual: BucketState) -> None:
    now = actual.ownership or "not set (ObjectWriter)"
    if actual.ownership == OWNERSHIP:
        p.show("ownership_controls", now)
        return
    # BucketOwnerEnforced disables ACLs: the strictest ownership setting.
    p.drift("ownership_controls", OWNERSHIP, now)
    _put(p, "put-bucket-ownership-controls", f"ObjectOwnership={OWNERSHIP}", "ownership_controls", "put_bucket_ownership_controls", OwnershipControls={"Rules": [{"ObjectOwnership": OWNERSHIP}]})
    p.show("ownership_controls", now, OWNERSHIP)


def _tls_policy(p: PlanBuilder, backend: S3Backend, options: S3Options, actual: BucketState) -> None:
    sid = options.tls_policy_sid
    merge = merge_tls_statement(actual.policy, sid, backend.bucket_arn)
    if merge.policy is None:
        p.show("tls_policy", merge.how)
        return
    wanted = f"statement {merge.sid} denies non-TLS requests"
    # Always stronger: merge_tls_statement only ever appends.
    kept = f"existing statements kept: {len(as_list(actual.policy.get('Statement')))}" if actual.policy is not None else ""
    p.drift("tls_policy", wanted, f"no statement denies non-TLS requests ({kept})" if kept else "no bucket policy")
    if merge.taken_by is not None:
        p.drift(
            f"tls_policy.{sid}",
            "our TLS-only statement",
            f"a statement this provisioner did not write ({statement_summary(merge.taken_by)})",
            stronger=False,
            reason=f"a statement this provisioner did not write is kept as it is; ours is added as {merge.sid}",
        )
    _put(p, "put-bucket-policy", merge.how, "tls_policy", "put_bucket_policy", Policy=json.dumps(merge.policy))
    p.show("tls_policy", "not enforced", wanted)


def _tags(p: PlanBuilder, backend: S3Backend, options: S3Options, actual: BucketState) -> None:
    existing = dict(actual.tags)
    merged, changes = merge_tags(existing, DEFAULT_TAGS, options.tags)
    # PutBucketTagging replaces the whole set and cannot write aws: system tags (CloudFormation buckets).
    system_tags = any(k.lower().startswith("aws:") for k in existing)
    for key, now, expected, applied in changes:
        if applied and not system_tags:
            p.drift(f"tags.{key}", expected, now)
        else:
            reason = "the bucket has aws: system tags, which PutBucketTagging cannot keep; tag it where it is managed" if applied else KEPT_TAG
            p.drift(f"tags.{key}", expected, now, stronger=False, reason=reason)
    if merged == existing or system_tags:
        p.show("tags", tags_text(existing))
        return
    if len(merged) > MAX_TAGS:
        raise ConfigError(
            f"bucket {backend.bucket!r} would have {len(merged)} tags; S3 allows {MAX_TAGS}",
            hint="Remove tags from provision.backend.tags or from the bucket.",
            context={"bucket": backend.bucket},
        )
    _put(p, "put-bucket-tagging", tags_text(merged), "tags", "put_bucket_tagging", Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]})
    p.show("tags", tags_text(existing), tags_text(merged))


def plan_table(table_name: str, options: S3Options, actual: TableState) -> Plan:
    """The lock table's settings: billing mode (kept), SSE, point-in-time recovery, tags (added, never removed)."""
    p = PlanBuilder()
    table = actual.table
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    parts = [billing, "LockID (S)"]
    if billing != "PAY_PER_REQUEST":
        p.drift("lock_table.billing_mode", "PAY_PER_REQUEST", billing, stronger=False, reason="the billing mode is a cost choice, not a safety one; kept")
    found, after = list(parts), list(parts)
    if options.wants("lock_table_sse"):
        status = (table.get("SSEDescription") or {}).get("Status")
        if status in ("ENABLED", "ENABLING", "UPDATING"):
            found.append("SSE (KMS)")
            after.append("SSE (KMS)")
        else:
            p.drift("lock_table.sse", "KMS (AWS managed key)", "AWS owned key")
            _put(p, "update-table", "SSESpecification Enabled=true", "lock_table_sse", "update_table", SSESpecification={"Enabled": True})
            found.append("SSE (AWS owned key)")
            after.append("SSE (KMS)")
    if options.wants("lock_table_pitr"):
        if actual.pitr:
            found.append("point-in-time recovery")
        else:
            p.drift("lock_table.point_in_time_recovery", "ENABLED", actual.pitr_status or "DISABLED")
            _put(p, "update-continuous-backups", "PointInTimeRecoveryEnabled=true", "lock_table_pitr", "update_continuous_backups", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
            found.append("no point-in-time recovery")
        after.append("point-in-time recovery")
    if options.wants("tags"):
        merged, changes = merge_tags(actual.tags, DEFAULT_TAGS, options.tags)
        add = {k: v for k, v in merged.items() if actual.tags.get(k) != v}
        for key, now, expected, applied in changes:
            p.drift(f"lock_table.tags.{key}", expected, now, stronger=applied, reason="" if applied else KEPT_TAG)
        if add:
            # TagResource only adds or updates the keys it is given: existing tags stay.
            _put(p, "tag-resource", tags_text(add), "tags", "tag_resource", ResourceArn=table.get("TableArn"), Tags=[{"Key": k, "Value": v} for k, v in add.items()])
        found.append("tags " + tags_text(actual.tags))
        after.append("tags " + tags_text(merged))
    p.show("lock_table", f"{table_name}: " + ", ".join(found), f"{table_name}: " + ", ".join(after))
    return p.build()

