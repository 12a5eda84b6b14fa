"""Per-invocation CLI state: options, console, and the lazily built Provisioning."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import click

from provisioner_core.cli.console import Console
from provisioner_core.errors import ConfigError
from provisioner_core.interrupts import Stop
from provisioner_core.plugins.manager import PluginRegistry
from provisioner_core.session import Provisioning
from provisioner_core.stacks.config import find_config

CONFIG_ENV = "PROVISIONER_CONFIG"
ATMOS_CONFIG_DIR_ENV = "ATMOS_CLI_CONFIG_PATH"  # Atmos's: the folder holding atmos.yaml
ATMOS_BASE_PATH_ENV = "ATMOS_BASE_PATH"  # Atmos's: replaces atmos.yaml's base_path (relative to the working directory)


def project_source(config: str | None, environ: Mapping[str, str], cwd: Path) -> tuple[str | None, str | None]:
    """The config file and base-path override: ``--config`` > ``PROVISIONER_CONFIG`` > the ``ATMOS_*`` variables.

    The ATMOS_* pair is read only when neither of ours is set: mixing them would pick a file for
    one tool and a base path for another.
    """
    if config or environ.get(CONFIG_ENV):
        return config or environ[CONFIG_ENV], None
    base_path = environ.get(ATMOS_BASE_PATH_ENV) or None
    folder = environ.get(ATMOS_CONFIG_DIR_ENV)
    if not folder:
        return None, base_path
    found = find_config(cwd / folder)
    if found is None:
        raise ConfigError(
            f"{ATMOS_CONFIG_DIR_ENV}={folder}: no atmos.yaml or provisioner.yaml in that folder",
            hint=f"Set {ATMOS_CONFIG_DIR_ENV} to the folder that holds atmos.yaml (not the file), or pass --config.",
        )
    return str(found), base_path


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
        self.base_path: str | None = None  # ATMOS_BASE_PATH, when the project comes from the ATMOS_* variables

    @property
    def registry(self) -> PluginRegistry:
        if self._registry is None:
            self._registry = PluginRegistry()
        return self._registry

    @property
    def provisioning(self) -> Provisioning:
        if self._provisioning is None:
            self.config, self.base_path = project_source(self.config, os.environ, self.cwd or Path.cwd())
            self._provisioning = Provisioning.from_path(self.config, self.cwd or Path.cwd(), self.registry, stop=self.stop, base_path=self.base_path)
            # Output redaction learns every secret the run sees; configuration warnings go to stderr.
            self.console.redactor = self._provisioning.redactor
            self._provisioning.warn = self.console.warn
        return self._provisioning
