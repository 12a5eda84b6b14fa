"""Reliability, S3 backend: one write step fails on every attempt (beyond any retry budget), in front of moto.

For each write the provisioner makes on a new bucket (and on a new lock table), the fault proxy
(tests/support/faults.py) answers every attempt of that one call with 503, throttling or a
connection reset before forwarding (so the write never lands).
The run must stop with exit 5 naming the step (never exit 0 with the setting missing), the
bucket is left half-configured at moto (asserted), and the next run through a clean path reports
the drift it found, repairs exactly that setting, and a run after that makes no write call.

Throttling backoff is scaled down in-process as in test_reliability_s3_faults.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from provisioner_core.plugins import PluginRegistry
from provisioner_core.testing import CliRunner
from support.faults import AWS_THROTTLING, AWS_UNAVAILABLE, RESET, FaultPlan, FaultProxy, Request, is_write
from support.s3_reliability import (
    admin,
    all_gaps,
    assert_clean_failure,
    bucket_gaps,
    one_result,
    shorten_throttling_backoff,
    table_gaps,
    write_stack,
)

ARGS = ["backend", "app", "-s", "dev", "-o", "json"]
# step -> (the S3 subresource of its PUT, the setting named in drift and in bucket_gaps)
S3_STEPS = {
    "put-bucket-versioning": ("versioning", "versioning"),
    "put-bucket-encryption": ("encryption", "encryption"),
    "put-public-access-block": ("publicAccessBlock", "public_access_block"),
    "put-bucket-ownership-controls": ("ownershipControls", "ownership_controls"),
    "put-bucket-policy": ("policy", "tls_policy"),
    "put-bucket-tagging": ("tagging", "tags"),
}


@pytest.fixture(autouse=True)
def _short_throttling_backoff(monkeypatch):
    shorten_throttling_backoff(monkeypatch)


@pytest.fixture
def proxy(moto_server):
    with FaultProxy(moto_server.url) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def cli(stack_tree):
    return CliRunner(stack_tree.root, PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-s3"}))


def _s3_put(subresource: str, bucket: str) -> Callable[[Request], bool]:
    return lambda r: r.method == "PUT" and r.path == f"/{bucket}" and r.query_keys == (subresource,)


def _repair_then_quiet(cli: CliRunner, proxy: FaultProxy, moto_url: str, bucket: str, table: str | None) -> dict[str, Any]:
    proxy.reset()
    repaired = one_result(cli.run(ARGS).stdout)
    assert all_gaps(moto_url, bucket, table) == []
    proxy.reset()
    quiet = one_result(cli.run(ARGS).stdout)
    assert quiet["status"] == "unchanged" and [str(r) for r in proxy.requests() if is_write(r)] == []
    return repaired


@pytest.mark.parametrize("step", sorted(S3_STEPS))
def test_a_bucket_write_that_always_fails_is_exit_5_and_the_rerun_repairs_it(cli, stack_tree, proxy, moto_server, step):
    bucket = f"step-{uuid.uuid4().hex[:12]}"
    subresource, setting = S3_STEPS[step]
    write_stack(stack_tree, proxy.url, bucket)
    proxy.plan = FaultPlan(share=1.0, faults=(AWS_UNAVAILABLE, AWS_THROTTLING, RESET), seed=1, match=_s3_put(subresource, bucket))

    failed = cli.run(ARGS, exit_code=None)

    payload = assert_clean_failure(failed.exit_code, failed.stdout, failed.stderr, exit_code=5, endpoint=proxy.url)
    assert f": {step}:" in payload["error"]["message"]
    # The partial state is said: the bucket exists, and the settings from the failed one on are missing.
    assert f"(s3 bucket {bucket} exists: this run created it; it still lacks {setting}" in payload["error"]["message"]
    assert payload["error"]["context"]["missing"].startswith(setting)
    assert len(proxy.faulted()) == 5  # the default budget: 5 attempts, every one failed
    gaps = bucket_gaps(admin(moto_server.url), bucket)
    assert any(gap.startswith(setting) for gap in gaps), gaps  # really half-configured, and not reported as success
    repaired = _repair_then_quiet(cli, proxy, moto_server.url, bucket, None)
    assert repaired["status"] == "updated"
    assert step in [a["verb"] for a in repaired["actions"]]
    assert any(d["setting"].startswith(setting) and d["resolution"] == "applied" for d in repaired["drift"]), repaired["drift"]


@pytest.mark.parametrize(
    ("operation", "step", "drift"),
    [("CreateTable", "create-table", None), ("UpdateContinuousBackups", "update-continuous-backups", "lock_table.point_in_time_recovery")],
)
def test_a_lock_table_write_that_always_fails_is_exit_5_and_the_rerun_repairs_it(
    cli, stack_tree, proxy, moto_server, operation, step, drift
):
    bucket, table = f"step-{uuid.uuid4().hex[:12]}", f"step-locks-{uuid.uuid4().hex[:8]}"
    write_stack(stack_tree, proxy.url, bucket, table)
    proxy.plan = FaultPlan(share=1.0, faults=(AWS_UNAVAILABLE, AWS_THROTTLING, RESET), match=lambda r: r.aws_operation == operation)

    failed = cli.run(ARGS, exit_code=None)

    payload = assert_clean_failure(failed.exit_code, failed.stdout, failed.stderr, exit_code=5, endpoint=proxy.url)
    assert f": {step}:" in payload["error"]["message"]
    assert len(proxy.faulted()) == 5
    assert bucket_gaps(admin(moto_server.url), bucket) == []  # the bucket came first and is complete
    assert table_gaps(admin(moto_server.url, "dynamodb"), table) != []  # the table is missing or lacks PITR
    repaired = _repair_then_quiet(cli, proxy, moto_server.url, bucket, table)
    assert step in [a["verb"] for a in repaired["actions"]]
    if drift:
        assert drift in [d["setting"] for d in repaired["drift"]]
