"""Keep secrets out of every output: by value (from the AuthContext) and by key name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
# Keys whose values are secrets wherever they appear in a resolved component.
_SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|credential|private_key|access_key|account_key|sas|connection_string|api_key|client_secret|session_token|encryption_key)",
    re.IGNORECASE,
)
# Keys that look secret but are not (the state key, a KMS key id, a token *file path* is still hidden).
_NOT_SECRET = {"key", "kms_key_id", "kms_key", "kms_encryption_key", "access_key_id", "key_vault_key_id"}


def is_secret_key(key: str) -> bool:
    return key.lower() not in _NOT_SECRET and bool(_SECRET_KEY.search(key))


def is_secret_entry(key: Any, value: Any) -> bool:
    """A secret-looking key holding a scalar secret (a boolean flag such as skip_credentials_validation is not one)."""
    return isinstance(key, str) and is_secret_key(key) and isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != ""


def redact_mapping(value: Any) -> Any:
    """A copy with the values of secret-looking keys masked, at any depth.

    Iterative (no depth limit) and linear in the size of the output: every mapping becomes a
    new dict and every list a new list, as a recursive copy would make them.
    """
    if not isinstance(value, (Mapping, list)):
        return value
    root: Any = {} if isinstance(value, Mapping) else []
    work: list[tuple[Any, Any]] = [(value, root)]
    while work:
        source, target = work.pop()
        pairs = source.items() if isinstance(source, Mapping) else enumerate(source)
        for key, item in pairs:
            if isinstance(source, Mapping) and is_secret_entry(key, item):
                copied: Any = MASK
            elif isinstance(item, Mapping):
                copied = {}
                work.append((item, copied))
            elif isinstance(item, list):
                copied = []
                work.append((item, copied))
            else:
                copied = item
            if isinstance(target, dict):
                target[key] = copied
            else:
                target.append(copied)
    return root


def secret_values(value: Any) -> set[str]:
    """The values of secret-looking keys, at any depth (to mask them in free text too).

    Iterative, and each mapping or list is visited once however often it is shared (YAML
    aliases): linear in the number of distinct objects, not in the size they expand to.
    """
    found: set[str] = set()
    seen: set[int] = set()
    work = [value]
    while work:
        item = work.pop()
        if not isinstance(item, (Mapping, list)) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, list):
            work.extend(item)
            continue
        for k, v in item.items():
            if isinstance(k, str) and is_secret_key(k) and isinstance(v, (str, int)) and not isinstance(v, bool) and len(str(v)) >= 4:
                found.add(str(v))
            else:
                work.append(v)
    return found


class Redactor:
    """Masks known secret values in any text; longest first so no fragment survives."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets |= {s for s in secrets if s and len(s) >= 4}

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self._secrets)
