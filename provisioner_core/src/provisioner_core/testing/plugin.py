"""The pytest plugin (``pytest11`` entry point ``provisioner``): fixtures for plugin authors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner_core.plugins.manager import PluginInfo, PluginRegistry
from provisioner_core.testing.kit import CliRunner, StackTree


@pytest.fixture
def provisioner_registry() -> PluginRegistry:
    """An isolated registry: core's built-ins only, no entry points."""
    return PluginRegistry(load_entrypoints=False, environ={}).load()


@pytest.fixture
def register_plugin(provisioner_registry: PluginRegistry) -> Iterator[Callable[..., PluginInfo]]:
    """Register a plugin (module or object with ``@hookimpl`` functions) for this test only."""
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
def stack_tree(tmp_path: Path) -> StackTree:
    """An Atmos-style project in tmp_path (stack names from ``vars.stage``)."""
    return StackTree(tmp_path / "project")


@pytest.fixture
def provision_cli(stack_tree: StackTree, provisioner_registry: PluginRegistry) -> CliRunner:
    """Runs ``provision`` in the stack tree with the isolated registry."""
    return CliRunner(stack_tree.root, provisioner_registry)
