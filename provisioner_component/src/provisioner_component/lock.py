"""The lock file: what each working folder holds, so a rerun can prove nothing changed.

``<project>/.provisioner/component.lock.json``, one file for the project, keyed by working
folder (``dev/vpc``). One file because a warm ``--all`` reads it once for every component, and
because it belongs in version control like any lock file: a fresh clone vendors exactly the
commits and archives it names, even when a ref is a branch. Each entry records:

* ``source``: the configured source (kind, location, subdir, ref, checksum, path filters);
* ``resolved``: ``commit`` (git), ``archive_sha256`` (archives) or ``source_tree`` (local folders);
* ``tree``: the vendored tree's digest, and ``files``: each vendored file's digest (to name edits);
* ``vendored_at``: when it was written (UTC), for ``ttl``.

A top-level ``pending`` map holds the entry a swap is about to install, only while the swap is
under way; a rerun after a kill finishes or undoes it (see vendor.py).

Writes are atomic (temporary file, fsync, rename) and serialised: a thread lock within the
process and an advisory ``flock`` on ``locks/component.lock.json.lk`` across processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen

from provisioner_core import ConfigError

LOCK_VERSION = 1


def _to_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@frozen
class LockEntry:
    """What one working folder holds."""

    stack: str
    component: str
    source: Mapping[str, Any] = field(converter=_to_dict)
    resolved: Mapping[str, Any] = field(converter=_to_dict)
    tree: str
    files: Mapping[str, str] = field(converter=_to_dict)
    vendored_at: str

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "stack": self.stack,
            "component": self.component,
            "source": dict(self.source),
            "resolved": dict(self.resolved),
            "tree": self.tree,
            "vendored_at": self.vendored_at,
            "files": dict(sorted(self.files.items())),
        }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LockEntry:
        return cls(
            stack=str(data["stack"]),
            component=str(data["component"]),
            source=data.get("source") or {},
            resolved=data.get("resolved") or {},
            tree=str(data.get("tree") or ""),
            files={str(k): str(v) for k, v in (data.get("files") or {}).items()},
            vendored_at=str(data.get("vendored_at") or ""),
        )


_KEEP: Any = object()
Entries = dict[str, LockEntry]


class LockFile:
    """Reads the lock once per instance; every update re-reads it under the locks and rewrites it."""

    _thread_lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: tuple[Entries, Entries] | None = None

    def entries(self) -> Entries:
        return self._loaded()[0]

    def get(self, key: str) -> LockEntry | None:
        return self._loaded()[0].get(key)

    def pending(self, key: str) -> LockEntry | None:
        return self._loaded()[1].get(key)

    def update(self, key: str, *, entry: LockEntry | None = _KEEP, pending: LockEntry | None = _KEEP) -> None:
        """Set (or, with None, remove) the entry and/or the pending entry of ``key``; others stay as on disk."""
        with self._locked():
            entries, pendings = self._read()
            for table, value in ((entries, entry), (pendings, pending)):
                if value is _KEEP:
                    continue
                if value is None:
                    table.pop(key, None)
                else:
                    table[key] = value
            self._write(entries, pendings)
            self._data = (entries, pendings)

    def refresh(self) -> None:
        """Forget what was read: the next question reads the file again."""
        self._data = None

    def _loaded(self) -> tuple[Entries, Entries]:
        if self._data is None:
            self._data = self._read()
        return self._data

    def _read(self) -> tuple[Entries, Entries]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return {}, {}
        try:
            data = json.loads(text)
            if not isinstance(data, Mapping) or not isinstance(data.get("components", {}), Mapping) or not isinstance(data.get("pending", {}), Mapping):
                raise ValueError("not a mapping of components")
            version = data.get("version", LOCK_VERSION)
            if version != LOCK_VERSION:
                raise ValueError(f"version {version}, expected {LOCK_VERSION}")
            entries = {str(k): LockEntry.from_dict(v) for k, v in data.get("components", {}).items()}
            pendings = {str(k): LockEntry.from_dict(v) for k, v in data.get("pending", {}).items()}
            return entries, pendings
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ConfigError(
                f"the lock file {self.path} cannot be read: {error}",
                hint="Restore it from version control, or delete it: the next run re-vendors and writes a new one (local edits are then not detected).",
            ) from error

    def _write(self, entries: Mapping[str, LockEntry], pendings: Mapping[str, LockEntry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {
            "version": LOCK_VERSION,
            "generated_by": "provisioner-component",
            "components": {key: entries[key].to_dict() for key in sorted(entries)},
        }
        if pendings:
            data["pending"] = {key: pendings[key].to_dict() for key in sorted(pendings)}
        handle, temporary = tempfile.mkstemp(prefix=".component.lock.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w") as stream:
                json.dump(data, stream, indent=2)
                stream.write("\n")
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock, file_lock(self.path.parent / "locks" / (self.path.name + ".lk")):
            yield


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock held while the block runs (released if the process dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: one process at a time is the user's job
            yield
            return
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
