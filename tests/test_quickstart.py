"""The README's main command works: the quickstart walkthrough end to end (embedded moto, real terraform)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.terraform
ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_runs_end_to_end():
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart" / "run.py")],
        capture_output=True, text=True, timeout=240, env={**os.environ, "CHECKPOINT_DISABLE": "1"},
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "planned s3://acme-dev-tfstate" in out  # the dry run
    assert "versioning: Enabled" in out
    assert "object: app/dev/terraform.tfstate" in out  # terraform's state landed in the bucket
    assert "unchanged s3://acme-dev-tfstate" in out  # the second run changed nothing
    assert "No changes." in out
    assert "quickstart-local-secret" not in out
    assert "local S3 endpoint stopped" in out
