"""The reconcile template (provisioner_core.reconciler): the flow, retries, waits and the shared options.

The flow is driven by an in-memory resource (a dict of settings), so every branch is reached
deterministically; the backends' own suites run the same flow against real servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from provisioner_core import (
    EXIT_CONFIG,
    EXIT_CONFLICT,
    EXIT_NETWORK,
    BackendOptions,
    Change,
    ChangeRecorder,
    ConfigError,
    LostRace,
    NetworkError,
    OptionReader,
    PermissionDenied,
    Plan,
    Resolution,
    Resource,
    ResourceConflict,
    RunCancelled,
    Stale,
    Status,
    Write,
    backoff,
    read_backend_options,
    reconcile,
    retry,
    wait_until,
)
from provisioner_core.capture import RunControl, capturing

WANTED = {"versioning": "on", "encryption": "strong"}


def plan_box(actual: dict[str, str]) -> Plan:
    """A pure plan: every wanted setting that differs is a change and a write; "custom" encryption is kept."""
    changes, writes = [], []
    for setting, value in WANTED.items():
        current = actual.get(setting)
        if current == value:
            continue
        if current == "custom":
            changes.append(Change(setting, value, current, stronger=False, reason="theirs is stronger"))
            continue
        changes.append(Change(setting, value, current or "unset"))
        writes.append(Write(f"put-{setting}", f"{setting}={value}", payload={setting: value}, settings=(setting,)))
    return Plan(changes, writes, details={**actual, **{k: v for w in writes for k, v in w.payload.items()}}, found=dict(actual))


class Box(Resource[dict[str, str]]):
    """A resource made of a dict of settings; ``server`` is what exists (None: nothing)."""

    target = "box b1"

    def __init__(self, server: dict[str, str] | None = None, **faults: Any) -> None:
        self.server = server
        self.faults = faults
        self.calls: list[str] = []
        self.sleeps: list[float] = []
        self.sleep = self.sleeps.append
        self.wait_timeout = 1.0

    def read(self) -> dict[str, str] | None:
        self.calls.append("read")
        reads = self.faults.get("reads")
        if reads:
            answer = reads.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return None if self.server is None else dict(self.server)

    def creation(self) -> Write:
        return Write("create", "empty box")

    def create(self, write: Write) -> dict[str, str]:
        self.calls.append("create")
        if "race" in self.faults:
            raise self.faults["race"]
        self.server = {}
        return {}

    def planned(self) -> dict[str, str]:
        return {}

    def plan(self, actual: dict[str, str]) -> Plan:
        return plan_box(actual)

    def apply(self, state: dict[str, str], write: Write) -> dict[str, str] | None:
        self.calls.append(write.verb)
        failing = self.faults.get("fail")
        if failing and failing[0] == write.verb:
            raise failing[1]
        stale = self.faults.get("stale", 0)
        if stale:
            self.faults["stale"] = stale - 1
            raise Stale("412")
        self.server = {**(self.server or {}), **write.payload}
        return None

    def project(self, state: dict[str, str], write: Write) -> dict[str, str]:
        return {**state, **write.payload}


# --- the flow ----------------------------------------------------------------------------


def test_a_missing_resource_is_created_then_given_every_setting_without_drift():
    box = Box()
    rec = ChangeRecorder("box")

    done = reconcile(box, rec)

    assert box.calls == ["read", "create", "put-versioning", "put-encryption"]
    assert [a.verb for a in rec.actions] == ["create", "put-versioning", "put-encryption"]
    assert rec.drift == [] and rec.result().status is Status.CREATED
    assert done.created and done.state == WANTED and box.server == WANTED
    assert rec.details == WANTED


def test_a_compliant_resource_costs_one_read_and_no_write():
    box = Box(dict(WANTED))
    rec = ChangeRecorder("box")

    done = reconcile(box, rec)

    assert box.calls == ["read"] and rec.actions == [] and rec.result().status is Status.UNCHANGED
    assert not done.created


def test_drift_is_recorded_and_only_strengthening_writes_are_made():
    box = Box({"versioning": "off", "encryption": "custom"})
    rec = ChangeRecorder("box")

    reconcile(box, rec)

    assert [(d.setting, d.resolution) for d in rec.drift] == [("versioning", Resolution.APPLIED), ("encryption", Resolution.KEPT)]
    assert box.calls == ["read", "put-versioning"] and box.server == {"versioning": "on", "encryption": "custom"}
    assert rec.result().status is Status.UPDATED


def test_report_only_lists_the_writes_it_does_not_make_and_reports_the_resource_as_found():
    box = Box({"versioning": "off"})
    rec = ChangeRecorder("box", report_only=True)

    done = reconcile(box, rec)

    assert box.calls == ["read"]
    assert [(a.verb, a.planned) for a in rec.actions] == [("put-versioning", True), ("put-encryption", True)]
    assert {d.resolution for d in rec.drift} == {Resolution.REPORTED}
    assert rec.result().status is Status.UNCHANGED and done.state == {"versioning": "off"} and rec.details == {"versioning": "off"}


def test_report_only_refuses_to_create_with_exit_2_and_a_hint():
    box = Box()
    box.create_yourself = "ask its owners to create it"

    with pytest.raises(ConfigError) as caught:
        reconcile(box, ChangeRecorder("box", report_only=True))

    assert caught.value.exit_code == EXIT_CONFIG
    assert caught.value.message == "box b1 does not exist and provision.backend.report_only is true"
    assert "report_only never creates anything" in caught.value.hints[0] and "ask its owners" in caught.value.hints[0]
    assert box.calls == ["read"]


def test_a_dry_run_plans_the_create_and_every_write_and_calls_nothing():
    box = Box()
    rec = ChangeRecorder("box", dry_run=True)

    done = reconcile(box, rec)

    assert box.calls == ["read"]
    assert [(a.verb, a.planned) for a in rec.actions] == [("create", True), ("put-versioning", True), ("put-encryption", True)]
    assert rec.result().status is Status.PLANNED and done.created and done.state == WANTED


# --- a lost create race ------------------------------------------------------------------


def test_a_lost_race_continues_with_the_existing_resource_and_reports_its_drift():
    box = Box(race=LostRace("409"), reads=[None, {"versioning": "off", "encryption": "strong"}])
    rec = ChangeRecorder("box")

    done = reconcile(box, rec)

    create = rec.actions[0]
    assert create.verb == "create" and create.detail.startswith("answered 409: it already existed (a concurrent run")
    assert any("appeared while this run was creating it" in w for w in rec.warnings)
    assert [d.setting for d in rec.drift] == ["versioning"]
    assert rec.result().status is Status.UPDATED and not done.created


def test_a_lost_race_for_a_name_we_cannot_see_is_a_conflict():
    box = Box(race=LostRace("409"), reads=[None, None])

    with pytest.raises(ResourceConflict, match=r"taken by someone else \(409 on create, and it is not visible to us\)") as caught:
        reconcile(box, ChangeRecorder("box"))
    assert caught.value.exit_code == EXIT_CONFLICT


def test_a_lost_race_for_a_name_we_cannot_read_is_a_conflict():
    box = Box(race=LostRace("409"), reads=[None, PermissionDenied("403")])

    with pytest.raises(ResourceConflict, match="not readable to us"):
        reconcile(box, ChangeRecorder("box"))


def test_a_lost_race_that_may_lag_is_read_again_until_it_shows():
    box = Box(race=LostRace("OperationAborted", wait=True), reads=[None, None, None, dict(WANTED)])

    reconcile(box, ChangeRecorder("box"))

    assert box.calls == ["read", "create", "read", "read", "read"] and box.sleeps == [0.1]


# --- writes refused as stale, failures, readiness ---------------------------------------------


def test_a_stale_write_is_planned_again_from_a_fresh_read_once():
    box = Box({}, stale=1)
    rec = ChangeRecorder("box")

    reconcile(box, rec)

    assert box.calls == ["read", "put-versioning", "read", "put-versioning", "put-encryption"]
    assert [a.detail for a in rec.actions][1:] == ["retry after a concurrent change: versioning=on", "retry after a concurrent change: encryption=strong"]


def test_a_write_refused_as_stale_twice_is_a_conflict():
    with pytest.raises(ResourceConflict, match=r"keeps changing while it is being updated \(412 twice\)"):
        reconcile(Box({}, stale=2), ChangeRecorder("box"))


def test_a_resource_that_became_compliant_meanwhile_needs_no_retry():
    box = Box({}, stale=1, reads=[{}, dict(WANTED)])
    rec = ChangeRecorder("box")

    reconcile(box, rec)

    assert any("it now has the required settings" in w for w in rec.warnings)


def test_a_failure_after_creating_says_the_resource_exists_and_what_it_lacks():
    failure = NetworkError("put-encryption: could not connect", hint="Check the endpoint.")
    box = Box(fail=("put-encryption", failure))

    with pytest.raises(NetworkError) as caught:
        reconcile(box, ChangeRecorder("box"))

    error = caught.value
    assert error.exit_code == EXIT_NETWORK
    assert error.message == "put-encryption: could not connect (box b1 exists: this run created it; it still lacks encryption; a rerun sets only those)"
    assert error.hints == ("Check the endpoint.",)
    assert error.context["missing"] == "encryption" and error.context["created"] == "box b1"


def test_a_failure_on_an_existing_resource_is_left_as_it_is():
    failure = NetworkError("put-encryption: could not connect")
    with pytest.raises(NetworkError) as caught:
        reconcile(Box({}, fail=("put-encryption", failure)), ChangeRecorder("box"))
    assert caught.value.message == "put-encryption: could not connect" and "created" not in caught.value.context


class SlowBox(Box):
    """A resource that says CREATING until the server is done."""

    def create(self, write: Write) -> dict[str, str]:
        super().create(write)
        return {"status": "CREATING"}

    def ready(self, state: dict[str, str]) -> bool:
        return state.get("status") == "ACTIVE"

    def plan(self, actual: dict[str, str]) -> Plan:
        return plan_box({k: v for k, v in actual.items() if k != "status"})


def test_a_new_resource_is_waited_for_until_it_is_ready():
    box = SlowBox(reads=[None, {"status": "CREATING"}, {"status": "CREATING"}, {"status": "ACTIVE"}])

    reconcile(box, ChangeRecorder("box"))

    assert box.calls == ["read", "create", "read", "read", "read", "put-versioning", "put-encryption"] and box.sleeps == [0.1, 0.2]


def test_an_existing_resource_that_is_not_ready_is_waited_for_only_when_writing():
    creating = {"status": "CREATING", **WANTED}
    box = SlowBox(reads=[creating, {"status": "ACTIVE", **WANTED}])
    reconcile(box, ChangeRecorder("box"))
    assert box.calls == ["read", "read"]
    box = SlowBox(reads=[creating])
    reconcile(box, ChangeRecorder("box", dry_run=True))
    assert box.calls == ["read"]


def test_waiting_past_wait_timeout_is_exit_4_and_the_partial_state_is_said():
    box = SlowBox(reads=[None, {"status": "CREATING"}])
    box.wait_timeout = 0

    with pytest.raises(ResourceConflict) as caught:
        reconcile(box, ChangeRecorder("box"))

    assert caught.value.exit_code == EXIT_CONFLICT
    assert caught.value.message.startswith("box b1 becoming ready did not happen within 0s")
    assert caught.value.message.endswith("(box b1 exists: this run created it; it still lacks versioning, encryption; a rerun sets only those)")
    assert "raise provision.backend.wait_timeout" in caught.value.hints[0]


# --- retry and wait_until --------------------------------------------------------------------


class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def _transient(error: BaseException) -> bool:
    return isinstance(error, TimeoutError)


def test_retry_tries_again_while_the_error_is_transient():
    delays: list[float] = []
    call = Flaky([TimeoutError(), TimeoutError()])

    assert retry(call, attempts=3, transient=_transient, sleep=delays.append) == "ok"
    assert call.calls == 3 and len(delays) == 2


def test_retry_raises_the_last_error_once_the_attempts_are_spent():
    call = Flaky([TimeoutError("1"), TimeoutError("2"), TimeoutError("3")])
    with pytest.raises(TimeoutError, match="2"):
        retry(call, attempts=2, transient=_transient, sleep=lambda s: None)
    assert call.calls == 2


def test_retry_raises_a_permanent_error_at_once():
    call = Flaky([ValueError("bad"), TimeoutError()])
    with pytest.raises(ValueError, match="bad"):
        retry(call, attempts=5, transient=_transient, sleep=pytest.fail)
    assert call.calls == 1


def test_retry_refuses_no_attempt_at_all():
    with pytest.raises(ValueError, match="at least 1"):
        retry(lambda: None, attempts=0, transient=_transient)


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    delay = backoff(0.25, 8.0)
    for attempt, ceiling in ((1, 0.25), (2, 0.5), (3, 1.0), (6, 8.0), (12, 8.0)):
        for _ in range(20):
            assert ceiling / 2 <= delay(attempt, TimeoutError()) <= ceiling


def test_retry_uses_the_given_delay_rule():
    delays: list[float] = []
    retry(Flaky([TimeoutError(), TimeoutError()]), attempts=3, transient=_transient, delay=lambda n, e: 10.0 * n, sleep=delays.append)
    assert delays == [10.0, 20.0]


@pytest.fixture
def cancelled_run() -> Iterator[None]:
    control = RunControl("box", str)
    control.cancelled.set()
    with capturing(control):
        yield


def test_a_cancelled_run_stops_retrying_and_waiting(cancelled_run):
    call = Flaky([TimeoutError(), TimeoutError()])
    with pytest.raises(RunCancelled):
        retry(call, attempts=5, transient=_transient, sleep=lambda s: None)
    assert call.calls == 1
    with pytest.raises(RunCancelled):
        wait_until(lambda: False, what="x", timeout=60, sleep=lambda s: None)


def test_wait_until_polls_with_growing_pauses_until_it_holds():
    answers = iter([False, False, False, True])
    pauses: list[float] = []
    wait_until(lambda: next(answers), what="x", timeout=60, sleep=pauses.append)
    assert pauses == [0.1, 0.2, 0.4]


def test_wait_until_gives_up_after_the_timeout_with_exit_4():
    ticks = iter([0.0, 1.0, 2.0, 3.0, 31.0])
    with pytest.raises(ResourceConflict) as caught:
        wait_until(lambda: False, what="table t becoming ACTIVE", timeout=30, hint="Look at it.", context={"t": "t"}, sleep=lambda s: None, clock=lambda: next(ticks))
    assert caught.value.message == "table t becoming ACTIVE did not happen within 30s"
    assert caught.value.hints == ("Look at it.",) and caught.value.context == {"t": "t"}


# --- the shared options ------------------------------------------------------------------------


@attrs.frozen
class BoxOptions(BackendOptions):
    colour: str = "blue"


def _options(raw: dict[str, Any], **kwargs: Any) -> tuple[BoxOptions, list[str]]:
    reader = OptionReader(raw, "provision.backend")
    values, warnings = read_backend_options(reader, skippable=("versioning", "tags"), **kwargs)
    return BoxOptions(**values, colour=reader.str("colour", "blue") or "blue"), warnings + reader.unknown_keys()


def test_the_shared_options_have_defaults_and_a_backend_extends_them():
    options, warnings = _options({})
    assert (options.report_only, options.skip, options.attempts, options.wait_timeout, dict(options.tags), options.colour) == (False, frozenset(), 3, 120, {}, "blue")
    assert warnings == [] and options.wants("versioning")


def test_the_shared_options_are_read_and_checked():
    options, _ = _options({"report_only": True, "skip": ["versioning"], "attempts": 7, "wait_timeout": 30, "tags": {"team": "a"}}, max_attempts=20)
    assert (options.report_only, options.attempts, options.wait_timeout, dict(options.tags)) == (True, 7, 30, {"team": "a"})
    assert not options.wants("versioning")
    with pytest.raises(ConfigError, match="attempts must be between 1 and 10"):
        _options({"attempts": 11})
    with pytest.raises(ConfigError, match="unknown value 'versionning'") as caught:
        _options({"skip": ["versionning"]})
    assert "Did you mean 'versioning'?" in caught.value.hints[0]


def test_retries_is_the_deprecated_name_of_attempts():
    options, warnings = _options({"retries": 4})
    assert options.attempts == 4
    assert warnings == ["provision.backend.retries is deprecated: write `attempts: 4` instead (the same number: attempts per call, the first included)"]
    with pytest.raises(ConfigError, match="sets both attempts and retries"):
        _options({"retries": 4, "attempts": 4})
    with pytest.raises(ConfigError, match="retries must be between 1 and 10"):
        _options({"retries": 0})


def test_a_backend_may_accept_its_own_word_for_tags_and_skip_values():
    options, warnings = _options({"labels": {"team": "a"}, "skip": ["labels"]}, tags_alias="labels", skip_aliases={"labels": "tags"})
    assert dict(options.tags) == {"team": "a"} and options.skip == frozenset({"tags"}) and warnings == []
    with pytest.raises(ConfigError, match="sets both tags and labels"):
        _options({"labels": {"a": "b"}, "tags": {"a": "b"}}, tags_alias="labels")
