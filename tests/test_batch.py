"""provision backend --all: dedupe by backend, concurrency, failures, shards, metrics (moto server over HTTP)."""

from __future__ import annotations

import json

import pytest

from provisioner_core.plugins import PluginRegistry
from provisioner_core.testing import CliRunner
from support.s3_recorder import RecordingProxy


@pytest.fixture
def proxy(moto_server):
    recording = RecordingProxy(moto_server.url)
    yield recording
    recording.stop()


@pytest.fixture
def cli(stack_tree):
    return CliRunner(stack_tree.root, PluginRegistry(environ={}))


def backend(endpoint: str, bucket: str, key: str) -> dict:
    return {"s3": {"bucket": bucket, "key": key, "region": "us-east-1", "use_lockfile": True, "endpoints": {"s3": endpoint}, "use_path_style": True}}


@pytest.fixture
def tree(stack_tree, proxy, request):
    """3 stacks x 4 components sharing 2 buckets (one per stage group), plus an abstract base."""
    prefix = request.node.name.replace("_", "-")[:24].strip("-")
    stack_tree.buckets = [f"{prefix}-a", f"{prefix}-b"]
    for stage in ("dev", "qa", "prod"):
        bucket = stack_tree.buckets[0 if stage != "prod" else 1]
        components = {"base": {"metadata": {"type": "abstract"}, "provision": {"backend": {"enabled": True}}}}
        for name in ("vpc", "eks", "rds", "dns"):
            components[name] = {"metadata": {"inherits": ["base"]}, "backend": backend(proxy.url, bucket, f"{stage}/{name}.tfstate")}
        components["off"] = {"backend": backend(proxy.url, bucket, "off")}  # not enabled: never touched
        stack_tree.stack(stage, {
            "vars": {"stage": stage},
            "backend_type": "s3",
            "auth": {"providers": {"aws": {"type": "static", "access_key_id": "AKIABATCH", "secret_access_key": "batch-secret-1"}}},
            "components": {"terraform": components},
        })
    return stack_tree


def test_each_shared_backend_is_provisioned_once(tree, cli, proxy):
    result = json.loads(cli.run(["backend", "--all", "-o", "json", "--jobs", "4"]).stdout)
    assert result["ok"] is True and result["exit_code"] == 0
    assert result["metrics"]["components"] == 12 and result["metrics"]["distinct_units"] == 2
    assert sorted(len(u["components"]) for u in result["units"]) == [4, 8]
    assert {c["status"] for c in result["components"]} == {"created"}
    assert len(result["components"]) == 12
    creates = [c for c in proxy.calls if c.method == "PUT" and c.query == () and c.path.strip("/") in tree.buckets]
    assert len(creates) == 2, [str(c) for c in creates]  # one CreateBucket per distinct bucket
    assert {s["reason"] for s in result["skipped"]} >= {"abstract", "provision.backend.enabled is not true"}
    metrics = result["metrics"]
    assert set(metrics["duration_s"]["backend"]) == {"count", "p50", "p95", "p99"}
    assert metrics["duration_s"]["backend"]["count"] == 2
    assert "hit_rate" in metrics["client_cache"] and metrics["errors_by_exit_code"] == {}


def test_second_run_is_unchanged_with_no_write_calls(tree, cli, proxy):
    cli.run(["backend", "--all"])
    proxy.reset()
    result = json.loads(cli.run(["backend", "--all", "-o", "json"]).stdout)
    assert {c["status"] for c in result["components"]} == {"unchanged"}
    assert proxy.writes() == []


def test_dry_run_writes_nothing(tree, cli, proxy):
    result = json.loads(cli.run(["backend", "--all", "--dry-run", "-o", "json"]).stdout)
    assert {c["status"] for c in result["components"]} == {"planned"}
    assert proxy.writes() == []


def test_one_failure_does_not_hide_the_others(tree, cli):
    stack = tree.root / "stacks" / "qa.yaml"
    tree.stack("qa", stack.read_text().replace(tree.buckets[0], "Bad_Bucket_Name"))
    result = cli.run(["backend", "--all", "-o", "json"], exit_code=2)
    data = json.loads(result.stdout)
    statuses = {(c["stack"], c["status"]) for c in data["components"]}
    assert ("qa", "failed") in statuses and ("dev", "created") in statuses and ("prod", "created") in statuses
    assert data["metrics"]["errors_by_exit_code"] == {"2": 1}
    text = cli.run(["backend", "--all"], exit_code=2)
    assert "Error:" in text.stderr and "Bad_Bucket_Name" in text.stderr


def test_wrong_enabled_type_fails_that_component_only(tree, cli):
    tree.stack("qa", (tree.root / "stacks" / "qa.yaml").read_text().replace("enabled: true", 'enabled: "yes"'))
    data = json.loads(cli.run(["backend", "--all", "-o", "json"], exit_code=2).stdout)
    failed = {c["stack"] for c in data["components"] if c["status"] == "failed"}
    assert failed == {"qa"}


def test_fail_fast_stops_at_the_first_failure(tree, cli):
    for stage in ("dev", "qa", "prod"):
        path = tree.root / "stacks" / f"{stage}.yaml"
        tree.stack(stage, path.read_text().replace(tree.buckets[0], f"BAD-{stage}").replace(tree.buckets[1], "BAD-prod"))
    data = json.loads(cli.run(["backend", "--all", "--fail-fast", "--jobs", "1", "-o", "json"], exit_code=2).stdout)
    assert [u["status"] for u in data["units"]].count("failed") == 1
    assert "not-run" in [u["status"] for u in data["units"]]


def test_shards_split_backends_without_overlap(tree, cli):
    first = json.loads(cli.run(["backend", "--all", "--shard", "1/2", "--dry-run", "-o", "json"]).stdout)
    second = json.loads(cli.run(["backend", "--all", "--shard", "2/2", "--dry-run", "-o", "json"]).stdout)
    a = {c for u in first["units"] for c in u["components"]}
    b = {c for u in second["units"] for c in u["components"]}
    assert a and b and not (a & b) and len(a | b) == 12
    again = json.loads(cli.run(["backend", "--all", "--shard", "1/2", "--dry-run", "-o", "json"]).stdout)
    assert again["units"][0]["components"] == first["units"][0]["components"]  # deterministic


@pytest.mark.parametrize("shard", ["3/2", "0/2", "1/0", "x/2", "1-2"])
def test_shard_out_of_range_is_exit_2(tree, cli, shard):
    assert "--shard" in cli.run(["backend", "--all", "--shard", shard], exit_code=2).stderr


def test_selected_stacks_only_and_unknown_stack(tree, cli):
    data = json.loads(cli.run(["backend", "--all", "-s", "prod", "--dry-run", "-o", "json"]).stdout)
    assert {c["stack"] for c in data["components"]} == {"prod"}
    assert "unknown stack 'stg'" in cli.run(["backend", "--all", "-s", "stg"], exit_code=2).stderr


def test_text_output_summarises(tree, cli):
    out = cli.run(["backend", "--all", "--dry-run"]).stdout
    assert "2 distinct backend unit(s) for 12 component(s); 0 failed" in out


def test_component_and_all_are_exclusive(tree, cli):
    assert "not both" in cli.run(["backend", "vpc", "--all"], exit_code=2).stderr
    assert "--shard needs --all" in cli.run(["backend", "vpc", "-s", "dev", "--shard", "1/2"], exit_code=2).stderr


def test_the_matrix_deals_distinct_backends_not_components(tree, cli):
    # 12 components share 2 buckets: 2 units, so at most 2 jobs, each with one backend.
    matrix = json.loads(cli.run(["backend", "--all", "--matrix", "3", "-o", "json"]).stdout)["include"]
    assert [(row["shard"], row["units"]) for row in matrix] == [("1/2", 1), ("2/2", 1)]
    assert sorted(row["components"] for row in matrix) == [4, 8]
    seen = []
    for row in matrix:
        result = json.loads(cli.run(["backend", "--all", "--dry-run", "--shard", row["shard"], "-o", "json"]).stdout)
        assert len(result["units"]) == row["units"] and len(result["components"]) == row["components"]
        seen += [unit["identity"]["backend"]["bucket"] for unit in result["units"]]
    assert sorted(seen) == sorted(tree.buckets)
