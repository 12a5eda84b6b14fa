"""Per-invocation CLI state: options, console, and the lazily built Provisioning."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner_core.cli.console import Console
from provisioner_core.interrupts import Stop
from provisioner_core.plugins.manager import PluginRegistry
from provisioner_core.session import Provisioning


class CliState:
    def __init__(self, config: str | None, debug: bool, registry: PluginRegistry | None = None, *, cwd: Path | None = None) -> None:
        self.config = config
        self.debug = debug
        self.cwd = cwd  # where the project is looked for (default: the working directory)
        self.console = Console()
        self.stop = Stop()  # requested by the signal handlers main() installs
        self._registry = registry
        self._provisioning: Provisioning | None = None
        self.commands: dict[str, click.Command] | None = None  # what the plugins registered, once per run

    @property
    def registry(self) -> PluginRegistry:
        if self._registry is None:
            self._registry = PluginRegistry()
        return self._registry

    @property
    def provisioning(self) -> Provisioning:
        if self._provisioning is None:
            self._provisioning = Provisioning.from_path(self.config, self.cwd or Path.cwd(), self.registry, stop=self.stop)
            # Output redaction learns every secret the run sees; configuration warnings go to stderr.
            self.console.redactor = self._provisioning.redactor
            self._provisioning.warn = self.console.warn
        return self._provisioning
