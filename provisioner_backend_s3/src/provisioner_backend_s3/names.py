"""Local validation of names and tags, so a bad value fails before any call (exit 2).

Rules from the S3 general purpose bucket naming rules, the DynamoDB table naming rules and
the S3/DynamoDB tag restrictions. Each failure names the broken rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from provisioner_core import ConfigError

# Prefixes and suffixes S3 reserves for its own features (access points, Object Lambda, MRAP, S3 Express, S3 Tables).
RESERVED_PREFIXES: tuple[str, ...] = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES: tuple[str, ...] = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

_BUCKET_CHARS = re.compile(r"^[a-z0-9.-]+$")
_IP_LIKE = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")
_TABLE = re.compile(r"^[A-Za-z0-9_.-]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")

MAX_TAGS = 50  # S3 allows 50 tags per bucket; DynamoDB allows more, so S3's limit is the one to check


def _bucket_error(bucket: str, rule: str) -> ConfigError:
    return ConfigError(
        f"backend.bucket {bucket!r} is not a valid S3 bucket name: {rule}",
        hint="S3 bucket names are 3-63 characters of lowercase letters, digits, hyphens and dots, start and end with a letter or digit.",
        context={"bucket": bucket, "rule": rule},
    )


def validate_bucket_name(bucket: str) -> list[str]:
    """Raise a ConfigError naming the first broken rule; return warnings for legal-but-unwise names."""
    if not 3 <= len(bucket) <= 63:
        raise _bucket_error(bucket, f"it must be 3 to 63 characters long (it has {len(bucket)})")
    if not _BUCKET_CHARS.match(bucket):
        bad = sorted({c for c in bucket if not re.match(r"[a-z0-9.-]", c)})
        raise _bucket_error(
            bucket, f"only lowercase letters, digits, hyphens and dots are allowed (found {' '.join(repr(c) for c in bad)})"
        )
    if not (bucket[0].isalnum() and bucket[-1].isalnum()):
        raise _bucket_error(bucket, "it must begin and end with a letter or digit")
    if ".." in bucket:
        raise _bucket_error(bucket, "it must not contain two adjacent dots")
    if _IP_LIKE.match(bucket):
        raise _bucket_error(bucket, "it must not be formatted as an IP address")
    for prefix in RESERVED_PREFIXES:
        if bucket.startswith(prefix):
            raise _bucket_error(bucket, f"the prefix {prefix!r} is reserved by S3")
    for suffix in RESERVED_SUFFIXES:
        if bucket.endswith(suffix):
            raise _bucket_error(bucket, f"the suffix {suffix!r} is reserved by S3")
    if "." in bucket:
        # Legal, but virtual-hosted HTTPS fails on dotted names (the wildcard certificate covers one label).
        return [f"bucket name {bucket!r} contains dots: HTTPS with virtual-hosted addressing cannot verify it; prefer hyphens"]
    return []


def validate_table_name(table: str) -> None:
    """DynamoDB table names: 3-255 characters of letters, digits, '_', '-' and '.'."""
    if not 3 <= len(table) <= 255:
        rule = f"it must be 3 to 255 characters long (it has {len(table)})"
    elif not _TABLE.match(table):
        rule = "only letters, digits, '_', '-' and '.' are allowed"
    else:
        return
    raise ConfigError(
        f"backend.dynamodb_table {table!r} is not a valid DynamoDB table name: {rule}",
        hint="Use a name such as 'terraform-locks'.",
        context={"dynamodb_table": table, "rule": rule},
    )


def validate_region(region: str) -> None:
    """Catch typos like 'eu-west1' or 'EU-WEST-1' before a call goes to a nonexistent endpoint."""
    if not _REGION.match(region):
        raise ConfigError(
            f"backend.region {region!r} does not look like an AWS region",
            hint="Write it like 'eu-west-1' or 'us-east-1'.",
            context={"region": region},
        )


def validate_tags(tags: Mapping[str, str], where: str) -> None:
    """Tag keys 1-128 characters, values up to 256, no 'aws:' prefix, at most 50."""
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            rule = "tag keys must be 1 to 128 characters"
        elif key.lower().startswith("aws:"):
            rule = "the 'aws:' prefix is reserved for AWS tags"
        elif len(value) > 256:
            rule = "tag values must be at most 256 characters"
        else:
            continue
        raise ConfigError(f"{where} key {key!r}: {rule}", hint="Rename or shorten the tag.", context={"key": f"{where}.{key}"})
    if len(tags) > MAX_TAGS:
        raise ConfigError(f"{where} has {len(tags)} tags; S3 allows at most {MAX_TAGS} per bucket", hint="Remove some tags.")
