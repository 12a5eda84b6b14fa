"""Slash-separated path functions with Go's ``path`` package semantics (Sprig's base/dir/clean/ext/isAbs)."""

from __future__ import annotations

from typing import Any

from .registry import register, want_str


def clean(path: str) -> str:
    """``path.Clean``: collapse //, drop ., resolve .. lexically; "" becomes "."."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."


def base(path: str) -> str:
    """``path.Base``: the last element; "" is ".", all slashes is "/"."""
    if path == "":
        return "."
    stripped = path.rstrip("/")
    if stripped == "":
        return "/"
    return stripped.rsplit("/", 1)[-1]


def directory(path: str) -> str:
    """``path.Dir``: everything but the last element, cleaned."""
    return clean(path[: path.rfind("/") + 1])


def extension(path: str) -> str:
    """``path.Ext``: from the last dot of the last element."""
    for index in range(len(path) - 1, -1, -1):
        if path[index] == "/":
            break
        if path[index] == ".":
            return path[index:]
    return ""


@register("base", "osBase", "path.Base", "filepath.Base")
def p_base(path: Any) -> str:
    """Last element of a path."""
    return base(want_str(path))


@register("dir", "osDir", "path.Dir", "filepath.Dir")
def p_dir(path: Any) -> str:
    """All but the last element of a path."""
    return directory(want_str(path))


@register("clean", "osClean", "path.Clean", "filepath.Clean")
def p_clean(path: Any) -> str:
    """Lexically cleaned path."""
    return clean(want_str(path))


@register("ext", "osExt", "path.Ext", "filepath.Ext")
def p_ext(path: Any) -> str:
    """File extension, with the dot."""
    return extension(want_str(path))


@register("isAbs", "osIsAbs", "path.IsAbs", "filepath.IsAbs")
def p_is_abs(path: Any) -> bool:
    """Whether the path starts with a slash."""
    return want_str(path).startswith("/")


@register("path.Join", "filepath.Join")
def p_join(*elements: Any) -> str:
    """Join non-empty elements with slashes and clean the result."""
    parts = [want_str(e) for e in elements if e != ""]
    return clean("/".join(parts)) if parts else ""
