"""``provision <type> --all --matrix N``: the CI matrix describes exactly the shards ``--shard K/N`` runs."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner_core.plugins import PluginRegistry
from provisioner_core.testing import CliRunner, StackTree


def _project(root, sizes: list[int]) -> StackTree:
    tree = StackTree(root)
    for i, size in enumerate(sizes):
        components = {f"c{j}": {"provision": {"example": {"enabled": True, "path": f"out/{i}/{j}"}}} for j in range(size)}
        components["off"] = {}  # not enabled: in no shard
        tree.stack(f"s{i}", {"vars": {"stage": f"s{i}"}, "components": {"terraform": components}})
    return tree


def _components(cli: CliRunner, *args: str) -> list[str]:
    result = json.loads(cli.run(["example", "--all", "--dry-run", "-o", "json", *args]).stdout)
    return [name for unit in result["units"] for name in unit["components"]]


@settings(max_examples=15)
@given(sizes=st.lists(st.integers(0, 6), min_size=1, max_size=5), count=st.integers(1, 8))
def test_the_matrix_is_the_shards_and_they_partition_the_work(tmp_path_factory, sizes, count):
    root = tmp_path_factory.mktemp("matrix")
    try:
        _project(root, sizes)
        cli = CliRunner(root, PluginRegistry(load_entrypoints=False, environ={}).load())  # core's built-ins: the example type
        matrix = json.loads(cli.run(["example", "--all", "--matrix", str(count), "-o", "json"]).stdout)["include"]
        everything = _components(cli)
        assert len(everything) == sum(sizes)
        shards = []
        for row in matrix:
            mine = _components(cli, "--shard", row["shard"])
            assert row["units"] == len(mine) == row["components"]  # one unit per component for this type
            shards.append(mine)
        assert sorted(n for shard in shards for n in shard) == sorted(everything)  # the union is the whole
        assert sum(len(s) for s in shards) == len(everything)  # disjoint
        sizes_ = [len(s) for s in shards]
        assert max(sizes_) - min(sizes_) <= 1  # balanced
        assert len(matrix) == max(1, min(count, len(everything)))  # no job without work
        assert [row["shard"] for row in matrix] == [f"{k}/{len(matrix)}" for k in range(1, len(matrix) + 1)]
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def project(stack_tree):
    return _project(stack_tree.root, [3, 4])


def test_gitlab_shape(project, provision_cli):
    document = json.loads(provision_cli.run(["example", "--all", "--matrix", "3", "--matrix-format", "gitlab", "-o", "json"]).stdout)
    assert document == {"parallel": {"matrix": [{"SHARD": "1/3", "UNITS": "3", "COMPONENTS": "3"}, {"SHARD": "2/3", "UNITS": "2", "COMPONENTS": "2"},
                                                {"SHARD": "3/3", "UNITS": "2", "COMPONENTS": "2"}]}}  # fmt: skip


def test_text_and_selection(project, provision_cli):
    result = provision_cli.run(["example", "--all", "-s", "s0", "--matrix", "2"])
    assert result.stdout.splitlines() == ["--shard 1/2: 2 unit(s), 2 component(s)", "--shard 2/2: 1 unit(s), 1 component(s)"]
    assert not (project.root / "out").exists()  # a matrix runs nothing


def test_matrix_needs_all(project, provision_cli):
    result = provision_cli.run(["example", "c0", "-s", "s0", "--matrix", "2"], exit_code=2)
    assert "--matrix needs --all" in result.stderr
