"""`provision --version`: core's version and plugin API, then each installed plugin distribution."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from provisioner_core import API_VERSION, __version__

FAKE_DIST = Path(__file__).parent / "fixtures" / "fake_dist"


def test_version_lists_core_and_every_installed_plugin_distribution(provision_cli):
    result = provision_cli.run(["--version"])

    lines = result.stdout.splitlines()
    assert lines[0] == f"provision {metadata.version('provisioner-core')} (provisioner-core, plugin API {API_VERSION})"
    assert __version__ == metadata.version("provisioner-core")
    listed = dict(line.split() for line in lines[2:])
    for name in ("provisioner-backend-s3", "provisioner-backend-gcs", "provisioner-backend-azurerm", "provisioner-backend-pg", "provisioner-env"):
        assert listed[name] == metadata.version(name)


def test_version_reads_metadata_only_so_a_broken_plugin_is_listed_not_imported():
    # fake-provisioners' `broken` entry point raises on import; --version must not import it.
    code = "import sys; from provisioner_core.cli.main import main; main(['--version']); "
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FAKE_DIST), *filter(None, [os.environ.get("PYTHONPATH")])])}
    run = subprocess.run([sys.executable, "-c", code + "\n"], capture_output=True, text=True, env=env, timeout=60)

    assert run.returncode == 0, run.stderr
    assert "  fake-provisioners 1.0" in run.stdout.splitlines()
    assert "  other-provisioners 2.0" in run.stdout.splitlines()
    assert "Traceback" not in run.stderr and "fake_broken_plugin" not in run.stdout + run.stderr
