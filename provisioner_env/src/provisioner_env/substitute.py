"""Replace an environment name where it is a whole name part, never inside a word.

A name part is bounded by anything that is not a letter or digit (``-``, ``_``, ``/``, ``.``,
quotes, spaces, the start or end of the text): ``acme-lambda-dev``, ``dev/terraform.tfstate``
and ``"dev"`` change; ``devices``, ``devops`` and ``dev2`` do not. Matching is case-sensitive.
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=64)
def name_part(name: str) -> re.Pattern[str]:
    """The pattern of ``name`` as a whole name part."""
    if not name:
        raise ValueError("an environment name cannot be empty")
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])")


def substitute(text: str, source: str, target: str) -> str:
    """``text`` with every name-part occurrence of ``source`` replaced by ``target``."""
    return name_part(source).sub(lambda _: target, text)


def contains(text: str, name: str) -> bool:
    """True when ``name`` occurs in ``text`` as a whole name part."""
    return bool(name_part(name).search(text))
