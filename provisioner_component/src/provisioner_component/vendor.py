"""Vendoring one component: check the lock, fetch if needed, filter, verify, swap in, lock.

1. **Plan** from the lock and the disk only: no network, no git. The source is unchanged and
   the working folder matches the lock's tree digest -> ``unchanged``. Local edits (files
   modified, deleted or added) -> exit 4 naming them, unless ``force``.
2. **Fetch** (cache first; see sources.py), **select** the subfolder through the path filters,
   **materialize** it in a staging folder and compute its digest. A pinned re-vendor (the lock's
   commit or archive) must give the lock's tree digest, or exit 4.
3. **Swap**: terraform's files (``.terraform/``, state) are hard-linked into the staged tree;
   the lock records the swap as pending; the working folder is renamed aside, the staged tree
   renamed in, the lock entry written, the old tree removed. A kill at any point leaves either
   the old tree or the new one in place, and the next run settles the lock to match.

Dry runs stop after the plan: they read the lock and the working folder (and a local source's
files), and make no write, no network call and no git invocation.
"""

from __future__ import annotations

import datetime
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs
from attrs import field, frozen

from provisioner_component.config import ComponentSource
from provisioner_component.lock import LockEntry, LockFile, file_lock
from provisioner_component.sources import Fetched, Fetcher, check_fetchable, remove_tree_quietly
from provisioner_component.tree import (
    Changes,
    PathFilter,
    Pick,
    carry_runtime,
    compare,
    file_digest,
    is_runtime,
    materialize,
    remove_tree,
    scan,
    seed_runtime,
    select,
    tree_digest,
)
from provisioner_component.workdir import Layout, Target
from provisioner_core import ChangeRecorder, ConfigError, ProvisionResult, ResourceConflict

Action = Literal["unchanged", "create", "update"]
STATE_FILES = ("terraform.tfstate", "terraform.tfstate.backup", "terraform.tfstate.d")


def _to_dict(value: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if value is None else dict(value)


@frozen
class Plan:
    """What vendoring one component will do, decided without the network."""

    action: Action
    reason: str
    entry: LockEntry | None = None
    pin: Mapping[str, str] | None = field(default=None, converter=_to_dict)  # the lock's resolution to reuse
    refresh: bool = False  # resolve the ref again (force, ttl)
    forced: bool = False  # --force: local edits are overwritten
    changes: Changes = field(factory=Changes)  # local edits that force overwrites
    picks: Sequence[Pick] | None = None  # a local source's selection, made while planning


@frozen
class Inspection:
    """The state of one working folder, for ``list`` and ``describe``."""

    target: Target
    state: str  # vendored | missing | outdated | modified | not-locked | interrupted
    entry: LockEntry | None
    changes: Changes = field(factory=Changes)

    def to_dict(self) -> dict[str, Any]:
        entry = self.entry
        return {
            "stack": self.target.stack,
            "component": self.target.component,
            "workdir": str(self.target.workdir),
            "state": self.state,
            "resolved": dict(entry.resolved) if entry else None,
            "tree": entry.tree if entry else None,
            "vendored_at": entry.vendored_at if entry else None,
            "files": len(entry.files) if entry else 0,
            "changes": {"modified": list(self.changes.modified), "deleted": list(self.changes.deleted), "added": list(self.changes.added)},
        }


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class Vendorer:
    """Vendors components of one project (``root``: the folder of atmos.yaml / provisioner.yaml)."""

    def __init__(
        self,
        root: Path,
        *,
        fetcher: Fetcher | None = None,
        lock: LockFile | None = None,
        now: Callable[[], datetime.datetime] = _utc_now,
    ) -> None:
        self.layout = Layout(Path(root))
        self.lock = lock or LockFile(self.layout.lock_path)
        self.fetcher = fetcher or Fetcher(self.layout)
        self.now = now

    def target(self, stack: str, component: str) -> Target:
        return self.layout.target(stack, component)

    # --- the one entry point ---------------------------------------------------------------

    def vendor(
        self,
        target: Target,
        source: ComponentSource,
        *,
        dry_run: bool = False,
        force: bool = False,
        prefetched: Fetched | None = None,
        plan: Plan | None = None,
    ) -> ProvisionResult:
        """Vendor ``source`` into ``target``'s working folder; the result says what was (or would be) done.

        ``prefetched``: the source's tree, fetched once for several components (batch.py);
        ``plan``: the plan already made for it (batch.py plans everything first).
        """
        where = f"{source.form} of {target.label}"
        recorder = ChangeRecorder(str(target.workdir), dry_run=dry_run)
        for warning in source.warnings:
            recorder.warn(warning)
        if not dry_run:
            self.settle(target)
        if plan is None:
            plan = self.plan(target, source, force=force, where=where)
        recorder.details.update(self._details(target, source, plan.entry))
        if plan.action == "unchanged":
            return self._result(recorder, target)
        check_fetchable(source, where)  # refusals that need no network come first, in dry runs too
        verb = "vendor" if plan.action == "create" else "re-vendor"
        detail = self._describe_change(source, plan)
        box: dict[str, LockEntry] = {}

        def apply() -> None:
            box["entry"] = self._apply(target, source, plan, prefetched, where)

        recorder.write(verb, str(target.workdir), apply, detail, creates=plan.action == "create")
        if "entry" in box:
            recorder.details.update(self._details(target, source, box["entry"]))
        return self._result(recorder, target)

    @staticmethod
    def _result(recorder: ChangeRecorder, target: Target) -> ProvisionResult:
        # The folder terraform runs in (core's contract: ProvisionResult.workdir at before.component.load).
        return attrs.evolve(recorder.result(), workdir=str(target.workdir))

    # --- planning ---------------------------------------------------------------------------

    def plan(self, target: Target, source: ComponentSource, *, force: bool = False, where: str = "") -> Plan:
        """Decide from the lock and the disk; raises ResourceConflict on local edits unless ``force``."""
        where = where or f"{source.form} of {target.label}"
        entry = self.lock.get(target.key)
        same_source = entry is not None and entry.source == source.identity()
        exists = target.workdir.is_dir()
        changes = Changes()
        if exists:
            actual = scan(target.workdir)
            changes = compare(entry.files if entry is not None else {}, actual)
            if changes and not force:
                raise self._drift_error(target, entry, changes)
        expired = same_source and entry is not None and source.ttl_s is not None and self._age_s(entry) >= source.ttl_s
        picks: list[Pick] | None = None
        if source.kind == "local":
            picks = self._select(self.fetcher.local_path(source), source, where)
            local_tree = tree_digest(_manifest_of(picks))
            if same_source and exists and entry is not None and entry.tree == local_tree and not force:
                return Plan("unchanged", "the local source and the working folder match the lock", entry)
            reason = "the local source changed" if same_source and exists else _reason(entry, same_source, exists, force)
            return Plan("update" if exists else "create", reason, entry, None, force, force, changes, picks)
        if same_source and exists and not force and not expired:
            return Plan("unchanged", "the source and the working folder match the lock", entry)
        pin = entry.resolved if same_source and entry is not None and not force and not expired else None
        reason = "its ttl expired" if expired and not force else _reason(entry, same_source, exists, force)
        return Plan("update" if exists else "create", reason, entry, pin, force or expired, force, changes)

    def _age_s(self, entry: LockEntry) -> float:
        try:
            stamp = datetime.datetime.fromisoformat(entry.vendored_at.replace("Z", "+00:00"))
        except ValueError:
            return float("inf")
        return (self.now() - stamp).total_seconds()

    def _drift_error(self, target: Target, entry: LockEntry | None, changes: Changes) -> ResourceConflict:
        if entry is None:
            message = f"{target.workdir} holds files the lock does not know ({changes.summary()})"
        else:
            message = f"the vendored tree of {target.label} was edited locally: {changes.summary()}"
        return ResourceConflict(
            message,
            hint=f"Move your changes upstream (and bump the ref), or run `provision component pull {target.component} -s {target.stack} --force` to restore the vendored tree.",
            context={"stack": target.stack, "component": target.component, "workdir": str(target.workdir), "changed": ", ".join(changes.files()[:20])},
        )

    # --- applying ---------------------------------------------------------------------------

    def _apply(self, target: Target, source: ComponentSource, plan: Plan, prefetched: Fetched | None, where: str) -> LockEntry:
        with file_lock(self.layout.folder_lock(target)):
            self.lock.refresh()  # another process may have vendored it while we waited
            self.recover(target)
            again = self.plan(target, source, force=plan.forced, where=where)
            if again.action == "unchanged":  # another run did it while we waited for the folder
                assert again.entry is not None
                return again.entry
            if again.picks is not None:
                picks, fetched = list(again.picks), Fetched(self.fetcher.local_path(source), {})
            else:
                fetched = prefetched if prefetched is not None else self.fetcher.fetch(source, again.pin, where=where, refresh=again.refresh)
                picks = self._select(fetched.tree, source, where)
            staged = self._sibling(target, "new")
            try:
                manifest = materialize(picks, staged)
                digest = tree_digest(manifest)
                if again.pin is not None and again.entry is not None and digest != again.entry.tree:
                    raise ResourceConflict(
                        f"{where}: the locked {_pin_text(again.pin)} gives tree {digest}, not the locked {again.entry.tree}",
                        hint="The cache or the server changed what the lock pins; run with --force to vendor afresh, then review the diff.",
                    )
                carry_runtime(target.workdir, staged)
                seed_runtime(fetched.tree / source.subdir if source.subdir else fetched.tree, staged)
                resolved = dict(fetched.resolved) or {"source_tree": digest}
                entry = LockEntry(
                    stack=target.stack, component=target.component, source=source.identity(), resolved=resolved,
                    tree=digest, files=manifest, vendored_at=self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                )
                self._swap(target, staged, entry)
            finally:
                remove_tree_quietly(staged)
            return entry

    def _select(self, root: Path, source: ComponentSource, where: str) -> list[Pick]:
        picks = [p for p in select(root, source.subdir, PathFilter(source.included, source.excluded), where=where) if not is_runtime(p.path)]
        if not picks:
            raise ConfigError(
                f"{where}: no files to vendor from {source.label()}",
                hint="Check the //subfolder and included_paths / excluded_paths (patterns are relative to the subfolder, e.g. **/*.tf).",
            )
        return picks

    def _sibling(self, target: Target, role: str) -> Path:
        prefix = self.layout.swap_prefix(target)
        prefix.parent.mkdir(parents=True, exist_ok=True)
        return prefix.with_name(f"{prefix.name}.{role}-{os.getpid()}-{secrets.token_hex(4)}")

    def _swap(self, target: Target, staged: Path, entry: LockEntry) -> None:
        self.lock.update(target.key, pending=entry)
        old = self._sibling(target, "old")
        if target.workdir.is_dir():
            os.rename(target.workdir, old)
        target.workdir.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staged, target.workdir)
        self.lock.update(target.key, entry=entry, pending=None)
        remove_tree_quietly(old)

    def settle(self, target: Target) -> None:
        """Finish or undo a swap a killed run left pending (cheap when there is none)."""
        if self.lock.pending(target.key) is not None:
            with file_lock(self.layout.folder_lock(target)):
                self.lock.refresh()
                self.recover(target)

    def recover(self, target: Target) -> None:
        """Settle a swap a killed run left half done: keep whichever tree is in place, and match the lock to it."""
        pending = self.lock.pending(target.key)
        prefix = self.layout.swap_prefix(target)
        leftovers = sorted(prefix.parent.glob(f"{prefix.name}.*")) if prefix.parent.is_dir() else []
        olds = [p for p in leftovers if ".old-" in p.name]
        if pending is not None:
            if target.workdir.is_dir() and tree_digest(scan(target.workdir)) == pending.tree:
                self.lock.update(target.key, entry=pending, pending=None)
            else:
                if not target.workdir.exists() and olds:
                    os.rename(olds[-1], target.workdir)  # the swap stopped between its two renames
                self.lock.update(target.key, pending=None)
        elif not target.workdir.exists() and olds:
            os.rename(olds[-1], target.workdir)
        for leftover in leftovers:
            remove_tree_quietly(leftover)

    # --- reading ----------------------------------------------------------------------------

    def inspect(self, target: Target, source: ComponentSource | None) -> Inspection:
        """The folder's state against the lock and the configuration; reads only."""
        entry = self.lock.get(target.key)
        if self.lock.pending(target.key) is not None:
            return Inspection(target, "interrupted", entry)
        if not target.workdir.is_dir():
            return Inspection(target, "missing", entry)
        changes = compare(entry.files if entry else {}, scan(target.workdir))
        if entry is None:
            return Inspection(target, "not-locked", None, changes)
        if changes:
            return Inspection(target, "modified", entry, changes)
        if source is not None and entry.source != source.identity():
            return Inspection(target, "outdated", entry)
        return Inspection(target, "vendored", entry)

    def delete(self, target: Target, *, dry_run: bool = False) -> ProvisionResult:
        """Remove a working folder and its lock entry; a folder holding terraform state is refused (exit 4)."""
        recorder = ChangeRecorder(str(target.workdir), dry_run=dry_run)
        state = [name for name in STATE_FILES if (target.workdir / name).exists()]
        if state:
            raise ResourceConflict(
                f"{target.workdir} holds terraform state ({', '.join(state)}); not deleted",
                hint="Destroy the component (or move its state to a remote backend) first; then delete the folder.",
                context={"stack": target.stack, "component": target.component},
            )
        if not target.workdir.exists() and self.lock.get(target.key) is None:
            return recorder.result()

        def remove() -> None:
            with file_lock(self.layout.folder_lock(target)):
                remove_tree(target.workdir)
                self.lock.update(target.key, entry=None, pending=None)

        recorder.write("delete", str(target.workdir), remove, "and its lock entry")
        return recorder.result()

    # --- presentation helpers (plain data) ----------------------------------------------------

    def _details(self, target: Target, source: ComponentSource, entry: LockEntry | None) -> dict[str, Any]:
        details: dict[str, Any] = {
            "source": source.label(),
            "lock": str(self.layout.lock_path),
        }
        if entry is not None:
            details["resolved"] = dict(entry.resolved)
            details["tree"] = entry.tree
        return details

    def _describe_change(self, source: ComponentSource, plan: Plan) -> str:
        text = f"{source.label()}: {plan.reason}"
        if plan.changes:
            text += f"; overwrites local edits ({plan.changes.summary(5)})"
        return text


def _reason(entry: LockEntry | None, same_source: bool, exists: bool, force: bool) -> str:
    if force and same_source:
        return "forced: the ref is resolved again and the tree rewritten"
    if entry is None:
        return "not vendored yet"
    if not same_source:
        was, now = entry.source, None
        del now
        return f"the configured source changed (was {was.get('location')}" + (f" @ {was['ref']})" if was.get("ref") else ")")
    if not exists:
        return "the working folder is missing: restoring the locked version"
    return "re-vendoring"


def _pin_text(pin: Mapping[str, str]) -> str:
    if "commit" in pin:
        return f"commit {pin['commit']}"
    if "archive_sha256" in pin:
        return f"archive {pin['archive_sha256']}"
    return "tree"


def _manifest_of(picks: Sequence[Pick]) -> dict[str, str]:
    """The manifest ``materialize`` would write for ``picks``, read from the source (local sources)."""
    manifest: dict[str, str] = {}
    for pick in picks:
        if pick.link is not None:
            manifest[pick.path] = "l:" + pick.link
        else:
            assert pick.origin is not None
            executable = bool(os.stat(pick.origin).st_mode & 0o111)
            manifest[pick.path] = ("x:" if executable else "f:") + file_digest(Path(pick.origin))
    return manifest

