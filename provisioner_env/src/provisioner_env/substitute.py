"""Replace an environment name where it is a whole name part, never inside a word.

A name part is bounded by anything that is not a letter or digit (``-``, ``_``, ``/``, ``.``,
quotes, spaces, the start or end of the text): ``acme-lambda-dev``, ``dev/terraform.tfstate``
and ``"dev"`` change; ``devices``, ``devops`` and ``dev2`` do not. Matching is case-sensitive.

``protect`` names other environments: where one of them contains the name as a name part
(``feature-dev-tools`` contains ``dev``), an occurrence inside it belongs to that environment
and is neither matched nor replaced.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


@functools.lru_cache(maxsize=256)
def name_part(name: str, ignore_case: bool = False) -> re.Pattern[str]:
    """The pattern of ``name`` as a whole name part."""
    if not name:
        raise ValueError("an environment name cannot be empty")
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", re.IGNORECASE if ignore_case else 0)


def _protected_spans(text: str, name: str, protect: Iterable[str], ignore_case: bool) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for other in protect:
        if other and other.lower() != name.lower() and name_part(name, True).search(other):
            spans += [m.span() for m in name_part(other, ignore_case).finditer(text)]
    return spans


def matches(text: str, name: str, protect: Iterable[str] = (), *, ignore_case: bool = False) -> list[re.Match[str]]:
    """The name-part occurrences of ``name`` in ``text`` that are not inside a protected name."""
    found = list(name_part(name, ignore_case).finditer(text))
    if not found:
        return found
    spans = _protected_spans(text, name, protect, ignore_case)
    return [m for m in found if not any(start <= m.start() and m.end() <= end for start, end in spans)]


def _cased(found: str, target: str) -> str:
    """``target`` in the case style of what it replaces (``DEV`` -> ``FEATURE-X``, ``Dev`` -> ``Feature-x``)."""
    if found.isupper():
        return target.upper()
    if found[:1].isupper():
        return target[:1].upper() + target[1:]
    return target


def substitute(text: str, source: str, target: str, protect: Iterable[str] = (), *, ignore_case: bool = False) -> str:
    """``text`` with every name-part occurrence of ``source`` replaced by ``target``.

    ``ignore_case``: for names a provider compares without case (IAM roles, Azure resource
    groups): ``Dev`` and ``DEV`` are the environment too, replaced in their own case style.
    """
    found = matches(text, source, protect, ignore_case=ignore_case)
    if not found:
        return text
    parts: list[str] = []
    last = 0
    for match in found:
        parts += [text[last : match.start()], _cased(match.group(0), target) if ignore_case else target]
        last = match.end()
    parts.append(text[last:])
    return "".join(parts)


def contains(text: str, name: str, protect: Iterable[str] = (), *, ignore_case: bool = False) -> bool:
    """True when ``name`` occurs in ``text`` as a whole name part (outside protected names)."""
    return bool(matches(text, name, protect, ignore_case=ignore_case))
