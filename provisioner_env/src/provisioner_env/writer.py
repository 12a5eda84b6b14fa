"""Write the target's files all or nothing: a lock per environment, temporary file + link/rename.

* Two concurrent creates of one environment: the second cannot take the lock (or finds the
  files), and fails with exit 4; it never writes half a file or interleaves with the first.
* Without ``--force`` a file is put in place with ``os.link``, which fails if the name exists:
  even without the lock, an existing file is never replaced.
* If any write fails, the files already written are restored (or removed).
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from provisioner_core import ProvisionerError, ResourceConflict
from provisioner_env.plan import FileChange


@contextlib.contextmanager
def environment_lock(root: Path, target: str) -> Iterator[Path]:
    """Hold ``.provision-env.<target>.lock`` in the project root (O_EXCL) for the block."""
    lock = root / f".provision-env.{target}.lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        owner = _read(lock)
        raise ResourceConflict(
            f"another `provision env` run is changing environment '{target}' (lock file {lock.name}{': ' + owner if owner else ''})",
            hint=f"Wait for it to finish. If no such run is active, remove {lock} and try again.",
            context={"target": target},
        ) from None
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        yield lock
    finally:
        lock.unlink(missing_ok=True)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def write_all(root: Path, changes: Sequence[FileChange], *, force: bool) -> list[str]:
    """Write every file; on any failure restore what was written and re-raise. Returns the paths written."""
    done: list[tuple[Path, str | None, list[Path]]] = []  # path, previous content, folders created
    try:
        for change in changes:
            path = root / change.target
            previous = path.read_text() if path.exists() else None
            created = _make_parents(path.parent)
            done.append((path, previous, created))
            write_atomic(path, change.content, replace=force)
    except BaseException:
        for path, previous, created in reversed(done):
            _restore(path, previous, created)
        raise
    return [change.target for change in changes]


def _make_parents(folder: Path) -> list[Path]:
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
    return missing


def _restore(path: Path, previous: str | None, created: list[Path]) -> None:
    with contextlib.suppress(OSError):
        if previous is None:
            path.unlink(missing_ok=True)
        else:
            write_atomic(path, previous, replace=True)
        for folder in created:
            folder.rmdir()


def write_atomic(path: Path, content: str, *, replace: bool) -> None:
    """Write beside ``path`` and move it in place; ``replace=False`` refuses an existing file (exit 4)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise ResourceConflict(f"{path} already exists", hint="Another run created it; pass --force to overwrite.") from None
            except OSError:  # a file system without hard links: exclusive create instead
                try:
                    with open(path, "x") as handle:
                        handle.write(content)
                except FileExistsError:
                    raise ResourceConflict(f"{path} already exists", hint="Another run created it; pass --force to overwrite.") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def remove_files(root: Path, relatives: Sequence[str]) -> list[str]:
    """Remove files (and the folders they leave empty, up to the project root)."""
    removed = []
    for relative in relatives:
        path = root / relative
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ProvisionerError(f"cannot remove {relative}: {exc.strerror}", hint="Check the file's permissions.") from None
        removed.append(relative)
        folder = path.parent
        while folder != root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    return removed
