"""Core's own commands, added to the CLI through ``register_commands`` like any plugin's."""

from __future__ import annotations

import click

from provisioner_core.hookspecs import hookimpl


@hookimpl
def register_commands(cli: click.Group) -> None:
    from provisioner_core.cli.commands import describe_command, list_group, plugins_command
    from provisioner_core.cli.schema_command import schema_command
    from provisioner_core.cli.terraform_command import terraform_group

    for command in (plugins_command, describe_command, list_group, schema_command, terraform_group):
        cli.add_command(command)
