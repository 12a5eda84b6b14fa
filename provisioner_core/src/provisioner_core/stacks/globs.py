"""Glob matching for stack paths (relative, posix), with wcmatch: ``**``, ``*``, ``?``, ``[a-z]``, ``{a,b}``."""

from __future__ import annotations

import functools
from pathlib import Path

from wcmatch import glob as wglob

# Atmos uses doublestar: ** spans folders, {a,b} braces, [..] classes; dot files match like others.
FLAGS = wglob.GLOBSTAR | wglob.BRACE | wglob.DOTGLOB | wglob.NEGATE


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> object:
    return wglob.compile(pattern, flags=FLAGS)


def matches(relative: str, pattern: str) -> bool:
    return bool(_compiled(pattern).match(relative))  # type: ignore[attr-defined]


def has_magic(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[{")


def glob(base: Path, pattern: str) -> list[Path]:
    """Files under ``base`` matching ``pattern`` (relative), sorted."""
    return sorted(Path(p) for p in wglob.glob(pattern, root_dir=str(base), flags=FLAGS) if (base / p).is_file())
