"""Connection strings without their secrets: masking and finding the password in both libpq forms.

Pure text functions (no psycopg), usable on strings libpq would reject, so an error message about
a malformed connection string can still be scrubbed. Both forms are covered:
``postgres://user:secret@host/db?password=secret`` and ``host=h password='se cret'``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

MASK = "***"

_URL = re.compile(r"(?P<scheme>postgres(?:ql)?://)(?P<userinfo>[^@/?#\s]*)@", re.IGNORECASE)
_URL_QUERY_PASSWORD = re.compile(r"(?P<key>[?&]password=)(?P<value>[^&#\s]*)", re.IGNORECASE)
# key=value form: the value is either single-quoted (with backslash escapes) or runs to the next space.
# ('' inside quotes is not libpq syntax, but masking it as one value errs on the safe side.)
_KV_PASSWORD = re.compile(r"(?<![?&])(?P<key>\bpassword\s*=\s*)(?P<value>'(?:[^'\\]|\\.|'')*'?|[^\s']+)", re.IGNORECASE)


def is_url(text: str) -> bool:
    return bool(re.match(r"^\s*postgres(?:ql)?://", text, re.IGNORECASE))


def mask_password(text: str) -> str:
    """``text`` with every password in it replaced by ``***`` (URL userinfo, URL query, key=value)."""

    def userinfo(match: re.Match[str]) -> str:
        user, sep, _password = match.group("userinfo").partition(":")
        return f"{match.group('scheme')}{user}{':' + MASK if sep else ''}@"

    text = _URL.sub(userinfo, text)
    text = _URL_QUERY_PASSWORD.sub(lambda m: m.group("key") + MASK, text)
    return _KV_PASSWORD.sub(lambda m: m.group("key") + MASK, text)


def passwords_in(text: str) -> list[str]:
    """Every password written in ``text``, as written and as libpq reads it (URL-decoded, unquoted)."""
    found: list[str] = []
    for match in _URL.finditer(text):
        _user, sep, password = match.group("userinfo").partition(":")
        if sep and password:
            found += [password, unquote(password)]
    for match in _URL_QUERY_PASSWORD.finditer(text):
        if match.group("value"):
            found += [match.group("value"), unquote(match.group("value"))]
    for match in _KV_PASSWORD.finditer(text):
        value = match.group("value")
        if value.startswith("'"):
            inner = value[1:-1] if value.endswith("'") and len(value) > 1 else value[1:]
            found += [value, inner, re.sub(r"\\(.)", r"\1", inner)]
        elif value:
            found.append(value)
    return [value for value in dict.fromkeys(found) if value]


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with passwords masked by form and every known secret masked by value (longest first)."""
    text = mask_password(text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
