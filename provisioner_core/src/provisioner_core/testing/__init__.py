"""A pytest kit for plugin authors (``pip install provisioner-core[testing]``).

Opt in from a ``conftest.py``::

    pytest_plugins = ["provisioner_core.testing"]

Fixtures (all named ``provisioner_*``):

* ``provisioner_registry`` — an isolated PluginRegistry (core's built-ins only, no entry points);
* ``provisioner_register_plugin`` — ``register(plugin, name=None)`` for one test;
* ``provisioner_stack_tree`` — a StackTree in ``tmp_path``: ``.stack("dev", {...})``, ``.component("app")``;
* ``provisioner_cli`` — runs ``provision`` in-process: ``.run([...], exit_code=0)``;
* ``provisioner_run`` — runs one event for one component without the CLI.

Nothing here imports a cloud SDK.
"""

from provisioner_core.testing.kit import CliResult, CliRunner, StackTree
from provisioner_core.testing.plugin import (
    provisioner_cli,
    provisioner_register_plugin,
    provisioner_registry,
    provisioner_run,
    provisioner_stack_tree,
)

__all__ = [
    "CliResult",
    "CliRunner",
    "StackTree",
    "provisioner_cli",
    "provisioner_register_plugin",
    "provisioner_registry",
    "provisioner_run",
    "provisioner_stack_tree",
]
