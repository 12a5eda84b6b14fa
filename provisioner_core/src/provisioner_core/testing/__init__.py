"""A pytest kit for plugin authors (loaded automatically through the ``pytest11`` entry point).

Fixtures:

* ``provisioner_registry`` — an isolated PluginRegistry (built-ins only, no entry points);
* ``register_plugin`` — ``register_plugin(module_or_object, name=...)`` for one test;
* ``stack_tree`` — a StackTree builder in ``tmp_path``: ``stack_tree.stack("dev", {...})``;
* ``provision_cli`` — runs the CLI in-process: ``provision_cli.run([...], exit_code=0)``.

Nothing here imports a cloud SDK.
"""

from provisioner_core.testing.kit import CliResult, CliRunner, StackTree

__all__ = ["CliResult", "CliRunner", "StackTree"]
