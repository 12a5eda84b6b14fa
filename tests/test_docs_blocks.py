"""Every code block in docs/ that is meant to run, runs (issue 20).

* ``python``: executed as a script in an empty folder; it must exit 0.
* ``yaml``, ``json``, ``toml``: configuration readers copy, so it must parse; a YAML block whose
  first line names a stack file (``# stacks/dev.yaml``) must also resolve as a stack.
* Anything else (shell commands, transcripts, SQL, diagrams) is shown, not run.

A block that is not meant to run says so, with the reason, in an HTML comment on the line before
it (invisible on the site and on GitHub): ``<!-- docs-test: skip: a signature listing -->``. A block
run by a test of its own names that test: ``<!-- docs-test: tests/test_docs_examples.py -->``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^( *)```(\S*)[^\n]*\n(.*?)^\1```", re.M | re.S)
MARKER = re.compile(r"<!-- docs-test: (.+?) -->\s*$")
RUN = {"python", "yaml", "json", "toml"}


def blocks() -> list[tuple[str, int, str, str, str | None]]:
    """(page, line, language, body, marker) of every fenced block in docs/."""
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text()
        for match in FENCE.finditer(text):
            indent = len(match.group(1))
            body = "\n".join(line[indent:] for line in match.group(3).splitlines()) + "\n"
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            marker = MARKER.search(before)
            line = text.count("\n", 0, match.start()) + 1
            found.append((page.relative_to(DOCS).as_posix(), line, match.group(2), body, marker.group(1) if marker else None))
    return found


BLOCKS = blocks()
RUNNABLE = [b for b in BLOCKS if b[2] in RUN]


def test_the_collector_finds_the_blocks():
    assert len(BLOCKS) > 40 and sum(1 for b in RUNNABLE if b[2] == "python") >= 8


@pytest.mark.parametrize(("page", "line", "language", "body", "marker"), RUNNABLE, ids=[f"{b[0]}:{b[1]}" for b in RUNNABLE])
def test_block_runs(page, line, language, body, marker, tmp_path):
    if marker is not None:
        if marker.startswith("skip:"):
            assert len(marker) > len("skip: ") + 10, f"docs/{page}:{line}: say why the block is not run"
            pytest.skip(marker)
        runner = ROOT / marker
        assert runner.is_file() and Path(page).name in runner.read_text(), f"docs/{page}:{line}: {marker} does not run this page's blocks"
        return
    if language == "python":
        script = tmp_path / "block.py"
        script.write_text(body)
        run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, f"docs/{page}:{line} failed:\n{run.stdout}{run.stderr}"
    elif language == "json":
        json.loads(body)
    elif language == "toml":
        tomllib.loads(body)
    else:
        from ruamel.yaml import YAML

        YAML(typ="safe").load(body)
        stack = re.match(r"# (stacks/[\w/-]+\.yaml)\n", body)
        if stack:
            resolves_as_a_stack(tmp_path, stack.group(1), body)


def resolves_as_a_stack(project: Path, path: str, body: str) -> None:
    from provisioner_core import PluginRegistry, Provisioning

    (project / path).parent.mkdir(parents=True, exist_ok=True)
    (project / path).write_text(body)
    provisioning = Provisioning.from_path(cwd=project, registry=PluginRegistry())
    components = list(provisioning.components())
    assert components, f"{path} defines no component"
    for component in components:
        assert component.stack == Path(path).relative_to("stacks").with_suffix("").as_posix()
