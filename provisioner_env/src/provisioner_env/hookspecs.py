"""The env hooks (``provision env``), added to core's plugin manager through ``register_hookspecs``.

Called once per command (not per component), with keyword arguments; all implementations
run, in pluggy's order; an exception stops the command and the error names the plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from provisioner_core import hookspec

if TYPE_CHECKING:
    from provisioner_core import Outcome, ProjectConfig
    from provisioner_env.plan import EnvironmentPlan


@hookspec
def before_env_create(plan: EnvironmentPlan, config: ProjectConfig) -> None:
    """Runs when ``provision env create`` has planned and checked everything, before any file is written.

    ``plan`` is the frozen EnvironmentPlan (``plan.source``, ``plan.target``, ``plan.files``,
    ``plan.placeholders``, ``plan.checklist``, ``plan.to_dict()``). Raise to stop: nothing is
    written. Not called for ``--dry-run``.
    """


@hookspec
def after_env_create(plan: EnvironmentPlan, config: ProjectConfig, written: Sequence[str], outcomes: Sequence[Outcome]) -> None:
    """Runs after the target's files are written (``written``: paths relative to the project root)
    and, with ``--provision``, its backends provisioned (``outcomes``; empty otherwise)."""


@hookspec
def before_env_destroy(target: str, config: ProjectConfig, files: Sequence[str], components: Sequence[str]) -> None:
    """Runs when ``provision env destroy TARGET --force`` is about to destroy: ``files`` it will remove,
    ``components`` (``stack/component`` or terraform folders) in destroy order. Raise to stop: nothing is destroyed."""


@hookspec
def after_env_destroy(target: str, config: ProjectConfig, removed: Sequence[str], leftovers: Sequence[str]) -> None:
    """Runs after terraform destroyed every component and the environment's files were removed;
    ``leftovers`` lists what may be left (state objects, buckets, external credentials to revoke)."""
