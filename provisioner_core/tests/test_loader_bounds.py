"""Bounded time and memory for hostile stack files (issue 16): size, aliases, nesting.

Each test names the class it holds; the corpus (tests/corpus, tests/test_corpus.py) runs the same
hostile files through the CLI in a subprocess with a CPU-time and memory bound.
"""

from __future__ import annotations

import os
import threading
import tracemalloc

import pytest

from provisioner_core import ConfigError
from provisioner_core.stacks import loader
from provisioner_core.stacks.loader import YamlCache

MIB = 1024 * 1024


# --- size: checked before reading, and never more than limit + 1 bytes read -------------------


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", MIB)
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(64 * MIB)  # sparse: 64 MiB by its size, nothing on disk

    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match="over the 1 MiB limit"):
            YamlCache().load(huge)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MIB  # the old loader read all 64 MiB first


def test_a_file_that_grows_while_read_is_cut_at_the_limit(tmp_path, monkeypatch):
    # A FIFO looks like an empty file to stat and never ends: the read itself must stop.
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", MIB)
    fifo = tmp_path / "growing.yaml"
    os.mkfifo(fifo)
    written = 0

    def writer() -> None:
        nonlocal written
        chunk = b"# padding padding padding padding padding padding padding padding\n" * 1000
        try:
            with fifo.open("wb") as handle:
                while written < 256 * MIB:
                    handle.write(chunk)
                    written += len(chunk)
        except BrokenPipeError:
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    with pytest.raises(ConfigError, match="over the 1 MiB limit"):
        YamlCache().load(fifo)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert written < 8 * MIB  # the reader stopped at 1 MiB + 1 byte (plus what the pipe buffered)


# --- aliases: the expanded size is counted before anything walks the document ---------------


def alias_bomb(levels: int = 9, width: int = 9, *, flow_mappings: bool = False) -> str:
    """The issue's file: ``levels`` anchors in ``vars``, each holding ``width`` aliases of the previous one."""
    lines = ["vars:", "  stage: dev", "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        if flow_mappings:
            items = ", ".join(f"k{i}: *l{level - 1}" for i in range(width))
            lines.append(f"  l{level}: &l{level} {{{items}}}")
        else:
            lines.append(f"  l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("flow_mappings", [False, True], ids=["sequences", "mappings"])
def test_an_alias_bomb_is_refused_before_it_expands(tmp_path, flow_mappings):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(flow_mappings=flow_mappings))

    with pytest.raises(ConfigError, match="aliases expand this file to more than 1,000,000 values") as caught:
        YamlCache().load(bomb)
    assert caught.value.message.startswith(f"{bomb}:")


def test_aliases_within_the_limit_load_as_before(tmp_path):
    text = "base: &base {region: eu-west-1, tags: &tags {team: net}}\nvpc: {<<: *base, cidr: 10.0.0.0/16}\neks: {settings: *base, tags: *tags}\n"
    path = tmp_path / "anchors.yaml"
    path.write_text(text)

    cache = YamlCache()
    doc = cache.load(path)

    assert doc["vpc"] == {"region": "eu-west-1", "tags": {"team": "net"}, "cidr": "10.0.0.0/16"}
    assert doc["eks"] == {"settings": {"region": "eu-west-1", "tags": {"team": "net"}}, "tags": {"team": "net"}}
    assert cache.expanded == 35  # every key and value, each alias counted as a copy of what it names (7 and 3)


def test_the_expanded_size_is_exact_at_the_limit(tmp_path, monkeypatch):
    # the root, key vars and its mapping, stage and dev, key a and its list of 10, key b and the alias (11 values)
    monkeypatch.setattr(loader, "MAX_EXPANDED_NODES", 1 + 2 + 2 + 1 + 11 + 1 + 11)
    path = tmp_path / "exact.yaml"
    path.write_text("vars:\n  stage: dev\n  a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: *a\n")
    assert YamlCache().load(path)["b"] == list(range(1, 11))
    path.write_text("vars:\n  stage: dev\n  a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: *a\nc: x\n")
    with pytest.raises(ConfigError, match="aliases expand"):
        YamlCache().load(path)


def test_many_files_with_aliases_share_one_budget_per_run(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "MAX_RUN_EXPANDED_NODES", 50)
    cache = YamlCache()
    for index in range(3):
        path = tmp_path / f"f{index}.yaml"
        path.write_text("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: *a\n")  # 25 values each
        if index < 2:
            cache.load(path)
    with pytest.raises(ConfigError, match="expand to more than 50 values in this run"):
        cache.load(tmp_path / "f2.yaml")


def test_a_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("vars:\n  stage: dev\n  loop: &loop {self: *loop}\n")

    with pytest.raises(ConfigError, match=r"loop.yaml:3: alias \*loop refers to a collection that contains it"):
        YamlCache().load(path)


# --- nesting: bounded on the event stream, never by the C parser's stack ----------------------


def flow_mapping(depth: int) -> str:
    return "vars: " + "{a: " * depth + "1" + "}" * depth + "\n"


def flow_sequence(depth: int) -> str:
    return "vars: {x: " + "[" * depth + "1" + "]" * depth + "}\n"


def block_mapping(depth: int) -> str:
    return "vars:\n" + "".join(" " * level + "k:\n" for level in range(1, depth)) + " " * depth + "k: v\n"


def compact_sequence(depth: int) -> str:
    return "vars:\n  x:\n  " + "- " * depth + "1\n"


NESTINGS = {"flow mapping": flow_mapping, "flow sequence": flow_sequence, "block mapping": block_mapping, "compact sequence": compact_sequence}


@pytest.mark.parametrize("shape", sorted(NESTINGS))
def test_nesting_past_the_limit_is_refused_with_the_line(tmp_path, shape):
    path = tmp_path / "deep.yaml"
    path.write_text(NESTINGS[shape](500))

    with pytest.raises(ConfigError, match=r"deep.yaml:\d+: mappings and sequences nested deeper than 100 levels"):
        YamlCache().load(path)


@pytest.mark.parametrize("shape", sorted(NESTINGS))
def test_nesting_up_to_the_limit_loads(tmp_path, shape):
    path = tmp_path / "deep.yaml"
    # The document's own mapping and `vars` (and `x`) are levels too: this lands exactly on 100.
    extra = {"flow mapping": 1, "flow sequence": 2, "block mapping": 1, "compact sequence": 2}[shape]
    path.write_text(NESTINGS[shape](loader.MAX_DEPTH - extra))
    assert YamlCache().load(path) is not None
    path.write_text(NESTINGS[shape](loader.MAX_DEPTH - extra + 1))
    with pytest.raises(ConfigError, match="nested deeper than 100 levels"):
        YamlCache().load(path)


def test_nesting_that_crashed_the_c_parser_is_an_error_not_a_crash(tmp_path):
    # 100,000 levels overflowed libyaml's composer stack (SIGSEGV): now refused at level 101.
    import subprocess
    import sys

    path = tmp_path / "deeper.yaml"
    path.write_text(flow_sequence(100_000))
    code = (
        "import sys\nfrom provisioner_core import ConfigError\nfrom provisioner_core.stacks.loader import YamlCache\n"
        "try:\n    YamlCache().load(sys.argv[1])\nexcept ConfigError as exc:\n    print(exc.message)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "nested deeper than 100 levels" in done.stdout


def test_the_cheap_depth_bound_never_underestimates():
    # The pre-scan decides whether the exact scan runs: it must be an upper bound for every file.
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from ruamel.yaml import YAML

    leaves = st.one_of(st.integers(), st.text(alphabet="ab[]{}-?: ,", max_size=6), st.booleans(), st.none())
    trees = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(alphabet="kx", min_size=1, max_size=2), inner, max_size=3)), max_leaves=40)

    def depth(value: object) -> int:
        if isinstance(value, dict):
            return 1 + max((depth(v) for v in value.values()), default=0)
        if isinstance(value, list):
            return 1 + max((depth(v) for v in value), default=0)
        return 0

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(trees, st.sampled_from([None, False, True]), st.sampled_from([2, 4]))
    def check(tree: object, flow: bool | None, indent: int) -> None:
        import io

        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = flow
        yaml.indent(mapping=indent, sequence=indent + 2, offset=indent)
        out = io.StringIO()
        yaml.dump({"vars": tree}, out)
        assert loader.depth_bound(out.getvalue()) >= 1 + depth(tree)

    check()
