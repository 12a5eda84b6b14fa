"""Local validation of GCS bucket names and labels, so a bad name fails before any call.

Rules from the Cloud Storage documentation (bucket naming, labels). Each failure is a
ConfigError (exit 2) that names the rule that was broken.
"""

from __future__ import annotations

import ipaddress
import re

from provisioner_core import ConfigError

_ALLOWED = re.compile(r"^[a-z0-9_.-]+$")
_ALNUM = re.compile(r"[a-z0-9]")
# "google" and close misspellings are refused by GCS (e.g. g00gle, go0gle).
_GOOGLE_LIKE = re.compile(r"g[o0][o0]g[l1]e")
MAX_LABELS = 64


def bucket_name_problem(name: str) -> str | None:
    """The first GCS naming rule ``name`` breaks, or None when it is valid."""
    if name.startswith("gs://"):
        return "write the bucket name without the gs:// scheme"
    if not _ALLOWED.match(name):
        return "only lowercase letters, digits, '-', '_' and '.' are allowed"
    if not (_ALNUM.match(name[0]) and _ALNUM.match(name[-1])):
        return "it must start and end with a lowercase letter or a digit"
    if "." in name:
        if len(name) > 222:
            return "a name with dots must be at most 222 characters"
        parts = name.split(".")
        if any(not part for part in parts):
            return "dots must separate non-empty parts (no '..')"
        if any(len(part) > 63 for part in parts):
            return "each dot-separated part must be at most 63 characters"
        if len(name) < 3:
            return "it must be 3 to 63 characters long"
    elif not 3 <= len(name) <= 63:
        return "it must be 3 to 63 characters long (up to 222 when it contains dots)"
    if _is_ip_address(name):
        return "it must not be an IP address in dotted-decimal notation"
    if name.startswith("goog"):
        return "it must not start with the 'goog' prefix"
    if _GOOGLE_LIKE.search(name):
        return "it must not contain 'google' or a close misspelling of it"
    return None


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def check_bucket_name(name: str, key: str = "backend.gcs.bucket") -> None:
    """Raise a ConfigError naming the rule when ``name`` is not a valid GCS bucket name."""
    problem = bucket_name_problem(name)
    if problem:
        raise ConfigError(
            f"{key} {name!r} is not a valid GCS bucket name: {problem}",
            hint="GCS bucket names: 3-63 characters (up to 222 with dots, each part at most 63), lowercase letters, digits, "
            "'-', '_' and '.', starting and ending with a letter or digit; no 'goog' prefix, no 'google', not an IP address.",
            context={"key": key, "bucket": name},
        )


def _label_chars_ok(text: str) -> bool:
    # Lowercase letters (international ones too), digits, '_' and '-'.
    return all(c in "_-" or c.isdigit() or (c.isalpha() and c == c.lower()) for c in text)


def label_problem(key: str, value: str) -> str | None:
    """The first GCS label rule ``key: value`` breaks, or None."""
    if not 1 <= len(key) <= 63:
        return "label keys must be 1 to 63 characters"
    if not (key[0].isalpha() and key[0] == key[0].lower()):
        return "label keys must start with a lowercase letter"
    if not _label_chars_ok(key):
        return "label keys may contain only lowercase letters, digits, '_' and '-'"
    if len(value) > 63:
        return "label values must be at most 63 characters"
    if not _label_chars_ok(value):
        return "label values may contain only lowercase letters, digits, '_' and '-'"
    return None


def check_labels(labels: dict[str, str], where: str = "provision.backend.labels") -> None:
    """Raise a ConfigError for the first label GCS would reject."""
    if len(labels) > MAX_LABELS:
        raise ConfigError(
            f"{where} has {len(labels)} labels; GCS allows at most {MAX_LABELS}",
            hint=f"Remove labels until at most {MAX_LABELS} remain (managed-by and purpose count too).",
            context={"key": where},
        )
    for key, value in labels.items():
        problem = label_problem(key, value)
        if problem:
            raise ConfigError(
                f"{where}.{key}: {problem} (got {key}: {value!r})",
                hint="GCS labels are lowercase: write e.g. `team: platform` rather than `Team: Platform`.",
                context={"key": f"{where}.{key}"},
            )
