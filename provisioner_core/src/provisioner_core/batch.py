"""``provision <type> --all``: every enabled component of the selected stacks, each backend once.

Components that share a backend (same type, bucket/container, region, endpoint, options and
credentials; only the state key differs) are provisioned once, concurrently with the other
distinct backends (bounded by ``jobs``), with clients reused through the run's ClientCache.

A stop (a signal; see ``interrupts``) starts no new unit; running units have the stop's grace,
and the result says which units finished, which were interrupted and which never started.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import attrs
from attrs import define, field, frozen

from provisioner_core.errors import EXIT_GENERAL, ConfigError, ProvisionerError
from provisioner_core.interrupts import WAIT_SLICE_S, RunInterrupted, Stop, grace_notice, is_interruption, signals_blocked
from provisioner_core.orchestrator import explicit_events, prepare, run_provisioners
from provisioner_core.plugins.manager import PluginRegistry
from provisioner_core.redaction import Redactor, masker, redact_mapping
from provisioner_core.results import Outcome
from provisioner_core.runner import wrap_error
from provisioner_core.session import Provisioning
from provisioner_core.spec import Concurrency
from provisioner_core.stacks.component import ResolvedComponent
from provisioner_core.state.backend_types import BackendType

UnitT = TypeVar("UnitT")


@frozen
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str | None) -> Shard | None:
        if text is None:
            return None
        parts = text.split("/")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ConfigError(f"--shard {text!r} must look like K/N, e.g. 1/4", hint="K is this job's number (1..N), N the number of jobs.")
        index, count = int(parts[0]), int(parts[1])
        if count < 1 or not 1 <= index <= count:
            raise ConfigError(f"--shard {text}: K must be between 1 and N (N >= 1)", hint=f"With N={count}, use 1/{count} … {count}/{count}.")
        return cls(index, count)

    def select(self, ordered: Sequence[UnitT]) -> list[UnitT]:
        """This shard's share of the units (sorted by identity): every N-th, starting at the K-th."""
        return [unit for i, unit in enumerate(ordered) if i % self.count == self.index - 1]


BATCH_THREAD_PREFIX = "provision-unit"
# After the grace, an abandoned provisioner's wait returns at once; this long is left for its unit to report.
SETTLE_S = 2.0


@define
class Unit:
    """One distinct piece of work: a backend (shared by components) or one component.

    ``identity`` groups components (it may hold credentials: never printed); ``public`` is what
    is printed for it, secrets masked.
    """

    identity: str
    components: list[ResolvedComponent] = field(factory=list)
    outcomes: list[Outcome] = field(factory=list)
    error: ProvisionerError | None = None
    ran: bool = False
    public: dict[str, Any] = field(factory=dict)
    not_started: str = ""  # the signal that stopped the run before this unit started ("" otherwise)
    duration_s: float = 0.0  # wall time of its run

    @property
    def status(self) -> str:
        if self.error is not None:
            return "interrupted" if is_interruption(self.error) else "failed"
        if not self.ran:
            return "not-started" if self.not_started else "not-run"
        return ",".join(sorted({o.result.status.value for o in self.outcomes})) or "unchanged"

    @property
    def sort_key(self) -> tuple[str, str, str]:
        """Shards split by this: the printed identity, then the first component (the same in every process)."""
        first = self.components[0] if self.components else None
        return (json.dumps(self.public, sort_keys=True, default=str), first.stack if first else "", first.name if first else "")


@define
class BatchResult:
    provisioner_type: str
    dry_run: bool
    units: list[Unit]
    skipped: list[dict[str, str]]
    metrics: dict[str, Any]
    shard: Shard | None = None
    interrupted: str = ""  # the signal that stopped the run, e.g. "SIGINT"
    interrupted_exit_code: int = 0

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return self.interrupted_exit_code
        codes = [u.error.exit_code for u in self.units if u.error is not None]
        # The highest code is reported: 5 network > 4 conflict > 3 permission > 2 config > 1 general.
        return max(codes) if codes else 0

    def to_dict(self) -> dict[str, Any]:
        components = []
        for number, unit in enumerate(self.units):
            for component in unit.components:
                components.append({"stack": component.stack, "component": component.name, "workspace": component.workspace, "unit": number, "status": unit.status})
        return {
            "type": self.provisioner_type,
            "dry_run": self.dry_run,
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
            "shard": None if self.shard is None else f"{self.shard.index}/{self.shard.count}",
            "interrupted": self.interrupted or None,
            "units": [
                {
                    "identity": unit.public,
                    "components": [f"{c.stack}/{c.name}" for c in unit.components],
                    "status": unit.status,
                    "results": [o.to_dict() for o in unit.outcomes],
                    "error": None if unit.error is None else unit.error.to_dict(),
                }
                for unit in self.units
            ],
            "components": components,
            "skipped": self.skipped,
            "metrics": self.metrics,
        }


def type_concurrency(registry: PluginRegistry, provisioner_type: str) -> Concurrency:
    """How --all may run a type: what all of its provisioners allow (the least concurrent wins)."""
    kinds = {rp.spec.concurrency for rp in registry.provisioners() if rp.spec.type == provisioner_type}
    if kinds and kinds == {Concurrency.PER_BACKEND}:
        return Concurrency.PER_BACKEND
    if kinds and kinds <= {Concurrency.PARALLEL, Concurrency.PER_BACKEND}:
        return Concurrency.PARALLEL
    return Concurrency.SERIAL


def unit_identity(
    provisioner_type: str,
    component: ResolvedComponent,
    backend_types: Mapping[str, BackendType],
    concurrency: Concurrency = Concurrency.SERIAL,
    hidden: Sequence[str] = (),
) -> tuple[str, dict[str, Any]]:
    """The dedupe key and the identity printed for it.

    With per-backend concurrency, components sharing a backend are one unit; otherwise one per
    component. The key holds the auth section as written (never printed); the printed identity
    masks its secrets like ``describe`` (and ``hidden``, those its backend type finds inside
    values: ``Provisioning.hidden_values``) and carries no digest of them (an offline guessing
    oracle in a file kept as a CI artifact).
    """
    if concurrency is Concurrency.PER_BACKEND:
        # The settings that only place one component's state inside a shared backend do not make it another backend.
        definition = backend_types.get(component.backend_type or "")
        location_keys = set(definition.location_keys) if definition is not None else set()
        backend = {k: v for k, v in component.backend.items() if k not in location_keys}
        key = {"backend_type": component.backend_type, "backend": backend, "options": component.provision_options("backend"), "auth": component.auth}
        secrets = list(hidden)
        public = redact_mapping(json.loads(json.dumps(key, default=str)), masker(secrets, Redactor(secrets)) if secrets else None)
    else:
        key = public = {"type": provisioner_type, "stack": component.stack, "component": component.name}
    return json.dumps(key, sort_keys=True, default=str), dict(public)


def plan_units(provisioning: Provisioning, provisioner_type: str, stacks: Sequence[str] | None, shard: Shard | None) -> tuple[list[Unit], list[dict[str, str]]]:
    """Group the enabled, runnable components of ``stacks`` into units (ordered by identity), then keep this shard's."""
    names = list(stacks) if stacks else provisioning.stacks.stack_names()
    for name in names:
        provisioning.stacks.stack(name)  # unknown stacks fail up front, with close matches
    # Not installed: the first component that enables it gets the install line (lazy: read only then).
    provisioning.check_type(provisioner_type, (c for c in provisioning.components(names, outline=True) if not c.abstract))
    concurrency = type_concurrency(provisioning.registry, provisioner_type)
    units: dict[str, Unit] = {}
    skipped: list[dict[str, str]] = []
    for component in provisioning.components(names, outline=True):
        if component.abstract:
            skipped.append({"stack": component.stack, "component": component.name, "reason": "abstract"})
            continue
        if component.disabled:
            skipped.append({"stack": component.stack, "component": component.name, "reason": "disabled (metadata.enabled: false)"})
            continue
        try:
            if not component.is_enabled(provisioner_type):
                skipped.append({"stack": component.stack, "component": component.name, "reason": f"provision.{provisioner_type}.enabled is not true"})
                continue
            # Selected: now in full (a YAML function elsewhere in it may fail here, for this unit only).
            component = provisioning.component(component.stack, component.name)
            hidden = provisioning.hidden_values(component)
            identity, public = unit_identity(provisioner_type, component, provisioning.registry.backend_types(), concurrency, hidden)
        except ProvisionerError as error:
            # A broken component fails on its own; the others still run.
            where = {"stack": component.stack, "component": component.name, "error": True}
            broken = Unit(json.dumps(where), [component], ran=True, public=where)
            broken.error = error.with_context(stack=component.stack, component=component.name)
            units[broken.identity] = broken
            continue
        units.setdefault(identity, Unit(identity, public=public)).components.append(component)
    # Nothing runs when any selected component would write another component's state.
    provisioning.check_state_collisions(c for unit in units.values() if unit.error is None for c in unit.components)
    ordered = sorted(units.values(), key=lambda unit: unit.sort_key)
    return (ordered if shard is None else shard.select(ordered)), skipped


def plan_matrix(provisioning: Provisioning, provisioner_type: str, stacks: Sequence[str] | None, count: int) -> list[tuple[Shard, list[Unit]]]:
    """The shards ``--shard K/N`` would run, with their units: a CI matrix (runs nothing).

    ``N`` is ``count``, or the number of units when there are fewer (no job without work; one
    job when there is nothing). Units are dealt round-robin, so sizes differ by at most one.
    """
    units, _ = plan_units(provisioning, provisioner_type, stacks, None)
    shards = max(1, min(count, len(units)))
    return [(shard, shard.select(units)) for shard in (Shard(k, shards) for k in range(1, shards + 1))]


def run_batch(
    provisioning: Provisioning,
    provisioner_type: str,
    stacks: Sequence[str] | None = None,
    *,
    dry_run: bool = False,
    jobs: int = 8,
    shard: Shard | None = None,
    fail_fast: bool = False,
    planned: Callable[[int], None] | None = None,
    finished: Callable[[Unit, int, int], None] | None = None,
) -> BatchResult:
    """Run the units; ``planned(total)`` once they are known, ``finished(unit, done, total)`` as each one ends (the calling thread)."""
    started = time.perf_counter()
    units, skipped = plan_units(provisioning, provisioner_type, stacks, shard)
    if planned is not None:
        planned(len(units))
    failed_stop = threading.Event()
    stop = provisioning.stop

    def work(unit: Unit) -> None:
        if failed_stop.is_set() or stop.requested or unit.error is not None:
            return
        representative = unit.components[0]
        began = time.perf_counter()
        try:
            provisioning.check_runnable(representative, provisioner_type)
            prepare(provisioning, representative, provisioner_type, guard=False)  # the guard ran for the whole batch
            auth = provisioning.auth(representative)
            unit.ran = True
            for event in explicit_events(provisioning.registry, provisioner_type):
                unit.outcomes += run_provisioners(provisioning, event, representative, provisioner_type=provisioner_type, auth=auth, dry_run=dry_run)
        except BaseException as exc:  # noqa: BLE001 - one failure must not hide the others
            if not isinstance(exc, Exception):
                raise
            unit.ran = True
            unit.error = wrap_error(exc)
            if fail_fast and not is_interruption(unit.error):
                failed_stop.set()
        finally:
            unit.duration_s = time.perf_counter() - began

    concurrency = type_concurrency(provisioning.registry, provisioner_type)
    # The spec decides: a provisioner that did not declare itself safe to run concurrently runs one unit at a time.
    workers = 1 if concurrency is Concurrency.SERIAL else max(1, jobs)
    running = _run_units(units, work, workers, stop, failed_stop, finished)
    if stop.requested:
        units = [_as_reported(unit, id(unit) in running, stop.name, stop.signum) for unit in units]
    metrics = _metrics(provisioning, units, skipped, time.perf_counter() - started)
    metrics["concurrency"] = concurrency.value
    metrics["workers"] = workers
    return BatchResult(provisioner_type, dry_run, units, skipped, metrics, shard, stop.name, stop.exit_code)


def _run_units(
    units: list[Unit],
    work: Callable[[Unit], None],
    workers: int,
    stop: Stop,
    failed_stop: threading.Event,
    finished: Callable[[Unit, int, int], None] | None = None,
) -> set[int]:
    """Run ``work`` over ``units`` on ``workers`` threads; return the ids of the units still running (after a stop).

    Waits on a SimpleQueue that futures and a stop both wake (put is safe in a signal handler).
    After a stop nothing new starts; running units have the grace (then a moment to report).
    """
    wakeups: queue.SimpleQueue[object] = queue.SimpleQueue()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=BATCH_THREAD_PREFIX)
    futures: dict[Future[None], Unit] = {}
    with signals_blocked():  # the pool's threads start here
        for unit in units:
            future = pool.submit(work, unit)
            futures[future] = unit
            future.add_done_callback(wakeups.put)
    announced: set[Future[None]] = set()
    count = 0

    def announce() -> None:
        # Each unit that ran, once, in the order they ended (as far as the waits can tell).
        nonlocal count
        for future in [f for f in futures if f.done() and f not in announced and not f.cancelled()]:
            announced.add(future)
            if finished is not None and futures[future].ran:
                count += 1
                finished(futures[future], count, len(units))

    abandoned_at: float | None = None
    try:
        with stop.waking(wakeups.put), stop.listening(grace_notice("each running unit")):
            while open_futures := [future for future in futures if not future.done()]:
                announce()
                wait = WAIT_SLICE_S
                if stop.requested or failed_stop.is_set():
                    for future in open_futures:
                        future.cancel()  # units still queued never start
                if stop.requested:
                    if stop.grace_left() <= 0 and abandoned_at is None:
                        abandoned_at = time.monotonic()
                    left = stop.grace_left() + SETTLE_S if abandoned_at is None else abandoned_at + SETTLE_S - time.monotonic()
                    if left <= 0:
                        break
                    wait = min(left, WAIT_SLICE_S)
                try:
                    wakeups.get(timeout=wait)
                except queue.Empty:
                    continue
    finally:
        # After a stop, a unit that still runs is reported as interrupted and not waited for.
        pool.shutdown(wait=not stop.requested, cancel_futures=True)
    announce()
    return {id(unit) for future, unit in futures.items() if not future.done()}


def _as_reported(unit: Unit, still_running: bool, signal_name: str, signum: int) -> Unit:
    """A stopped run's view of ``unit``: a copy, so a worker that is still running cannot change what is printed."""
    copy = attrs.evolve(unit, components=list(unit.components), outcomes=list(unit.outcomes))
    if still_running and copy.error is None:
        copy.ran = True
        copy.error = RunInterrupted(f"interrupted by {signal_name}: still running when the run stopped, and abandoned", signum=signum)
    elif not copy.ran and copy.error is None:
        copy.not_started = signal_name  # queued, or it saw the stop before its first call
    return copy


def _percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def _metrics(provisioning: Provisioning, units: list[Unit], skipped: Sequence[Mapping[str, str]], wall_s: float) -> dict[str, Any]:
    durations: dict[str, list[float]] = {}
    for unit in units:
        for outcome in unit.outcomes:
            durations.setdefault(outcome.provisioner_type, []).append(outcome.duration_s)
    errors: dict[str, int] = {}
    for unit in units:
        if unit.error is not None:
            code = str(unit.error.exit_code if unit.error.exit_code else EXIT_GENERAL)
            errors[code] = errors.get(code, 0) + 1
    return {
        "components": sum(len(u.components) for u in units),
        "distinct_units": len(units),
        "skipped_components": len(skipped),
        "wall_s": round(wall_s, 4),
        "duration_s": {
            ptype: {"count": len(v), "p50": round(_percentile(v, 50), 4), "p95": round(_percentile(v, 95), 4), "p99": round(_percentile(v, 99), 4)}
            for ptype, v in sorted(durations.items())
        },
        "client_cache": provisioning.clients.stats(),
        "errors_by_exit_code": errors,
    }
