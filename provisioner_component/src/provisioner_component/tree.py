"""Vendored trees on disk: which files a source contributes, their digest, copying, swapping.

A *manifest* maps each vendored file's relative POSIX path to ``f:<sha256>`` (a file),
``x:<sha256>`` (an executable file) or ``l:<target>`` (a symlink). The *tree digest* is the
sha256 over the sorted manifest. Files terraform and core write into a component folder
(``.terraform/``, state, ``backend.tf.json``, the stack's tfvars) are never part of it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

from attrs import frozen

from provisioner_core import ConfigError

Manifest = dict[str, str]

# Written by terraform or by core into the component folder: not vendored, kept across re-vendoring.
RUNTIME_FOLDERS = frozenset({".terraform", "terraform.tfstate.d"})
RUNTIME_FILES = (
    ".terraform.lock.hcl",
    ".terraform.tfstate.lock.info",
    "terraform.tfstate",
    "terraform.tfstate.backup",
    "backend.tf.json",
    "*.terraform.tfvars.json",
    "*.tfplan",
    "*.planfile",
    "crash.log",
    "crash.*.log",
)
SKIPPED_FOLDERS = frozenset({".git"})
_CHUNK = 1024 * 1024


_RUNTIME_FILE = re.compile("|".join(fnmatch.translate(pattern) for pattern in RUNTIME_FILES))


def is_runtime(relative: str) -> bool:
    """True for what terraform or core writes in a component folder (top level only)."""
    first, _, rest = relative.partition("/")
    if first in RUNTIME_FOLDERS:
        return True
    return not rest and _RUNTIME_FILE.match(first) is not None


def file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest() if hasattr(hashlib, "file_digest") else _digest_chunks(handle)


def _digest_chunks(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def tree_digest(manifest: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(manifest):
        digest.update(f"{path}\0{manifest[path]}\n".encode())
    return "sha256:" + digest.hexdigest()


def scan(root: Path) -> Manifest:
    """The manifest of a vendored folder as it is now (runtime files left out)."""
    manifest: Manifest = {}
    _scan_into(str(root), "", manifest)
    return manifest


def _scan_into(folder: str, prefix: str, manifest: Manifest) -> None:
    with os.scandir(folder) as entries:
        for entry in entries:
            relative = prefix + entry.name
            if is_runtime(relative):
                continue
            if entry.is_symlink():
                manifest[relative] = "l:" + os.readlink(entry.path)
            elif entry.is_dir():
                if entry.name not in SKIPPED_FOLDERS:
                    _scan_into(entry.path, relative + "/", manifest)
            elif entry.is_file():
                executable = entry.stat().st_mode & 0o111
                manifest[relative] = ("x:" if executable else "f:") + file_digest(Path(entry.path))
            else:
                manifest[relative] = "s:special"


@frozen
class Changes:
    """How a folder differs from its manifest."""

    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    added: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.modified or self.deleted or self.added)

    def files(self) -> list[str]:
        return sorted([*self.modified, *self.deleted, *self.added])

    def summary(self, limit: int = 10) -> str:
        """``modified main.tf; deleted outputs.tf; added x.tf`` (at most ``limit`` names)."""
        parts = []
        shown = 0
        for verb, names in (("modified", self.modified), ("deleted", self.deleted), ("added", self.added)):
            if not names:
                continue
            room = max(limit - shown, 0)
            listed = ", ".join(names[:room]) if room else ""
            more = f" and {len(names) - room} more" if len(names) > room else ""
            parts.append(f"{verb} {listed}{more}".strip())
            shown += min(len(names), room)
        return "; ".join(parts)


def compare(expected: Mapping[str, str], actual: Mapping[str, str]) -> Changes:
    return Changes(
        modified=tuple(sorted(p for p in expected if p in actual and actual[p] != expected[p])),
        deleted=tuple(sorted(p for p in expected if p not in actual)),
        added=tuple(sorted(p for p in actual if p not in expected)),
    )


class PathFilter:
    """``included_paths`` / ``excluded_paths`` (globs, ``**`` spans folders, dotfiles match).

    A file is vendored when it matches an included pattern (all files when there are none)
    and neither it nor a folder above it matches an excluded pattern (Atmos prunes folders).
    """

    def __init__(self, included: Iterable[str] = (), excluded: Iterable[str] = ()) -> None:
        from wcmatch import glob as wcglob  # only when a tree is selected, never on a warm run

        flags = wcglob.GLOBSTAR | wcglob.NEGATE | wcglob.DOTGLOB
        self.included = tuple(included) or ("**",)
        self.excluded = tuple(excluded)
        self._files = wcglob.compile([*self.included, *(f"!{p}" for p in self.excluded)], flags=flags)
        self._folders = wcglob.compile(list(self.excluded), flags=flags) if self.excluded else None

    def folder_excluded(self, relative: str) -> bool:
        return self._folders is not None and bool(self._folders.match(relative))

    def wants(self, relative: str) -> bool:
        return bool(self._files.match(relative))


@frozen
class Pick:
    """One entry to vendor: copy ``origin`` (a file) to ``path``, or make a symlink to ``link``."""

    path: str
    origin: str | None = None
    link: str | None = None


def select(root: Path, subdir: str, path_filter: PathFilter, *, where: str) -> list[Pick]:
    """What ``root/subdir`` contributes after filtering; escaping symlinks are refused (exit 2).

    A symlink that stays inside ``subdir`` is kept as a link. One that leaves ``subdir`` but stays
    inside ``root`` (a monorepo's shared file) is copied as the file it points to. One that
    leaves ``root``, or is absolute, is a configuration error: nothing is written.
    """
    real_root = os.path.realpath(root)
    base = os.path.join(real_root, subdir) if subdir else real_root
    if not os.path.isdir(base):
        found = sorted(p.name for p in Path(real_root).iterdir() if p.name not in SKIPPED_FOLDERS)[:10] if os.path.isdir(real_root) else []
        raise ConfigError(
            f"{where}: the source has no folder '{subdir}'",
            hint=f"Check the part after //; the source's top level holds: {', '.join(found) or '(nothing)'}.",
        )
    if os.path.realpath(base) != os.path.normpath(base):
        raise ConfigError(f"{where}: the subfolder '{subdir}' is a symlink", hint="Point // at the real folder.")
    picks: list[Pick] = []
    for folder, dirs, names in os.walk(base):
        relative_folder = os.path.relpath(folder, base).replace(os.sep, "/")
        prefix = "" if relative_folder == "." else relative_folder + "/"
        keep = []
        for name in sorted(dirs):
            relative = prefix + name
            full = os.path.join(folder, name)
            if name in SKIPPED_FOLDERS or path_filter.folder_excluded(relative):
                continue
            if os.path.islink(full):
                names.append(name)  # judged below, as a link
            else:
                keep.append(name)
        dirs[:] = keep
        for name in sorted(names):
            relative = prefix + name
            full = os.path.join(folder, name)
            if not path_filter.wants(relative):
                continue
            info = os.lstat(full)
            if stat.S_ISLNK(info.st_mode):
                picks.append(_link_pick(full, relative, real_root, base, where))
            elif stat.S_ISREG(info.st_mode):
                picks.append(Pick(relative, origin=full))
            else:
                raise ConfigError(f"{where}: {relative} is not a regular file (a device, socket or pipe)", hint="Remove it from the source or exclude it.")
    return picks


def _link_pick(full: str, relative: str, real_root: str, base: str, where: str) -> Pick:
    target = os.readlink(full)
    if os.path.isabs(target):
        raise ConfigError(f"{where}: symlink {relative} -> {target} is absolute", hint="Vendored trees may hold relative links inside them only.")
    lexical = os.path.normpath(os.path.join(os.path.dirname(full), target))
    resolved = os.path.realpath(full)
    if not _inside(lexical, real_root) or not _inside(resolved, real_root):
        raise ConfigError(f"{where}: symlink {relative} -> {target} points outside the source", hint="Remove the link or exclude it with excluded_paths.")
    if _inside(lexical, base) and _inside(resolved, base):
        return Pick(relative, link=target)
    if os.path.isfile(resolved):
        return Pick(relative, origin=resolved)  # leaves the subfolder: vendor the file it points to
    raise ConfigError(
        f"{where}: symlink {relative} -> {target} leaves the vendored subfolder for a folder",
        hint="Vendor the parent folder instead, or exclude the link with excluded_paths.",
    )


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def materialize(picks: Iterable[Pick], destination: Path) -> Manifest:
    """Copy ``picks`` into the empty folder ``destination``; return its manifest."""
    manifest: Manifest = {}
    for pick in picks:
        target = destination / pick.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if pick.link is not None:
            os.symlink(pick.link, target)
            manifest[pick.path] = "l:" + pick.link
            continue
        assert pick.origin is not None
        digest = hashlib.sha256()
        with open(pick.origin, "rb") as source, open(target, "xb") as sink:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                sink.write(chunk)
        executable = bool(os.stat(pick.origin).st_mode & 0o111)
        os.chmod(target, 0o755 if executable else 0o644)
        manifest[pick.path] = ("x:" if executable else "f:") + digest.hexdigest()
    return manifest


def carry_runtime(previous: Path, staged: Path) -> list[str]:
    """Hard-link terraform's and core's files from the previous folder into the staged one.

    Links, not moves: the previous folder stays whole until the swap, so an interrupted run
    loses nothing (state files included). Returns the top-level names carried.
    """
    carried: list[str] = []
    if not previous.is_dir():
        return carried
    for entry in sorted(os.listdir(previous)):
        if not is_runtime(entry) or os.path.lexists(staged / entry):
            continue
        _link_tree(previous / entry, staged / entry)
        carried.append(entry)
    return carried


def seed_runtime(source: Path, staged: Path) -> list[str]:
    """Copy the source's own top-level runtime files (a committed ``.terraform.lock.hcl``) the staged tree lacks.

    The working folder's copy, carried over first, wins: after the first vendoring the file is terraform's.
    """
    seeded: list[str] = []
    if not source.is_dir():
        return seeded
    for entry in sorted(os.listdir(source)):
        origin = source / entry
        if is_runtime(entry) and entry not in RUNTIME_FOLDERS and origin.is_file() and not origin.is_symlink() and not os.path.lexists(staged / entry):
            shutil.copyfile(origin, staged / entry)
            seeded.append(entry)
    return seeded


def _link_tree(source: Path, target: Path) -> None:
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    elif source.is_dir():
        target.mkdir()
        for name in os.listdir(source):
            _link_tree(source / name, target / name)
    else:
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)  # a file system without hard links


def remove_tree(path: Path) -> None:
    """Remove a folder (or a link or file) if it exists; read-only files included."""
    if path.is_symlink() or path.is_file():
        path.unlink()
        return
    if not path.exists():
        return

    def writable(function, name, _exc):  # type: ignore[no-untyped-def]
        os.chmod(name, stat.S_IWUSR | stat.S_IRUSR | stat.S_IXUSR)
        function(name)

    shutil.rmtree(path, onerror=writable)


