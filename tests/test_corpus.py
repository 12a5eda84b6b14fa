"""The bad-input corpus (tests/corpus/): documented exit code, one-line error with a hint, no traceback, nothing written."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from provisioner_core.plugins import PluginRegistry
from provisioner_core.testing import CliRunner

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.json").is_file())
BOUNDED = [name for name in CASES if "bounds" in json.loads((CORPUS / name / "case.json").read_text())]
# Files above this are compared by size and modification time (a sparse 1 GiB file is never read).
SNAPSHOT_BYTES = 16 * 1024 * 1024


def snapshot(root: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        stat = path.stat()
        found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns) if stat.st_size > SNAPSHOT_BYTES else path.read_bytes()
    return found


def generate(project: Path, spec: dict[str, Any]) -> None:
    """A file made at test time: ``padding`` (real bytes), ``sparse`` (a size, nothing on disk), ``nested`` (a deep flow sequence)."""
    target = project / spec["path"]
    kind = spec.get("kind", "padding")
    if kind == "sparse":
        with target.open("wb") as handle:
            handle.write(b"vars: {stage: huge}\n")
            handle.truncate(spec["bytes"])
    elif kind == "nested":
        depth = spec["depth"]
        target.write_text("vars: {stage: deep, x: " + "[" * depth + "1" + "]" * depth + "}\n")
    else:
        line = b"# padding padding padding padding padding padding padding padding padding\n"
        target.write_bytes(b"vars: {stage: huge}\n" + line * (spec["bytes"] // len(line) + 1))


def prepared(name: str, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    case = json.loads((CORPUS / name / "case.json").read_text())
    project = tmp_path / "project"
    shutil.copytree(CORPUS / name / "tree", project)
    if "generate" in case:
        generate(project, case["generate"])
    return case, project


def test_corpus_is_large_enough():
    assert len(CASES) >= 40
    assert len(BOUNDED) >= 8


@pytest.mark.parametrize("name", CASES)
def test_bad_input(name, tmp_path):
    case, project = prepared(name, tmp_path)
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


# A hard stop for a regression (address space, and wall time), far above the asserted bounds.
ADDRESS_SPACE_CAP = 4 * 1024 * 1024 * 1024
WALL_CAP_SECONDS = 120


# The CLI, reporting its own peak RSS (VmHWM) at exit. wait4's ru_maxrss would not do: it keeps the
# forked copy of this pytest process's resident set, hundreds of MB late in a full run.
REPORTS_ITS_PEAK = """
import atexit, os, runpy, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(os.environ["PEAK_FILE"], "w").write(line.split()[1])
atexit.register(peak)
sys.argv[0] = "provision"
runpy.run_module("provisioner_core.cli.main", run_name="__main__")
"""


def run_bounded(args: list[str], cwd: Path) -> tuple[int, str, float, float]:
    """Run ``provision`` in a child process; (exit code, stderr, CPU seconds, peak RSS in MB) from wait4."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_CAP, ADDRESS_SPACE_CAP))

    environ = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "LANG": "C.UTF-8", "PEAK_FILE": str(cwd.parent / "peak.txt")}
    out_path, err_path = cwd.parent / "stdout.txt", cwd.parent / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        child = subprocess.Popen([sys.executable, "-c", REPORTS_ITS_PEAK, *args], cwd=cwd, env=environ, stdout=out, stderr=err, preexec_fn=limit)  # noqa: S603, PLW1509
        timer = threading.Timer(WALL_CAP_SECONDS, child.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    peak_kb = int((cwd.parent / "peak.txt").read_text() or 0) if (cwd.parent / "peak.txt").exists() else usage.ru_maxrss
    return child.returncode, err_path.read_text(errors="replace"), usage.ru_utime + usage.ru_stime, peak_kb / 1024


@pytest.mark.parametrize("name", BOUNDED)
def test_hostile_input_is_refused_within_time_and_memory(name, tmp_path):
    """The CLI in a child process: the documented exit code within the case's CPU time and peak memory.

    CPU time, not wall time, so a loaded CI machine does not fail it; the wall-time cap only stops a hang.
    """
    case, project = prepared(name, tmp_path)
    started = time.monotonic()
    code, stderr, cpu_seconds, peak_mb = run_bounded(case["args"], project)
    wall = time.monotonic() - started

    assert code == case["exit_code"], f"exit {code} after {wall:.1f} s (a negative code is a signal)\n{stderr}"
    assert cpu_seconds < case["bounds"]["cpu_seconds"], f"{cpu_seconds:.2f} s of CPU"
    assert peak_mb < case["bounds"]["max_rss_mb"], f"peak RSS {peak_mb:.0f} MB"
    if code != 0:
        assert case["error"] in stderr and "Traceback" not in stderr
