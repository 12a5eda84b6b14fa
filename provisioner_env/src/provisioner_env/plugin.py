"""The ``env`` plugin: the ``provision env`` commands, the env hooks, and the placeholder check.

Registered in core's ``provisioner`` entry-point group like any third-party plugin; without
this distribution installed, ``provision`` has no ``env`` command.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import click

from provisioner_core import ProjectConfig, ResolvedComponent, hookimpl


@hookimpl
def register_commands(cli: click.Group) -> None:
    from provisioner_env.cli import env_group

    cli.add_command(env_group)


@hookimpl
def register_hookspecs() -> Sequence[ModuleType]:
    from provisioner_env import hookspecs

    return (hookspecs,)


@hookimpl
def validate_component(component: ResolvedComponent, project: ProjectConfig) -> None:
    """Nothing runs while a ``REQUIRED:`` placeholder written by ``provision env create`` is left."""
    from provisioner_env.placeholders import refuse_placeholders

    refuse_placeholders(component)
