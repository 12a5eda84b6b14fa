"""The documented third-party example (examples/provisioner-hello) passes its own tests with the kit."""

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "provisioner-hello"


def test_example_distribution_tests_pass():
    env = {**os.environ, "PYTHONPATH": str(EXAMPLE / "src")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(EXAMPLE), str(EXAMPLE / "tests")],
        capture_output=True, text=True, env=env, cwd=EXAMPLE,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout
