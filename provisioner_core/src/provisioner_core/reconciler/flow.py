"""The reconcile flow of one resource, written once for every backend.

    read ─► missing? ─► report_only: exit 2 · create (recorded, creates=True) ─► settle
      │                    └─ LostRace: amend the action, re-read (exit 4 when we cannot), go on as existing
      ▼
    plan(actual), pure ─► drift recorded (existing resources only) ─► writes through the recorder
      (made; planned in a dry run; listed under report_only) ─► Stale: re-read and re-plan once ─► verify

A failure after this run created the resource says that it exists and which settings it still lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import attrs
from attrs import frozen

from provisioner_core.changes import ChangeRecorder
from provisioner_core.errors import ConfigError, PermissionDenied, ProvisionerError, ResourceConflict
from provisioner_core.reconciler.plan import Plan, Write
from provisioner_core.reconciler.retries import Sleep, wait_until

S = TypeVar("S")

SOMEONE_ELSE = "a concurrent run, or this run's own earlier attempt whose answer was lost"


class LostRace(Exception):
    """Raised by :meth:`Resource.create`: the name exists now (ours from a concurrent run, or someone else's).

    ``reason``: what the server answered (``409``, ``BucketAlreadyOwnedByYou``); ``wait``: the
    resource may not be readable at once, so keep re-reading it up to ``wait_timeout``.
    """

    def __init__(self, reason: str, *, wait: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class Stale(Exception):
    """Raised by :meth:`Resource.apply`: a write guarded by what was read (an etag, a generation) found the resource changed since."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Resource(Generic[S]):
    """One resource as a backend sees it: ``S`` is the backend's own state value.

    Implement :meth:`read`, :meth:`creation`, :meth:`create`, :meth:`planned`, :meth:`plan` and
    :meth:`apply` (a resource that always exists needs only read, plan and apply); the others
    have defaults. ``target`` names the resource in actions and messages; ``wait_timeout`` and
    ``sleep`` bound and pace every wait.
    """

    target: str = "resource"
    wait_timeout: float = 120.0
    sleep: Sleep | None = None
    where: str = "provision.backend"  # the options' path, named in hints
    create_yourself: str = "create it yourself"  # ends the hint when report_only meets a missing resource

    def read(self) -> S | None:
        """The resource's current state, or None when (and only when) it does not exist."""
        raise NotImplementedError

    def creation(self) -> Write:
        """The create call as it is recorded (verb, detail); raise ConfigError when creating needs settings that are missing."""
        raise NotImplementedError(f"{self.target} cannot be created by this provisioner")

    def create(self, write: Write) -> S:
        """Make the create call; return the state right after it (the server's answer, or what a new one has).

        Raise :class:`LostRace` when the name turned out to exist.
        """
        raise NotImplementedError

    def planned(self) -> S:
        """The state a dry run assumes the new resource has (nothing is read)."""
        raise NotImplementedError

    def ready(self, state: S) -> bool:
        """False while the resource cannot take writes yet (``CREATING``): the flow waits, re-reading."""
        return True

    def settle(self, state: S) -> S:
        """Wait until the resource is ready; by default re-read it until :meth:`ready` holds."""
        box: dict[str, S | None] = {"state": state}

        def done() -> bool:
            box["state"] = current = self.read()
            return current is not None and self.ready(current)

        if not self.ready(state):
            self.wait_until(done, f"{self.target} becoming ready")
        settled = box["state"]
        if settled is None:  # pragma: no cover - done() only returns True with a state
            raise ResourceConflict(f"{self.target} disappeared while this run waited for it", hint="Run again.")
        return settled

    def plan(self, actual: S) -> Plan:
        """Pure: the drift of ``actual`` and the writes that make it compliant (never weaker)."""
        raise NotImplementedError

    def apply(self, state: S, write: Write) -> S | None:
        """Make one write; return the new state when the server answered with it. Raise :class:`Stale` when a guarded write was refused."""
        raise NotImplementedError

    def project(self, state: S, write: Write) -> S:
        """Pure: the state once ``write`` is made (dry runs, and writes whose answer is not a state)."""
        return state

    def verify(self, state: S) -> None:
        """After real writes: check what the server kept (warn, or raise)."""

    def taken(self, race: LostRace, *, readable: bool) -> ProvisionerError:
        """The error for a name that exists but that we cannot use after a lost race (exit 4)."""
        seen = "not readable" if not readable else "not visible"
        return ResourceConflict(
            f"the name of {self.target} is taken by someone else ({race.reason} on create, and it is {seen} to us)",
            hint="Choose another name: this kind of name is shared by every account of the service.",
            context={"resource": self.target},
        )

    def wait_until(self, check: Callable[[], bool], what: str) -> None:
        """:func:`wait_until` with this resource's timeout and pacing."""
        wait_until(
            check,
            what=what,
            timeout=self.wait_timeout,
            hint=f"Check {self.target}; raise {self.where}.wait_timeout if the service is slow.",
            context={"resource": self.target},
            sleep=self.sleep,
        )


@frozen
class Reconciled(Generic[S]):
    """What :func:`reconcile` did to one resource.

    ``state``: the resource after the run (as written; as planned in a dry run; as found under
    report_only). ``created``: this run created it (a dry run: would). ``plan``: the last plan.
    """

    state: S
    created: bool
    plan: Plan


def reconcile(resource: Resource[S], rec: ChangeRecorder) -> Reconciled[S]:
    """Run the flow for ``resource``, recording everything in ``rec`` (see the module's diagram)."""
    return _Flow(resource, rec).run()


class _Flow(Generic[S]):
    def __init__(self, resource: Resource[S], rec: ChangeRecorder) -> None:
        self.r = resource
        self.rec = rec
        self.created = False  # by this run, really (not in a dry run)

    def run(self) -> Reconciled[S]:
        actual = self.r.read()
        fresh = False  # this run created it (or, in a dry run, would): no drift to report
        if actual is None:
            actual, fresh = self.create()
        elif self.rec.writing and not self.r.ready(actual):
            actual = self.r.settle(actual)
        plan = self.r.plan(actual)
        if not fresh:
            for change in plan.changes:
                self.rec.drifted(change.setting, change.expected, change.actual, stronger=change.stronger, reason=change.reason)
        state, plan = self.write(actual, plan)
        self.rec.details.update(plan.found if self.rec.report_only else plan.details)
        return Reconciled(state, fresh, plan)

    # --- a missing resource ------------------------------------------------------------------

    def create(self) -> tuple[S, bool]:
        r, rec = self.r, self.rec
        if rec.report_only:
            raise ConfigError(
                f"{r.target} does not exist and {r.where}.report_only is true",
                hint=f"report_only never creates anything: run once without report_only to create it, or {r.create_yourself}.",
                context={"resource": r.target},
            )
        call = r.creation()
        created_before = rec.created
        try:
            state = rec.write(call.verb, call.target or r.target, lambda: r.create(call), call.detail, creates=True)
        except LostRace as race:
            rec.amend_last(detail=f"answered {race.reason}: it already existed ({SOMEONE_ELSE}); continuing with it", created=created_before)
            rec.warn(f"{r.target} appeared while this run was creating it ({race.reason}: {SOMEONE_ELSE}); continuing with it")
            return self.after_race(race), False
        if not rec.writing:
            return r.planned(), True
        self.created = True
        try:
            return r.settle(state), True
        except ProvisionerError as error:
            self.partial(error, r.plan(r.planned()).settings)
            raise

    def after_race(self, race: LostRace) -> S:
        r = self.r
        box: dict[str, S | None] = {}

        def visible() -> bool:
            box["state"] = r.read()
            return box["state"] is not None

        try:
            if not visible() and race.wait:
                r.wait_until(visible, f"{r.target} becoming visible after a concurrent create")
        except PermissionDenied as denied:
            raise r.taken(race, readable=False) from denied
        except ResourceConflict:
            pass  # never became visible: said below
        state = box.get("state")
        if state is None:
            raise r.taken(race, readable=True)
        return state if r.ready(state) else r.settle(state)

    # --- writes ------------------------------------------------------------------------------

    def write(self, state: S, plan: Plan) -> tuple[S, Plan]:
        r, rec = self.r, self.rec
        pending: list[Write] = list(plan.writes)
        replanned = False
        while pending:
            write = pending[0]
            try:
                answer = rec.write(write.verb, write.target or r.target, _call(r, state, write), write.detail)
            except Stale as stale:
                if replanned:
                    raise ResourceConflict(
                        f"{r.target} keeps changing while it is being updated ({stale.reason} twice)",
                        hint="Another process is changing it; run again once it is done.",
                        context={"resource": r.target},
                    ) from None
                replanned = True
                state, plan, pending = self.replan(write)
                continue
            except ProvisionerError as error:
                if self.created:
                    self.partial(error, tuple(dict.fromkeys(s for w in pending for s in w.settings)))
                raise
            if rec.writing:
                state = answer if answer is not None else r.project(state, write)
            elif rec.dry_run:
                state = r.project(state, write)
            pending.pop(0)
        if rec.writing and plan.writes:
            r.verify(state)
        return state, plan

    def replan(self, refused: Write) -> tuple[S, Plan, list[Write]]:
        """A guarded write was refused: read again and plan again, once."""
        r = self.r
        current = r.read()
        if current is None:
            raise ResourceConflict(f"{r.target} was deleted while it was being updated", hint="Run again to recreate it.", context={"resource": r.target})
        plan = r.plan(current)
        if not plan.writes:
            self.rec.warn(f"{r.target} changed while it was being updated; it now has the required settings")
        retried = [attrs.evolve(w, detail=f"retry after a concurrent change: {w.detail}") for w in plan.writes]
        return current, plan, retried

    def partial(self, error: ProvisionerError, missing: Sequence[str]) -> None:
        """Say in ``error`` that the resource exists (this run created it) and what it still lacks."""
        lacks = f"it still lacks {', '.join(missing)}; a rerun sets only those" if missing else "a rerun checks its settings"
        error.message = f"{error.message} ({self.r.target} exists: this run created it; {lacks})"
        error.args = (error.message,)
        error.context.setdefault("created", self.r.target)
        if missing:
            error.context.setdefault("missing", ", ".join(missing))


def _call(resource: Resource[S], state: S, write: Write) -> Callable[[], Any]:
    return lambda: resource.apply(state, write)
