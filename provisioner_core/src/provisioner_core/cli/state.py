"""Per-invocation CLI state: options, console, and the lazily built Provisioning."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import click

from provisioner_core.cli.console import Console
from provisioner_core.interrupts import Stop
from provisioner_core.plugins.manager import PluginRegistry
from provisioner_core.session import Provisioning

CONFIG_ENV = "PROVISIONER_CONFIG"


def project_source(config: str | None, environ: Mapping[str, str]) -> str | None:
    """The config file: ``--config`` > ``PROVISIONER_CONFIG``; None lets the loader read Atmos's
    ``ATMOS_CLI_CONFIG_PATH``/``ATMOS_BASE_PATH``, then search (a file chosen for us is never
    combined with a base path chosen for Atmos: the loader reads them only without a config)."""
    return config or environ.get(CONFIG_ENV) or None


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
        self.output = "text"  # the command's -o, known before its other options are checked (the error envelope)

    @property
    def registry(self) -> PluginRegistry:
        if self._registry is None:
            self._registry = PluginRegistry()
        return self._registry

    @property
    def provisioning(self) -> Provisioning:
        if self._provisioning is None:
            self.config = project_source(self.config, os.environ)
            self._provisioning = Provisioning.from_path(self.config, self.cwd or Path.cwd(), self.registry, stop=self.stop)
            # Output redaction learns every secret the run sees; configuration warnings go to stderr.
            self.console.redactor = self._provisioning.redactor
            self._provisioning.warn = self.console.warn
        return self._provisioning
