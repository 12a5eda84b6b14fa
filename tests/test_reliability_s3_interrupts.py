"""Reliability, S3 backend: a run killed half-way (SIGKILL), and the server or the path to it going away mid-run.

Each run is a real `provision backend app -s dev` OS process. The fault proxy
(tests/support/faults.py) holds a chosen call at a gate, so the test knows exactly where the run
is when it acts: after CreateBucket went through (answered 200) and before the first setting
(PutBucketVersioning) reached moto; or after CreateTable and before UpdateContinuousBackups.
"""

from __future__ import annotations

import signal
import uuid

import pytest

from support.faults import FaultProxy, is_write
from support.s3_reliability import (
    SECRET_KEY,
    admin,
    all_gaps,
    assert_clean_failure,
    bucket_gaps,
    one_result,
    run_provision,
    start_provision,
    table_gaps,
    write_stack,
)
from support.servers import start_moto

BUCKET_SETTINGS = ["versioning", "encryption", "public_access_block", "ownership_controls", "tls_policy", "tags"]


def _is_put(bucket: str, subresource: str):
    return lambda r: r.method == "PUT" and r.path == f"/{bucket}" and r.query_keys == (subresource,)


def _kill_at(gate, root):
    """Start a run, wait until it is held at ``gate``, SIGKILL it, then drop the held call (it never reaches moto)."""
    victim = start_provision(root)
    try:
        assert gate.wait_arrived(60), "the run never reached the gate"
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=30)
    gate.open(forward=False)
    assert gate.settled.wait(30)
    assert victim.returncode == -signal.SIGKILL
    return victim


def test_a_run_killed_after_create_bucket_is_completed_by_the_next_run(moto_server, stack_tree):
    bucket = f"killed-{uuid.uuid4().hex[:12]}"
    with FaultProxy(moto_server.url) as proxy:
        write_stack(stack_tree, proxy.url, bucket)
        gate = proxy.hold(_is_put(bucket, "versioning"))

        _kill_at(gate, stack_tree.root)

        creates = [e for e in proxy.exchanges if e.request.method == "PUT" and e.request.path == f"/{bucket}" and not e.request.query]
        assert [e.status for e in creates] == [200]  # CreateBucket went through; no setting did
        assert [e.outcome for e in proxy.exchanges if e.request.query_keys == ("versioning",)] == ["dropped"]
        gaps = bucket_gaps(admin(moto_server.url), bucket)
        assert [gap.split(" ")[0] for gap in gaps] == BUCKET_SETTINGS  # a bucket with none of its settings

        proxy.reset()
        second = run_provision(stack_tree.root)

        assert second.returncode == 0, second.stderr
        result = one_result(second.stdout)
        assert result["status"] == "updated"
        repaired = {d["setting"].split(".")[0] for d in result["drift"] if d["resolution"] == "applied"}
        assert repaired == set(BUCKET_SETTINGS)
        assert [a["verb"] for a in result["actions"]] == [
            "put-bucket-versioning",
            "put-bucket-encryption",
            "put-public-access-block",
            "put-bucket-ownership-controls",
            "put-bucket-policy",
            "put-bucket-tagging",
        ]
        assert bucket_gaps(admin(moto_server.url), bucket) == []
        assert SECRET_KEY not in second.stdout + second.stderr

        # A third run finds nothing left to do.
        proxy.reset()
        third = run_provision(stack_tree.root, ["backend", "app", "-s", "dev"])
        assert third.returncode == 0 and f"unchanged s3://{bucket}" in third.stdout
        assert [str(r) for r in proxy.requests() if is_write(r)] == []


def test_a_run_killed_after_create_table_is_completed_by_the_next_run(moto_server, stack_tree):
    bucket, table = f"killed-{uuid.uuid4().hex[:12]}", f"killed-locks-{uuid.uuid4().hex[:8]}"
    with FaultProxy(moto_server.url) as proxy:
        write_stack(stack_tree, proxy.url, bucket, table)
        gate = proxy.hold(lambda r: r.aws_operation == "UpdateContinuousBackups")

        _kill_at(gate, stack_tree.root)

        assert [e.status for e in proxy.exchanges if e.request.aws_operation == "CreateTable"] == [200]
        assert table_gaps(admin(moto_server.url, "dynamodb"), table) == ["pitr"]

        proxy.reset()
        second = run_provision(stack_tree.root)

        assert second.returncode == 0, second.stderr
        result = one_result(second.stdout)
        assert result["status"] == "updated"
        assert [(d["setting"], d["resolution"]) for d in result["drift"]] == [("lock_table.point_in_time_recovery", "applied")]
        assert [a["verb"] for a in result["actions"]] == ["update-continuous-backups"]
        assert all_gaps(moto_server.url, bucket, table) == []


@pytest.fixture
def dedicated_moto():
    server = start_moto()
    yield server
    server.stop()


def test_the_server_stopped_mid_run_is_exit_5_naming_the_endpoint(dedicated_moto, stack_tree):
    bucket = f"stopped-{uuid.uuid4().hex[:12]}"
    with FaultProxy(dedicated_moto.url) as proxy:
        write_stack(stack_tree, proxy.url, bucket)
        gate = proxy.hold(_is_put(bucket, "versioning"))
        run = start_provision(stack_tree.root, ["backend", "app", "-s", "dev"])
        try:
            assert gate.wait_arrived(60)
            dedicated_moto.stop()  # the server goes away with the run in flight
            assert dedicated_moto.process.poll() is not None
            gate.open(forward=True)
            out, err = run.communicate(timeout=120)
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()

        assert_clean_failure(run.returncode, out, err, exit_code=5, endpoint=proxy.url)
        assert "put-bucket-versioning" in err
        after = [e.outcome for e in proxy.exchanges if e.request.query_keys == ("versioning",)]
        assert after == ["upstream-down"] * 5  # every attempt of the budget, none answered


def test_the_path_to_the_server_going_away_mid_run_is_exit_5_naming_the_endpoint(moto_server, stack_tree):
    bucket = f"gone-{uuid.uuid4().hex[:12]}"
    proxy = FaultProxy(moto_server.url)
    try:
        write_stack(stack_tree, proxy.url, bucket)
        gate = proxy.hold(_is_put(bucket, "encryption"))
        run = start_provision(stack_tree.root, ["backend", "app", "-s", "dev"])
        try:
            assert gate.wait_arrived(60)
            proxy.stop()  # stops listening and resets the held connection: later attempts are refused
            out, err = run.communicate(timeout=120)
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()
    finally:
        proxy.stop()

    assert_clean_failure(run.returncode, out, err, exit_code=5, endpoint=proxy.url)
    assert "put-bucket-encryption" in err
    # versioning landed before the proxy went away; encryption did not, and the run did not claim it.
    gaps = bucket_gaps(admin(moto_server.url), bucket)
    assert "versioning" not in gaps and "encryption" in gaps
    assert any(gap.startswith("tls_policy") for gap in gaps)  # a later step, never reached
