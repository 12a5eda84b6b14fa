"""Pure merge rules: the TLS statement, tag sets and encryption text. No SDK, no network.

These decide what "stronger" means, so they are small and tested on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def tls_statement(sid: str, bucket_arn: str) -> dict[str, Any]:
    """The deny-non-TLS statement merged into the bucket policy."""
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def enforces_tls(statement: Any, bucket_arn: str) -> bool:
    """True when ``statement`` alone denies every non-TLS request to the bucket and its objects.

    Any extra condition would narrow the deny, so the condition must be exactly
    ``Bool aws:SecureTransport false``.
    """
    if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny" or "NotAction" in statement or "NotResource" in statement:
        return False
    principal = statement.get("Principal")
    if principal != "*" and not (isinstance(principal, Mapping) and list(principal) == ["AWS"] and as_list(principal["AWS"]) == ["*"]):
        return False
    if not set(as_list(statement.get("Action"))) & {"s3:*", "*"}:
        return False
    resources = set(as_list(statement.get("Resource")))
    if not ({bucket_arn, "*"} & resources and {f"{bucket_arn}/*", "*"} & resources):
        return False
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping) or list(condition) != ["Bool"] or not isinstance(condition["Bool"], Mapping):
        return False
    flags = condition["Bool"]
    return list(flags) == ["aws:SecureTransport"] and [str(v).lower() for v in as_list(flags["aws:SecureTransport"])] == ["false"]


def merge_tls_statement(policy: Mapping[str, Any] | None, sid: str, bucket_arn: str) -> tuple[dict[str, Any] | None, str]:
    """The policy with the TLS statement merged by Sid, or None when it already enforces TLS.

    Every other statement and top-level key is kept as it was, in order.
    """
    desired = tls_statement(sid, bucket_arn)
    if policy is None:
        return {"Version": "2012-10-17", "Statement": [desired]}, "add statement " + sid
    statements = as_list(policy.get("Statement"))
    for statement in statements:
        if enforces_tls(statement, bucket_arn):
            found = statement.get("Sid") or "(no Sid)"
            return None, f"enforced by statement {found}"
    merged = dict(policy)
    if any(isinstance(s, Mapping) and s.get("Sid") == sid for s in statements):
        merged["Statement"] = [desired if isinstance(s, Mapping) and s.get("Sid") == sid else s for s in statements]
        return merged, f"replace statement {sid} (it no longer denied every non-TLS request)"
    merged["Statement"] = [*statements, desired]
    return merged, f"add statement {sid}"


def merge_tags(
    existing: Mapping[str, str], defaults: Mapping[str, str], user: Mapping[str, str]
) -> tuple[dict[str, str], list[tuple[str, str | None, str, bool]]]:
    """Existing tags plus ours; never drops a key.

    Defaults fill only missing keys (an existing value is kept); the user's own tags set their
    values. Returns the merged set and the differences as (key, actual, expected, applied).
    """
    merged = dict(existing)
    changes: list[tuple[str, str | None, str, bool]] = []
    for key, value in defaults.items():
        if key in user:
            continue
        if key not in existing:
            merged[key] = value
            changes.append((key, None, value, True))
        elif existing[key] != value:
            changes.append((key, existing[key], value, False))
    for key, value in user.items():
        if existing.get(key) != value:
            merged[key] = value
            changes.append((key, existing.get(key), value, True))
    return merged, changes


def tags_text(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in tags.items()) or "(none)"


def sse_text(algorithm: str | None, kms_key: str | None, bucket_key: bool) -> str:
    if algorithm is None:
        return "none"
    if algorithm == "AES256":
        return "AES256 (SSE-S3)"
    key = f" key {kms_key}" if kms_key else " (AWS managed key)"
    return f"{algorithm}{key}, bucket key {'on' if bucket_key else 'off'}"


def _kms_ref(value: str) -> str:
    """``key/<id>`` or ``alias/<name>`` from an id, an alias or either ARN form."""
    ref = value.strip()
    if ref.startswith("arn:"):
        ref = ref.split(":", 5)[-1]
    return ref if ref.startswith(("key/", "alias/")) else f"key/{ref}"


def same_kms_key(actual: str, desired: str) -> bool:
    """The same key when the ids (or aliases) match; an alias is never assumed to be a given key id."""
    return _kms_ref(actual) == _kms_ref(desired)
