"""Signals (issue 16, items 6 and 7): exit 130/143/129 with one line; `--all` stops starting units, lets the running
ones finish within the grace, prints the partial result and exits 128+n; a second signal stops at once.

Every run is a real `provision` process against a real moto server behind the fault proxy. The test knows where
the run is without sleeping: a request held at the proxy's gate (the run is inside that unit), a FIFO the run is
reading (it is loading stacks), and the one line the run prints when the signal reaches it.
"""

from __future__ import annotations

import json
import signal
import threading
import uuid

import pytest

from support.child import Child
from support.faults import FaultProxy
from support.s3_reliability import (
    SECRET_KEY,
    STATIC_AUTH,
    USER_TAGS,
    admin,
    backend_section,
    bucket_gaps,
    clean_env,
    provision_argv,
    write_stack,
)

EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


def _head(bucket: str):
    return lambda r: r.method == "HEAD" and r.path == f"/{bucket}"


def _touched(proxy: FaultProxy, bucket: str) -> list[str]:
    return [str(e.request) for e in list(proxy.exchanges) if e.request.path.startswith(f"/{bucket}")]


def _three_backends(tree, endpoint: str) -> list[str]:
    """Stack ``dev`` with components a, b, c, each with its own bucket: three units, run in bucket order."""
    uid = uuid.uuid4().hex[:10]
    buckets = [f"sig-{letter}-{uid}" for letter in "abc"]
    components = {}
    for letter, bucket in zip("abc", buckets, strict=True):
        tree.component(f"app-{letter}")
        components[f"app-{letter}"] = {
            "backend_type": "s3",
            "backend": {"s3": backend_section(endpoint, bucket)},
            "provision": {"backend": {"enabled": True, "tags": dict(USER_TAGS)}},
            "auth": {"providers": dict(STATIC_AUTH)},
        }
    tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": components}})
    return buckets


def _start(root, *args: str, **env: str) -> Child:
    return Child(provision_argv(*args), root, clean_env(**env))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_a_signal_where_nothing_runs_exits_128_plus_n_with_one_line(stack_tree, signum):
    """Before this, SIGINT was click's "Aborted." (exit 1) and SIGTERM killed the run with no word.

    ``describe -o json`` of a 3 MB component blocks writing stdout, which the test does not read yet; the
    warning about ``${TOKEN}`` says the run is under way (its handlers installed). The signal lands
    somewhere between the two: code where no wait listens, so the run ends at once.
    """
    stack_tree.component("app")
    blob = "".join(f"          blob_{i:05d}: {'x' * 1000}\n" for i in range(3000))  # written as text: dumping 3 MB of YAML is slow
    stack_tree.stack("dev", "vars: {stage: dev}\ncomponents:\n  terraform:\n    app:\n      vars:\n          api_token: ${TOKEN}\n" + blob)
    child = Child(provision_argv("describe", "app", "-s", "dev", "-o", "json"), stack_tree.root, clean_env(), read=("stderr",))
    try:
        child.wait_for("refers to TOKEN as ${...}, which is not expanded")
        child.send(signum)
        child.start_reading("stdout")
        code = child.finish()
    finally:
        child.kill()
    assert code == EXIT[signum], child.stderr
    lines = child.stderr.splitlines()
    assert lines[-1] == f"Interrupted ({signal.Signals(signum).name}).", child.stderr
    assert len(lines) == 2 and "Traceback" not in child.stderr  # the warning, then the one line


def test_a_signal_during_one_provisioner_lets_it_finish_then_exits_130(moto_server, stack_tree):
    bucket = f"sig-one-{uuid.uuid4().hex[:10]}"
    with FaultProxy(moto_server.url) as proxy:
        write_stack(stack_tree, proxy.url, bucket)
        gate = proxy.hold(_head(bucket))
        child = _start(stack_tree.root, "backend", "app", "-s", "dev", "-o", "json", PROVISIONER_INTERRUPT_GRACE="120")
        try:
            assert gate.wait_arrived(60), child.stderr
            child.send(signal.SIGINT)
            child.wait_for("Interrupted (SIGINT): nothing new starts")
            gate.open()
            code = child.finish()
        finally:
            child.kill()
    assert code == 130, child.stderr
    payload = json.loads(child.stdout)
    assert payload["ok"] is False
    assert [r["status"] for r in payload["results"]] == ["created"]  # it finished within the grace
    assert payload["error"]["error"] == "RunInterrupted" and payload["error"]["exit_code"] == 130
    assert bucket_gaps(admin(moto_server.url), bucket) == []
    assert "Traceback" not in child.stderr and SECRET_KEY not in child.stdout + child.stderr


def test_all_on_sigint_finishes_the_running_unit_starts_no_other_and_prints_the_partial_result(moto_server, stack_tree):
    with FaultProxy(moto_server.url) as proxy:
        first, second, third = _three_backends(stack_tree, proxy.url)
        gate = proxy.hold(_head(second))
        child = _start(stack_tree.root, "backend", "--all", "--jobs", "1", "-o", "json", PROVISIONER_INTERRUPT_GRACE="120")
        try:
            assert gate.wait_arrived(60), child.stderr  # the first unit is done, the second is in flight
            child.send(signal.SIGINT)
            child.wait_for("Interrupted (SIGINT): nothing new starts")
            gate.open()
            code = child.finish()
        finally:
            child.kill()
        untouched = _touched(proxy, third)
    assert code == 130, child.stderr
    result = json.loads(child.stdout)
    assert result["ok"] is False and result["exit_code"] == 130 and result["interrupted"] == "SIGINT"
    assert [(u["components"], u["status"]) for u in result["units"]] == [
        (["dev/app-a"], "created"),
        (["dev/app-b"], "created"),  # in flight at the signal: it finished within the grace
        (["dev/app-c"], "not-started"),
    ]
    assert {c["component"]: c["status"] for c in result["components"]} == {"app-a": "created", "app-b": "created", "app-c": "not-started"}
    assert untouched == []  # not one request for the unit that had not started
    s3 = admin(moto_server.url)
    assert bucket_gaps(s3, first) == [] and bucket_gaps(s3, second) == []
    assert bucket_gaps(s3, third) == ["bucket missing"]


def test_all_on_a_second_sigint_stops_at_once_and_marks_the_running_unit_interrupted(moto_server, stack_tree):
    with FaultProxy(moto_server.url) as proxy:
        _first, second, third = _three_backends(stack_tree, proxy.url)
        gate = proxy.hold(_head(second))
        child = _start(stack_tree.root, "backend", "--all", "--jobs", "1", "-o", "json", PROVISIONER_INTERRUPT_GRACE="120")
        try:
            assert gate.wait_arrived(60), child.stderr
            child.send(signal.SIGINT)
            child.wait_for("Interrupted (SIGINT): nothing new starts")
            child.send(signal.SIGINT)
            code = child.finish()
            held = [e.outcome for e in list(proxy.exchanges) if e.request.path == f"/{second}"]
            assert held == ["pending"], child.stderr  # the request is still held: the run did not wait for it
        finally:
            gate.open(forward=False)
            child.kill()
        untouched = _touched(proxy, third)
    assert code == 130, child.stderr
    assert "Interrupted again (SIGINT): stopping at once" in child.stderr
    result = json.loads(child.stdout)
    assert [u["status"] for u in result["units"]] == ["created", "interrupted", "not-started"]
    interrupted = result["units"][1]["error"]
    assert interrupted["exit_code"] == 130 and "interrupted by SIGINT" in interrupted["message"]
    assert untouched == []


def test_all_on_sigterm_abandons_a_unit_still_running_after_the_grace_and_exits_143(moto_server, stack_tree):
    with FaultProxy(moto_server.url) as proxy:
        first, second, third = _three_backends(stack_tree, proxy.url)
        gate = proxy.hold(_head(second))  # never opened while the run lives: the grace must end first
        child = _start(stack_tree.root, "backend", "--all", "--jobs", "1", PROVISIONER_INTERRUPT_GRACE="0.5")
        try:
            assert gate.wait_arrived(60), child.stderr
            child.send(signal.SIGTERM)
            code = child.finish()
        finally:
            gate.open(forward=False)
            child.kill()
        untouched = _touched(proxy, third)
    assert code == 143, child.stderr
    lines = child.stdout.splitlines()
    assert any(line.startswith("+ backend (backend-s3) dev/app-a: created") for line in lines), child.stdout
    assert any(line.startswith("! backend for dev/app-b: interrupted (exit 143)") and "after the 0.5s grace" in line for line in lines), child.stdout
    assert "- backend for dev/app-c: not started (interrupted by SIGTERM)" in lines
    assert lines[-1].endswith("interrupted by SIGTERM: 1 interrupted, 1 not started")
    assert "Interrupted (SIGTERM): nothing new starts; each running unit has up to 0.5s to finish" in child.stderr
    assert "Traceback" not in child.stderr
    assert untouched == []
    assert bucket_gaps(admin(moto_server.url), first) == []


def test_a_tool_can_stop_a_batch_it_runs(moto_server, stack_tree, provisioner_registry):
    """The same stop from Python: Provisioning.stop.request() while a unit runs (no signal, no CLI)."""
    from provisioner_core.batch import run_batch
    from provisioner_core.session import Provisioning

    with FaultProxy(moto_server.url) as proxy:
        _first, second, third = _three_backends(stack_tree, proxy.url)
        gate = proxy.hold(_head(second))
        provisioning = Provisioning.from_path(None, stack_tree.root, provisioner_registry)
        provisioning.stop.grace_s = 120

        def stop_when_held() -> None:
            assert gate.wait_arrived(60)
            provisioning.stop.request(signal.SIGTERM)
            gate.open()

        helper = threading.Thread(target=stop_when_held)
        helper.start()
        result = run_batch(provisioning, "backend", jobs=1)
        helper.join(60)
        untouched = _touched(proxy, third)
    assert result.exit_code == 143 and result.interrupted == "SIGTERM"
    assert [u.status for u in result.units] == ["created", "created", "not-started"]
    assert untouched == []
