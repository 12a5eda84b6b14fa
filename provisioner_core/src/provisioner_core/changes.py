"""A recorder that turns reads, planned writes and drift into a ProvisionResult.

Backends describe each write as a planned call; the recorder runs it unless the run is a
dry run or report-only, so "what we would do" and "what we did" come from one code path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provisioner_core.capture import check_cancelled
from provisioner_core.results import Action, Drift, ProvisionResult, Resolution, Status


class ChangeRecorder:
    """Collects the actions and drift of one provisioner run.

    ``dry_run``: plan only. ``report_only``: existing resources are read and drift is
    reported, but nothing is written (creating a missing resource is still refused).
    """

    def __init__(self, resource: str, *, dry_run: bool = False, report_only: bool = False) -> None:
        self.resource = resource
        self.dry_run = dry_run
        self.report_only = report_only
        self.actions: list[Action] = []
        self.drift: list[Drift] = []
        self.warnings: list[str] = []
        self.details: dict[str, Any] = {}
        self.created = False
        self.writes = 0

    @property
    def writing(self) -> bool:
        """True when planned calls are really executed."""
        return not (self.dry_run or self.report_only)

    def write(self, verb: str, target: str, call: Callable[[], Any] | None, detail: str = "", *, creates: bool = False) -> Any:
        """Record a write; execute ``call`` unless this run only plans or reports.

        ``creates``: the call creates the resource; the run counts as ``created`` once it
        succeeded (a caller that finds it lost a creation race may set ``created = False``).
        """
        if self.writing and call is not None:
            check_cancelled()  # a run stopped at its timeout must not change anything more
        self.actions.append(Action(verb, target, detail, planned=not self.writing))
        if not self.writing or call is None:
            self.created = self.created or creates
            return None
        self.writes += 1
        answer = call()
        self.created = self.created or creates
        return answer

    def amend_last(self, *, detail: str | None = None, created: bool | None = None) -> None:
        """Correct the last recorded write, e.g. a create that lost a race to a concurrent run."""
        if detail is not None and self.actions:
            last = self.actions[-1]
            self.actions[-1] = Action(last.verb, last.target, detail, planned=last.planned)
        if created is not None:
            self.created = created

    def drifted(self, setting: str, expected: Any, actual: Any, *, stronger: bool, reason: str = "") -> bool:
        """Record drift on one setting; return True when the caller should write the fix.

        ``stronger``: applying ``expected`` would make the resource stronger (never weaker).
        """
        if not stronger:
            resolution = Resolution.KEPT
            reason = reason or "changing it would weaken the existing setting"
        elif self.dry_run:
            resolution = Resolution.PLANNED
        elif self.report_only:
            resolution = Resolution.REPORTED
        else:
            resolution = Resolution.APPLIED
        self.drift.append(Drift(setting, _text(expected), _text(actual), resolution, reason))
        return stronger

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def result(self) -> ProvisionResult:
        if self.dry_run:
            status = Status.PLANNED if self.actions else Status.UNCHANGED
        elif self.created:
            status = Status.CREATED
        elif self.writes:
            status = Status.UPDATED
        else:
            status = Status.UNCHANGED
        return ProvisionResult(
            status=status,
            resource=self.resource,
            actions=tuple(self.actions),
            drift=tuple(self.drift),
            warnings=tuple(self.warnings),
            details=self.details,
        )


def _text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
