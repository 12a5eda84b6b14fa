"""The pytest kit's fixtures, opt-in: ``pytest_plugins = ["provisioner_core.testing"]`` in a conftest.

Every fixture is named ``provisioner_*`` so nothing collides with a project's own fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner_core.plugins.manager import PluginInfo, PluginRegistry
from provisioner_core.results import Outcome
from provisioner_core.testing.kit import CliRunner, StackTree


@pytest.fixture
def provisioner_registry() -> PluginRegistry:
    """An isolated registry: core's built-ins only (no entry points): register what a test needs."""
    return PluginRegistry(load_entrypoints=False, environ={}).load()


@pytest.fixture
def provisioner_register_plugin(provisioner_registry: PluginRegistry) -> Iterator[Callable[..., PluginInfo]]:
    """``register(plugin, name=None, distribution="test-plugin")``: add a plugin for this test only.

    ``plugin`` is a module or object with ``@hookimpl`` functions (e.g. what ``provisioner()``
    returns); ``name`` defaults to the module's or class's name. Returns its PluginInfo.
    """
    registered: list[Any] = []

    def register(plugin: Any, name: str | None = None, distribution: str = "test-plugin") -> PluginInfo:
        info = provisioner_registry.register(plugin, name=name, distribution=distribution, version="0.0.0")
        registered.append(plugin)
        return info

    yield register
    for plugin in registered:
        if provisioner_registry.pm.is_registered(plugin):
            provisioner_registry.pm.unregister(plugin)


@pytest.fixture
def provisioner_stack_tree(tmp_path: Path) -> StackTree:
    """An Atmos-style project in ``tmp_path/project``: ``atmos.yaml`` with stack names from ``vars.stage``.

    ``provisioner_stack_tree.stack("dev", {...})`` writes ``stacks/dev.yaml`` (the first argument is
    the file's path under ``stacks/`` without ``.yaml``, not the stack's name); files under
    ``stacks/catalog/`` and ``stacks/mixins/`` are importable but are not stacks.
    """
    return StackTree(tmp_path / "project")


@pytest.fixture
def provisioner_cli(provisioner_stack_tree: StackTree, provisioner_registry: PluginRegistry) -> CliRunner:
    """Runs ``provision`` for the stack tree with the isolated registry: ``provisioner_cli.run([...])``.

    ``run`` asserts exit code 0 unless given ``exit_code=N`` (``None``: no check).
    """
    return CliRunner(provisioner_stack_tree.root, provisioner_registry)


@pytest.fixture
def provisioner_run(provisioner_stack_tree: StackTree, provisioner_registry: PluginRegistry) -> Callable[..., list[Outcome]]:
    """``run(event, stack, component, dry_run=False)``: resolve a component of the stack tree and run one event's
    enabled provisioners in-process (no CLI): the list of Outcomes, or the error (EventFailed) raised."""
    from provisioner_core.session import Provisioning

    def run(event: str, stack: str, component: str, *, dry_run: bool = False) -> list[Outcome]:
        provisioning = Provisioning.from_path(None, provisioner_stack_tree.root, provisioner_registry)
        return provisioning.run_event(event, provisioning.component(stack, component), dry_run=dry_run)

    return run
