"""The env hooks (``provision env``), added to core's plugin manager through ``register_hookspecs``.

Lifecycle hooks (``before_/after_env_create``, ``before_/after_env_destroy``) are called once
per command (not per component), with keyword arguments; all implementations run, in pluggy's
order; an exception stops the command and the error names the plugin.

Secrets hooks let a secrets plugin (Doppler, Vault, SSM, a CI store) own the target's
isolated secrets, which env never writes to a file (docs/environments.md, "Secrets")::

    from provisioner_core import hookimpl
    from provisioner_env.secrets import SecretStored

    class DopplerSecrets:
        @hookimpl
        def env_secrets_create(environment, source, references, config):
            stored = []
            for ref in references:  # ref.variable, ref.key, ref.hint, ref.credential
                create_entry(environment, ref.variable)     # an empty entry to fill, or a generated password
                stored.append(SecretStored(ref.variable, f"doppler config {environment}"))
            return stored

        @hookimpl
        def env_secret_value(environment, reference, config):
            return read_entry(environment, reference.variable)  # None: not stored here

        @hookimpl
        def env_secrets_delete(environment, references, config):
            return [delete_entry(environment, ref.variable) for ref in references]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from provisioner_core import hookspec

if TYPE_CHECKING:
    from provisioner_core import Outcome, ProjectConfig
    from provisioner_env.plan import EnvironmentPlan
    from provisioner_env.secrets import SecretReference, SecretStored


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


@hookspec
def env_secrets_create(environment: str, source: str, references: Sequence[SecretReference], config: ProjectConfig) -> Sequence[SecretStored] | None:
    """Runs after ``provision env create`` wrote the target's files (before ``after_env_create``; not for ``--dry-run``).

    ``references``: the target's isolated secrets, each written as a reference to an environment
    variable (``reference.variable``: ``TF_VAR_<name>`` or the ``!env`` name; ``.key``, ``.hint``,
    ``.credential``: a credential of an external service to issue anew). Create or register them
    in your store, never copying the source's values. Return a ``SecretStored`` for each one you
    took (the checklist then names your store instead of asking for the variable); all
    implementations run.
    """


@hookspec(firstresult=True)
def env_secret_value(environment: str, reference: SecretReference, config: ProjectConfig) -> str | None:
    """The value of one of ``environment``'s secrets, or None when your store does not have it.

    Asked when the variable is not set in env's own environment: for the terraform runs env
    makes (``env destroy``, ``verify --live --plan``: passed as that variable, never written)
    and by ``verify --live``'s ``secret-set`` check. The first non-None answer wins.
    """


@hookspec
def env_secrets_delete(environment: str, references: Sequence[SecretReference], config: ProjectConfig) -> Sequence[str] | None:
    """Runs after ``provision env destroy`` destroyed ``environment`` (before ``after_env_destroy``).

    ``references``: the secrets its files referenced (var-file reference comments and ``!env``
    tags). Delete them from your store and return the variables you deleted; the ones nobody
    deleted are reported as leftovers to revoke. All implementations run.
    """
