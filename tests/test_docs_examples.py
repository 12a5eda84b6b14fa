"""Code blocks in docs/ that are meant to run do run: docs/api.md's embedding example, docs/reconcile.md's resource."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "docs" / page).read_text(), re.S)


def test_the_api_example_runs_as_documented(tmp_path):
    project = tmp_path / "my-project"
    (project / "stacks").mkdir(parents=True)
    (project / "atmos.yaml").write_text("stacks: {base_path: stacks, name_pattern: '{stage}'}\ncomponents: {terraform: {base_path: components/terraform}}\n")
    (project / "stacks" / "dev.yaml").write_text(
        "vars: {stage: dev}\ncomponents:\n  terraform:\n    app:\n      vars: {size: 2}\n"
        "      provision: {example: {enabled: true, path: out/marker.txt}}\n"
    )
    script = tmp_path / "example.py"
    script.write_text(python_blocks("api.md")[0])
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "['dev']"
    assert lines[1] == "dev app {'stage': 'dev', 'size': 2}"
    assert lines[2].startswith("example provisioner-core planned ['create file ")
    assert lines[3] == "2 unknown component 'ap' in stack 'dev' ['Did you mean: app?']"
    assert not (project / "out").exists(), "the dry run wrote nothing"


def test_the_reconcile_example_runs_as_documented(tmp_path):
    block = python_blocks("reconcile.md")[0]
    script = tmp_path / "store.py"
    script.write_text(block)
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    expected = [line.removeprefix("# ") for line in block.splitlines() if line.startswith("# ")]
    printed = run.stdout.splitlines()
    assert printed[0] == expected[0]
    assert printed[1] == "{'versioning': 'on', 'encryption': 'strong'} created"
    assert printed[2] == expected[1]
