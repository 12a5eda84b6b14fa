"""The bad-input corpus (tests/corpus/): documented exit code, one-line error with a hint, no traceback, nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provisioner_core.plugins import PluginRegistry
from provisioner_core.testing import CliRunner

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.json").is_file())


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_bad_input(name, tmp_path):
    case = json.loads((CORPUS / name / "case.json").read_text())
    project = tmp_path / "project"
    shutil.copytree(CORPUS / name / "tree", project)
    if "generate" in case:
        target = project / case["generate"]["path"]
        line = b"# padding padding padding padding padding padding padding padding padding\n"
        target.write_bytes(b"vars: {stage: huge}\n" + line * (case["generate"]["bytes"] // len(line) + 1))
    before = snapshot(project)
    result = CliRunner(project, PluginRegistry(environ={})).run(case["args"], exit_code=None)
    assert result.exit_code == case["exit_code"], result.output
    assert "Traceback" not in result.output
    if case["exit_code"] == 0:
        assert case["error"] in result.output
    else:
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1, result.stderr
        assert case["error"] in errors[0] or case["error"] in result.stderr, result.stderr
        assert any(line.startswith("Hint: ") for line in result.stderr.splitlines()), result.stderr
    assert snapshot(project) == before, "a failed command must write nothing"
