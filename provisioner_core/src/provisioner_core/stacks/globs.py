"""Glob matching for stack paths (relative, posix), with wcmatch: ``**``, ``*``, ``?``, ``[a-z]``, ``{a,b}``."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any


def _wcmatch() -> tuple[Any, int]:
    from wcmatch import glob as wglob  # imported when a glob is first matched: not at start-up

    # Atmos uses doublestar: ** spans folders, {a,b} braces, [..] classes; dot files match like others.
    return wglob, wglob.GLOBSTAR | wglob.BRACE | wglob.DOTGLOB | wglob.NEGATE


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> Any:
    wglob, flags = _wcmatch()
    return wglob.compile(pattern, flags=flags)


def matches(relative: str, pattern: str) -> bool:
    return bool(_compiled(pattern).match(relative))


def has_magic(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[{")


def glob(base: Path, pattern: str) -> list[Path]:
    """Files under ``base`` matching ``pattern`` (relative), sorted."""
    wglob, flags = _wcmatch()
    return sorted(Path(p) for p in wglob.glob(pattern, root_dir=str(base), flags=flags) if (base / p).is_file())
