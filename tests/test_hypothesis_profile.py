"""Property tests must not flake on a loaded 2-core CI machine (issue 16: FailedHealthCheck too_slow)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_ci_profile_has_no_deadline_no_too_slow_check_and_is_derandomized():
    ci = settings.get_profile("ci")
    assert ci.deadline is None
    assert HealthCheck.too_slow in ci.suppress_health_check
    assert ci.derandomize is True and ci.database is None


def test_the_dev_profile_has_the_same_timing_rules():
    dev = settings.get_profile("dev")
    assert dev.deadline is None and HealthCheck.too_slow in dev.suppress_health_check


def test_scripts_test_selects_the_ci_profile():
    assert "HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-ci}" in (ROOT / "scripts" / "test").read_text()


def test_ci_in_the_environment_selects_the_ci_profile():
    code = "import conftest\nfrom hypothesis import settings\nprint(settings.default.derandomize, settings.default.deadline)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={"CI": "true", "PATH": ""}, capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["True", "None"]
