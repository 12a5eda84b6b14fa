"""Pure merge rules: the TLS statement, tag sets and encryption text. No SDK, no network.

These decide what "stronger" means, so they are small and tested on their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from attrs import frozen


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


# The lowest TLS version an ``s3:TlsVersion`` rule may let through and still count as enforcing TLS.
MIN_TLS_VERSION = 1.2
# Condition operators (one operator, one key) that deny every request made without TLS.
_NO_TLS_OPERATORS = frozenset({"Bool", "BoolIfExists"})
# AWS documents a deny on ``s3:TlsVersion`` below 1.2 as enforcing HTTPS (knowledge center: s3-enforce-modern-tls).
_TLS_VERSION_OPERATORS = frozenset({"NumericLessThan", "NumericLessThanIfExists", "NumericLessThanEquals", "NumericLessThanEqualsIfExists"})
# The Sid suffix of our statement when the configured Sid belongs to a statement we did not write.
OTHER_SID_SUFFIX = "Provisioner"


def _glob(pattern: str, text: str) -> bool:
    """IAM resource matching: ``*`` any run of characters, ``?`` one character, the rest literal (case-sensitive)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _denies_without_tls(condition: Any) -> bool:
    """The condition matches every request made without TLS (or with TLS older than 1.2), and nothing narrows it."""
    if not isinstance(condition, Mapping) or len(condition) != 1:
        return False  # several operators are ANDed: each one narrows the deny
    operator, keys = next(iter(condition.items()))
    if not isinstance(keys, Mapping) or len(keys) != 1:
        return False
    key, values = next(iter(keys.items()))
    key = str(key).lower()
    if operator in _NO_TLS_OPERATORS and key == "aws:securetransport":
        return "false" in [str(v).lower() for v in as_list(values)]  # several values: any one matching denies
    if operator in _TLS_VERSION_OPERATORS and key == "s3:tlsversion":
        try:
            return max(float(str(v)) for v in as_list(values)) >= MIN_TLS_VERSION
        except ValueError:
            return False
    return False


def tls_coverage(statement: Any, bucket_arn: str) -> tuple[bool, bool]:
    """Whether ``statement`` denies every request without TLS to (the bucket, every object in it).

    Compliant: ``Effect: Deny``; principal ``*`` (or ``{"AWS": "*"}``); actions including
    ``s3:*`` or ``*`` (any case); one condition, ``Bool``/``BoolIfExists``
    ``aws:SecureTransport false`` or ``NumericLessThan[Equals][IfExists] s3:TlsVersion`` at 1.2 or
    more; no ``NotPrincipal``, ``NotAction`` or ``NotResource`` (each narrows a deny). The
    resources decide which half it covers (``*`` and ``?`` wildcards as IAM matches them).
    """
    if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny" or {"NotPrincipal", "NotAction", "NotResource"} & set(statement):
        return False, False
    principal = statement.get("Principal")
    if principal != "*" and not (isinstance(principal, Mapping) and list(principal) == ["AWS"] and as_list(principal["AWS"]) == ["*"]):
        return False, False
    if not {str(a).lower() for a in as_list(statement.get("Action"))} & {"s3:*", "*"}:
        return False, False
    if not _denies_without_tls(statement.get("Condition")):
        return False, False
    resources = [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]
    bucket = any(_glob(r, bucket_arn) for r in resources)
    # A pattern ending in "*" that matches "<bucket arn>/" matches "<bucket arn>/<any key>" too.
    objects = any(r.endswith("*") and _glob(r, bucket_arn + "/") for r in resources)
    return bucket, objects


def enforces_tls(statement: Any, bucket_arn: str) -> bool:
    """True when ``statement`` alone denies every request without TLS to the bucket and its objects."""
    return tls_coverage(statement, bucket_arn) == (True, True)


@frozen
class TlsMerge:
    """What merging our TLS statement into a bucket policy decided.

    ``policy``: the policy to write, or None when TLS is already enforced. ``sid``: the Sid our
    statement has (or would have). ``taken_by``: the statement that holds the configured Sid
    without being ours, kept as it is.
    """

    policy: dict[str, Any] | None
    how: str
    sid: str
    taken_by: Mapping[str, Any] | None = None


def _sid_of(statement: Any) -> str | None:
    sid = statement.get("Sid") if isinstance(statement, Mapping) else None
    return sid if isinstance(sid, str) else None


def merge_tls_statement(policy: Mapping[str, Any] | None, sid: str, bucket_arn: str) -> TlsMerge:
    """Our TLS statement merged into ``policy``; a statement we did not write is never changed or removed.

    Nothing is written when the statements already deny every request without TLS (one statement,
    or one for the bucket and one for its objects, whatever their Sids). Otherwise ours is
    appended under ``sid``, or, when a statement that is not exactly ours holds that Sid, under
    the first free ``<sid>Provisioner``, ``<sid>Provisioner2``, ... Every other statement, their
    order and every top-level key are kept as they were.
    """
    if policy is None:
        return TlsMerge({"Version": "2012-10-17", "Statement": [tls_statement(sid, bucket_arn)]}, "add statement " + sid, sid)
    statements = as_list(policy.get("Statement"))
    bucket_by = objects_by = None
    for statement in statements:
        bucket, objects = tls_coverage(statement, bucket_arn)
        name = _sid_of(statement) or "(no Sid)"
        if bucket and objects:
            return TlsMerge(None, f"enforced by statement {name}", _sid_of(statement) or sid)
        bucket_by = bucket_by or (name if bucket else None)
        objects_by = objects_by or (name if objects else None)
    if bucket_by and objects_by:
        return TlsMerge(None, f"enforced by statements {bucket_by} (bucket) and {objects_by} (objects)", sid)
    taken = {s.lower() for s in map(_sid_of, statements) if s}  # IAM Sids: never reuse one, whatever its case
    chosen, how = sid, "add statement " + sid
    if sid.lower() in taken:
        candidates = (sid + OTHER_SID_SUFFIX + (str(n) if n > 1 else "") for n in range(1, len(taken) + 2))
        chosen = next(c for c in candidates if c.lower() not in taken)
        how = f"add statement {chosen} (Sid {sid} belongs to a statement this provisioner did not write; it is kept)"
    taken_by = next((s for s in statements if isinstance(s, Mapping) and _sid_of(s) == sid), None)
    merged = dict(policy)
    merged["Statement"] = [*statements, tls_statement(chosen, bucket_arn)]
    return TlsMerge(merged, how, chosen, taken_by)


def statement_summary(statement: Mapping[str, Any]) -> str:
    """``Deny s3:DeleteBucket, s3:PutBucketPolicy``: enough to recognise a statement in a drift line."""
    actions = [str(a) for a in as_list(statement.get("Action"))] or [f"all but {', '.join(map(str, as_list(statement.get('NotAction'))))}"]
    return f"{statement.get('Effect', '?')} {', '.join(actions)}"


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
