"""Fixtures: git repositories made in the test, a git call counter on PATH, a local HTTP server, projects.

The project and the CLI come from core's pytest kit (``provisioner_*`` fixtures, opted in by the root conftest).
"""

from __future__ import annotations

import sys

# pytest's importlib mode registers this folder's parent as an empty namespace package
# "provisioner_component"; put the installed package back (as the other distributions do).
if getattr(sys.modules.get("provisioner_component"), "__file__", None) is None:
    sys.modules.pop("provisioner_component", None)
    import provisioner_component  # noqa: F401

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner_component import plugin
from provisioner_core.testing import CliRunner, StackTree
from support.component_helpers import Engine, FileServer, GitCounter, GitRepo, module_tf

TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")


@pytest.fixture(scope="session")
def http_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    """A ThreadingHTTPServer on a free loopback port serving a temporary folder."""
    server = FileServer(tmp_path_factory.mktemp("served"))
    yield server
    server.stop()


@pytest.fixture
def served(http_files: FileServer) -> FileServer:
    http_files.requests.clear()
    return http_files


@pytest.fixture
def git_counter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitCounter:
    """Every git the engine runs goes through this wrapper (it is first on PATH)."""
    counter = GitCounter(tmp_path / "git-wrapper")
    monkeypatch.setenv("PATH", f"{counter.folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return counter


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A module repository with tags v1 and v2 (modules/vpc/main.tf outputs the version)."""
    repository = GitRepo(tmp_path / "upstream")
    repository.commit({"modules/vpc/main.tf": module_tf("v1"), "README.md": "vpc module\n", "modules/vpc/test/fixture.tf": "# test\n"}, "v1", tag="v1")
    repository.commit({"modules/vpc/main.tf": module_tf("v2")}, "v2", tag="v2")
    return repository


@pytest.fixture
def project(provisioner_stack_tree: StackTree) -> StackTree:
    """The kit's Atmos-style project (stack names from vars.stage), without stacks yet."""
    return provisioner_stack_tree


@pytest.fixture
def engine(project: StackTree) -> Engine:
    return Engine(project.root)


@pytest.fixture
def cli(provisioner_cli: CliRunner, provisioner_register_plugin: Any) -> CliRunner:
    """``provision`` in the project with core's built-ins and this distribution's plugin (as installed)."""
    info = provisioner_register_plugin(plugin.plugin, name="component", distribution="provisioner-component")
    assert info.status == "loaded", info.reason
    return provisioner_cli
