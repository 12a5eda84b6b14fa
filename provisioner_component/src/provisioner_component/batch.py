"""``--all``: vendor many components, fetching each distinct (source, ref) once, a few at a time.

1. Plan every component from the lock and the disk (no network): most warm runs end here.
2. Group the components that need a fetch by what they fetch (repository + ref or pinned
   commit; archive + checksum); fetch each group once, ``jobs`` groups at a time.
3. Vendor each component from its group's fetched tree, ``jobs`` at a time.

One component's failure does not stop the others; the batch's exit code is the highest of
its failures' (5 network > 4 conflict > 3 permission > 2 configuration > 1 general).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from attrs import define, field, frozen

from provisioner_component.config import ComponentSource
from provisioner_component.sources import Fetched
from provisioner_component.vendor import Plan, Vendorer
from provisioner_component.workdir import Target
from provisioner_core import ProvisionerError, ProvisionResult

DEFAULT_JOBS = 4


@frozen
class Item:
    target: Target
    source: ComponentSource


@define
class ItemResult:
    item: Item
    result: ProvisionResult | None = None
    error: ProvisionerError | None = None
    plan: Plan | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.item.target.stack,
            "component": self.item.target.component,
            "ok": self.error is None,
            "result": None if self.result is None else self.result.to_dict(),
            "error": None if self.error is None else self.error.to_dict(),
        }


@define
class BatchReport:
    results: list[ItemResult] = field(factory=list)
    groups: int = 0  # distinct sources that needed a fetch
    fetches: int = 0  # fetches made (network or git); cache hits are not counted

    @property
    def exit_code(self) -> int:
        codes = [r.error.exit_code for r in self.results if r.error is not None]
        return max(codes) if codes else 0


def vendor_all(vendorer: Vendorer, items: Sequence[Item], *, jobs: int = DEFAULT_JOBS, dry_run: bool = False, force: bool = False) -> BatchReport:
    """Vendor ``items``; see the module docstring for the order of things."""
    report = BatchReport()
    results = [ItemResult(item) for item in items]
    report.results = results
    todo: list[ItemResult] = []
    for entry in results:
        try:
            if not dry_run:
                vendorer.settle(entry.item.target)
            entry.plan = vendorer.plan(entry.item.target, entry.item.source, force=force)
        except ProvisionerError as error:
            entry.error = error
            continue
        if entry.plan.action == "unchanged" or dry_run:
            entry.result = _run(vendorer, entry, dry_run=dry_run, force=force)
        else:
            todo.append(entry)
    if not todo:
        return report

    groups: dict[str, list[ItemResult]] = {}
    for entry in todo:
        assert entry.plan is not None
        source = entry.item.source
        if source.kind == "local":
            groups.setdefault(f"local:{entry.item.target.key}", []).append(entry)
        else:
            key = json.dumps([source.fetch_key(), dict(entry.plan.pin or {}), entry.plan.refresh])
            groups.setdefault(key, []).append(entry)
    report.groups = sum(1 for key in groups if not key.startswith("local:"))
    before = vendorer.fetcher.fetches

    def fetch(members: list[ItemResult]) -> tuple[list[ItemResult], Fetched | None, ProvisionerError | None]:
        first = members[0]
        assert first.plan is not None
        if first.item.source.kind == "local":
            return members, None, None
        where = f"{first.item.source.form} of {first.item.target.label}"
        try:
            return members, vendorer.fetcher.fetch(first.item.source, first.plan.pin, where=where, refresh=first.plan.refresh), None
        except ProvisionerError as error:
            return members, None, error

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="component-fetch") as pool:
        fetched_groups = list(pool.map(fetch, groups.values()))
    report.fetches = vendorer.fetcher.fetches - before

    work: list[tuple[ItemResult, Fetched | None]] = []
    for members, fetched, failure in fetched_groups:
        for entry in members:
            if failure is not None:
                entry.error = failure
            else:
                work.append((entry, fetched))

    def apply(pair: tuple[ItemResult, Fetched | None]) -> None:
        entry, fetched = pair
        entry.result = _run(vendorer, entry, dry_run=False, force=force, prefetched=fetched)

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="component-vendor") as pool:
        list(pool.map(apply, work))
    return report


def _run(vendorer: Vendorer, entry: ItemResult, *, dry_run: bool, force: bool, prefetched: Fetched | None = None) -> ProvisionResult | None:
    try:
        return vendorer.vendor(entry.item.target, entry.item.source, dry_run=dry_run, force=force, prefetched=prefetched, plan=entry.plan)
    except ProvisionerError as error:
        entry.error = error
        return None
