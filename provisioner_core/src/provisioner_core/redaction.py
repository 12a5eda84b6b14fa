"""Keep secrets out of every output: by value (from the AuthContext), by key name, and in URLs.

A URL's userinfo (``scheme://user:password@host``) is masked wherever a URL is printed, in
any setting of any backend and in free text (``user:***@``; a lone userinfo, often a token, as
``***@``), and the password joins the values masked everywhere, decoded too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote

MASK = "***"
# Keys whose values are secrets wherever they appear in a resolved component.
_SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|credential|private_key|access_key|account_key|sas|connection_string|api_key|client_secret|session_token|encryption_key)",
    re.IGNORECASE,
)
# Keys that look secret but are not (the state key, a KMS key id, a token *file path* is still hidden).
_NOT_SECRET = {"key", "kms_key_id", "kms_key", "kms_encryption_key", "access_key_id", "key_vault_key_id"}


# scheme://userinfo@ ; the userinfo runs to the last "@" before the path, as URL parsers split it.
# Both parts are bounded, so a long line without separators costs linear time.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]{0,31}://)(?P<userinfo>[^\s/?#]{0,1024})@")


def _mask_userinfo(match: re.Match[str]) -> str:
    user, colon, _password = match.group("userinfo").partition(":")
    return f"{match.group('scheme')}{user}:{MASK}@" if colon else f"{match.group('scheme')}{MASK}@"


def mask_url_credentials(text: str) -> str:
    """``text`` with the password (or lone token) of every URL's userinfo masked."""
    return _URL_USERINFO.sub(_mask_userinfo, text) if "://" in text else text


def url_credentials(text: str) -> Iterator[str]:
    """The passwords (or lone tokens) in the userinfo of the URLs in ``text``, as written and percent-decoded."""
    if "://" not in text:
        return
    for match in _URL_USERINFO.finditer(text):
        user, colon, password = match.group("userinfo").partition(":")
        for secret in {password, unquote(password)} if colon else {user, unquote(user)}:
            if secret:
                yield secret


def is_secret_key(key: str) -> bool:
    return key.lower() not in _NOT_SECRET and bool(_SECRET_KEY.search(key))


def is_secret_entry(key: Any, value: Any) -> bool:
    """A secret-looking key holding a scalar secret (a boolean flag such as skip_credentials_validation is not one)."""
    return isinstance(key, str) and is_secret_key(key) and isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != ""


def redact_mapping(value: Any, redact: Callable[[str], str] | None = None) -> Any:
    """A copy with the values of secret-looking keys masked, and every URL's credentials, at any depth.

    ``redact``: also passed every other string (e.g. a Redactor that knows secrets found by a
    backend type's rule). Iterative (no depth limit) and linear in the size of the output: every
    mapping becomes a new dict and every list a new list, as a recursive copy would make them.
    """

    def leaf(item: Any) -> Any:
        if not isinstance(item, str):
            return item
        item = mask_url_credentials(item)
        return redact(item) if redact is not None else item

    if not isinstance(value, (Mapping, list)):
        return leaf(value)
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
                copied = leaf(item)
            if isinstance(target, dict):
                target[key] = copied
            else:
                target.append(copied)
    return root


def secret_values(value: Any) -> set[str]:
    """The values of secret-looking keys and the credentials in URLs, at any depth (to mask them in free text too).

    Iterative, and each mapping or list is visited once however often it is shared (YAML
    aliases): linear in the number of distinct objects, not in the size they expand to.
    """
    found: set[str] = set()
    seen: set[int] = set()
    work = [value]
    while work:
        item = work.pop()
        if isinstance(item, str):
            found.update(s for s in url_credentials(item) if len(s) >= 4)
            continue
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


_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def literal_env_references(value: Any) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(dotted path, variable names) of each secret-looking setting whose value holds ``${VAR}``.

    Nothing expands those: the value is used as written, which is seldom what was meant.
    Iterative, each shared subtree visited once.
    """
    seen: set[int] = set()
    work: list[tuple[str, Any]] = [("", value)]
    while work:
        path, item = work.pop()
        if not isinstance(item, (Mapping, list)) or id(item) in seen:
            continue
        seen.add(id(item))
        pairs = item.items() if isinstance(item, Mapping) else enumerate(item)
        for key, child in pairs:
            where = f"{path}.{key}" if path and isinstance(key, str) else f"{path}[{key}]" if path else str(key)
            if isinstance(key, str) and isinstance(child, str) and is_secret_entry(key, child) and "${" in child:
                names = tuple(dict.fromkeys(_ENV_REFERENCE.findall(child)))
                if names:
                    yield where, names
            else:
                work.append((where, child))


def masker(hidden: Iterable[str], redact: Callable[[str], str] | None = None) -> Callable[[str], str]:
    """For ``redact_mapping``: a value equal to one of ``hidden`` is masked whatever its length; others go through ``redact``."""
    exact = frozenset(hidden)

    def mask(text: str) -> str:
        if text in exact:
            return MASK
        return redact(text) if redact is not None else text

    return mask


class Redactor:
    """Masks known secret values in any text; longest first so no fragment survives."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._longest_first: list[str] | None = []
        self._lock = threading.Lock()  # workers mask while the main thread may still add
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        new = {s for s in secrets if s and len(s) >= 4} - self._secrets
        if new:
            with self._lock:
                self._secrets |= new
                self._longest_first = None  # sorted when text is next masked, not once per add (a run adds per component)

    def __call__(self, text: str) -> str:
        text = mask_url_credentials(text)
        order = self._longest_first
        if order is None:
            with self._lock:
                order = self._longest_first = sorted(self._secrets, key=len, reverse=True)
        for secret in order:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self._secrets)
