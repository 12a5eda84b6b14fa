"""Bring a source's tree onto disk: from the cache when it holds the pinned content, else fetched.

The cache (``.provisioner/cache``) holds whole fetched trees, content-addressed: a git commit
per repository, an archive by its sha256. A pinned source (a commit from the lock or a full SHA
ref; an archive checksum from the configuration or the lock) found there costs no network call
and no git invocation. Fetches land in ``cache/tmp`` first and are renamed into place only when
complete, so a killed fetch leaves nothing half-written that a rerun would trust.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from attrs import field, frozen

from provisioner_component.config import ComponentSource
from provisioner_component.git import Git, GitAccess, access_for, fetch_commit, is_full_sha
from provisioner_component.tree import remove_tree
from provisioner_component.uri import is_registry_address, redact_url
from provisioner_component.workdir import Layout

if TYPE_CHECKING:
    from provisioner_component.credentials import GitCredentials
from provisioner_core import ConfigError, NetworkError, ResourceConflict


def _to_dict(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


@frozen
class Fetched:
    """A source's tree on disk and what it resolved to."""

    tree: Path
    resolved: Mapping[str, str] = field(converter=_to_dict)  # {"commit": …} or {"archive_sha256": "sha256:…"}; {} for local
    fetched: bool = False  # True when it took a network call or a git run


class Fetcher:
    """Fetches sources into the project's cache; counts what it did for tests and reports."""

    def __init__(
        self,
        layout: Layout,
        *,
        git_credentials: GitCredentials | None = None,
        redact: Callable[[str], str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        git_timeout_s: float | None = None,
    ) -> None:
        self.layout = layout
        self.git_credentials = git_credentials
        self.redact = redact
        self.sleep = sleep
        self.git_timeout_s = git_timeout_s
        self.fetches = 0
        self.git_calls = 0
        # One fetch per distinct (source, pin, refresh) in a run, even when many components ask at once.
        self._memo: dict[str, Fetched] = {}
        self._memo_lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def cached(self, source: ComponentSource, pin: Mapping[str, str] | None) -> Fetched | None:
        """The tree from the cache, or from disk for a local source, without any network or git; None if absent."""
        if source.kind == "local":
            return Fetched(self.local_path(source), {})
        if source.kind == "git":
            commit = (pin or {}).get("commit") or (source.ref if is_full_sha(source.ref) else None)
            if commit:
                folder = self.layout.git_cache(source.location, commit)
                if folder.is_dir():
                    return Fetched(folder, {"commit": commit})
            return None
        expected = source.checksum or (pin or {}).get("archive_sha256")
        if expected:
            folder = self.layout.archive_cache(expected.split(":", 1)[1])
            if folder.is_dir():
                return Fetched(folder, {"archive_sha256": expected})
        return None

    def fetch(self, source: ComponentSource, pin: Mapping[str, str] | None, *, where: str, refresh: bool = False) -> Fetched:
        """The source's tree: from the cache when pinned and present (unless ``refresh``), else fetched."""
        if not refresh:
            hit = self.cached(source, pin)
            if hit is not None:
                return hit
        if source.kind == "local":
            return Fetched(self.local_path(source), {})
        check_fetchable(source, where)
        key = json.dumps([source.fetch_key(), dict(pin or {}), refresh])
        with self._memo_lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._memo_lock:
                if key in self._memo:
                    return self._memo[key]
            fetched = self._fetch_with_retry(source, pin, where=where, refresh=refresh)
            with self._memo_lock:
                self._memo[key] = fetched
            return fetched

    def _fetch_with_retry(self, source: ComponentSource, pin: Mapping[str, str] | None, *, where: str, refresh: bool) -> Fetched:
        attempts = source.retry.max_attempts
        delay = source.retry.initial_delay_s
        for attempt in range(1, attempts + 1):
            try:
                if source.kind == "git":
                    return self._fetch_git(source, None if refresh else pin, where)
                return self._fetch_archive(source, None if refresh else pin, where)
            except NetworkError:
                if attempt == attempts:
                    raise
                self.sleep(delay)
                delay = min(delay * 2, source.retry.max_delay_s)
        raise AssertionError("unreachable")  # pragma: no cover

    def local_path(self, source: ComponentSource) -> Path:
        path = Path(os.path.expanduser(source.location))
        if not path.is_absolute():
            path = self.layout.root / path
        if not path.exists():
            hint = "Local paths are relative to the project root (the folder of atmos.yaml / provisioner.yaml)."
            if is_registry_address(source.location):
                raise ConfigError(
                    f"{source.form}: {source.location} looks like a Terraform registry address, which is not supported yet",
                    hint="Point source at the module's git repository instead (git::https://…?ref=…); " + hint,
                    context={"source": "registry"},
                )
            raise ConfigError(f"{source.form}: local source {source.location} does not exist", hint=hint)
        return path

    # --- git ------------------------------------------------------------------------------

    def _git_access(self, source: ComponentSource) -> GitAccess:
        if source.password or source.username:
            # Credentials written into the URL win over auth.providers.git: they were meant for this URL.
            return access_for(source.location, username=source.username if source.password else "x-access-token", secret=source.password or source.username)
        if self.git_credentials is not None:
            return self.git_credentials.access(source.location)
        return GitAccess()

    def _fetch_git(self, source: ComponentSource, pin: Mapping[str, str] | None, where: str) -> Fetched:
        pinned = (pin or {}).get("commit")
        want = pinned or source.ref
        git = Git(self._git_access(source), self.redact, **({"timeout_s": self.git_timeout_s} if self.git_timeout_s else {}))
        work = self._scratch("git")
        self.fetches += 1
        try:
            commit = fetch_commit(git, source.location, want, work, where=where)
            if pinned and commit != pinned:
                raise ResourceConflict(
                    f"{where}: {redact_url(source.location)} gave commit {commit} for the locked {pinned}",
                    hint="The lock pins a commit the server no longer serves; run with --force to vendor the ref's current commit.",
                )
            final = self.layout.git_cache(source.location, commit)
            _publish(work, final)
            return Fetched(final, {"commit": commit}, fetched=True)
        finally:
            self.git_calls += git.calls
            remove_tree(work)

    # --- archives -------------------------------------------------------------------------

    def _fetch_archive(self, source: ComponentSource, pin: Mapping[str, str] | None, where: str) -> Fetched:
        from provisioner_component import archive  # urllib.request, tarfile, zipfile: only when an archive is fetched

        assert source.archive_format is not None
        locked = (pin or {}).get("archive_sha256")
        scratch = self._scratch("archive")
        self.fetches += 1
        try:
            if source.location.lower().startswith(("http://", "https://")):
                download = scratch.with_suffix(".download")
                try:
                    hex_digest = archive.download(
                        source.location, download, max_size=source.max_size, pinned=source.checksum is not None, where=where,
                        username=source.username, password=source.password,
                    )
                    digest = f"sha256:{hex_digest}"
                    _verify(source, locked, digest, where)
                    archive.extract(download, source.archive_format, scratch, max_size=source.max_size, where=where)
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        download.unlink()
            else:
                path = self.local_path(source)
                digest = f"sha256:{archive.hash_file(path, max_size=source.max_size, where=where)}"
                _verify(source, locked, digest, where)
                archive.extract(path, source.archive_format, scratch, max_size=source.max_size, where=where)
            final = self.layout.archive_cache(digest.split(":", 1)[1])
            _publish(scratch, final)
            return Fetched(final, {"archive_sha256": digest}, fetched=True)
        finally:
            remove_tree(scratch)

    # --- scratch space --------------------------------------------------------------------

    def _scratch(self, kind: str) -> Path:
        """A fresh name in cache/tmp, after sweeping what dead processes left there."""
        tmp = self.layout.cache_tmp
        tmp.mkdir(parents=True, exist_ok=True)
        sweep(tmp)
        return tmp / f"{os.getpid()}-{kind}-{secrets.token_hex(6)}"


def check_fetchable(source: ComponentSource, where: str) -> None:
    """Refusals that need no network: plain http archives without a checksum."""
    if source.kind == "archive" and source.location.lower().startswith("http://") and source.checksum is None:
        raise ConfigError(
            f"{where}: plain http archive {redact_url(source.location)} refused without a checksum",
            hint="Use https, or pin the content with checksum: sha256:<hex> (sha256sum prints it).",
        )


def _verify(source: ComponentSource, locked: str | None, digest: str, where: str) -> None:
    if source.checksum is not None and digest != source.checksum:
        raise ConfigError(
            f"{where}: checksum mismatch for {redact_url(source.location)}: expected {source.checksum}, got {digest}",
            hint="The archive is not the one the checksum pins; nothing was extracted. Fix the checksum only if you trust the new archive.",
        )
    if source.checksum is None and locked is not None and digest != locked:
        raise ResourceConflict(
            f"{where}: {redact_url(source.location)} changed since it was locked: expected {locked}, got {digest}",
            hint="The same URL now serves different bytes; nothing was extracted. Run with --force to accept the new archive, or pin it with checksum:.",
        )


def _publish(work: Path, final: Path) -> None:
    """Rename a complete fetch into the cache; a concurrent run that got there first wins."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(work, final)
    except OSError:
        if not final.is_dir():
            raise


def sweep(tmp: Path) -> None:
    """Remove scratch entries whose process (the pid in their name) is gone."""
    for entry in os.listdir(tmp):
        pid_text = entry.split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        if _alive(int(pid_text)):
            continue
        remove_tree_quietly(tmp / entry)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_tree_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        remove_tree(path)
