"""The ``component`` provisioner on core's plugin contract: its declaration, options and registrations.

One plugin object (entry point ``component = "provisioner_component.plugin:plugin"``) registers:

* the provisioner (type ``component``) at ``before.component.load`` (inside ``provision
  terraform``: it returns the vendored folder as ``ProvisionResult.workdir``, where terraform
  then runs) and ``manual.provision``; its options are :class:`ComponentOptions`, checked by
  core before anything runs; it is safe to run for many components at once (``PARALLEL``);
* the ``source`` component section (Atmos's), which enables the provisioner by itself;
* the ``auth.providers.git`` credential providers (``token``, ``ssh-key``);
* the ``provision component`` command group (``pull``, ``list``, ``describe``, ``delete``).

Only this module and ``cli`` know core's plugin API; listing plugins imports neither the engine
nor the command module.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click
from attrs import frozen

from provisioner_core import (
    BEFORE_COMPONENT_LOAD,
    MANUAL_PROVISION,
    AuthContext,
    ClientCache,
    ComponentSection,
    Concurrency,
    CredentialProvider,
    Credentials,
    ProvisionerSpec,
    ProvisionResult,
    ResolvedComponent,
    Status,
    option,
    provisioner,
)

if TYPE_CHECKING:
    from provisioner_component.credentials import GitCredentials
    from provisioner_component.vendor import Vendorer

TYPE = "component"
SECTION = "source"

# `provision component … --force`: set by the command, read by the run (core copies the context into the run's thread).
FORCE: contextvars.ContextVar[bool] = contextvars.ContextVar("provisioner_component_force", default=False)


@frozen
class RetryOptions:
    """``retry``: network failures (exit 5) only; the delay doubles up to ``max_delay``."""

    max_attempts: int = option(1, description="attempts in all (1-20)")
    initial_delay: str | None = option(None, description="the first pause, e.g. 2s (default 2s)")
    max_delay: str | None = option(None, description="the longest pause, e.g. 30s (default 30s)")
    # Atmos's backoff settings: accepted so Atmos configurations load, ignored with a warning.
    backoff_strategy: Any = option(None, description="Atmos's; accepted and ignored (the delay doubles)")
    multiplier: Any = option(None, description="Atmos's; accepted and ignored")
    random_jitter: Any = option(None, description="Atmos's; accepted and ignored")
    max_elapsed_time: Any = option(None, description="Atmos's; accepted and ignored")


@frozen
class ComponentOptions:
    """``provision.component`` (``enabled`` and ``timeout`` are core's)."""

    source: Any = option(
        None,
        description="what to vendor: a go-getter address (git::https://host/repo.git//sub?ref=v1, ./folder, https://host/x.tar.gz) "
        "or a mapping {uri, version, type, included_paths, excluded_paths, ttl, retry}; else the component's source: section",
    )
    vendor: bool = option(True, description="the PRD's switch: false vendors nothing (status skipped)")
    checksum: str | None = option(None, description="sha256:<hex> of an archive (archives only)")
    # Lists are typed Any: the engine checks them (a lone string is one pattern, never its characters).
    included_paths: Any = option(None, description="globs of the files to vendor, relative to the subfolder; '!glob' excludes")
    excluded_paths: Any = option(None, description="globs of the files not to vendor (applied after included_paths)")
    ttl: str | None = option(None, description="re-resolve the ref when the lock entry is older: 0s, 30m, 1h30m, 7d, daily, weekly")
    max_size: Any = option(None, description="archives: the most the download and the unpacked files may each take: 100MiB, 1GB or bytes (default 512MiB)")
    retry: RetryOptions | None = option(None, description="network retries: {max_attempts, initial_delay, max_delay}")


SPEC = ProvisionerSpec(
    name="component",
    type=TYPE,
    events=(BEFORE_COMPONENT_LOAD, MANUAL_PROVISION),
    description="Vendors the component's Terraform source (git, archive, local folder) into a per-stack working folder, pinned by a lock file",
    options=ComponentOptions,
    # Safe for concurrent runs in one process: one fetch per source (a lock per source), the lock file behind a lock.
    concurrency=Concurrency.PARALLEL,
)

SOURCE_SECTION = ComponentSection(
    SECTION,
    "Atmos's component source: a go-getter address, or {uri, version, included_paths, excluded_paths, type, ttl, retry}; vendored by the component provisioner",
    enables=TYPE,
)


def options_mapping(options: ComponentOptions | Mapping[str, Any]) -> dict[str, Any]:
    """The options as the engine reads them (a mapping without the unset ones)."""
    if isinstance(options, Mapping):
        return dict(options)
    data = attrs.asdict(options, recurse=True)
    if data.get("retry") is not None:
        data["retry"] = {k: v for k, v in data["retry"].items() if v is not None}
    return {k: v for k, v in data.items() if v is not None}


def git_credentials(auth: AuthContext) -> GitCredentials | None:
    from provisioner_component.credentials import GitCredentials

    found = auth.get("git")
    return found if isinstance(found, GitCredentials) else None


def vendorer(clients: ClientCache, root: Path, credentials: GitCredentials | None) -> Vendorer:
    """The run's engine for one project and one set of git credentials (shared: each source is fetched once per run)."""
    from provisioner_component.sources import Fetcher
    from provisioner_component.vendor import Vendorer
    from provisioner_component.workdir import Layout

    key = ("provisioner-component", str(root), credentials.fingerprint() if credentials else "")
    return clients.get(key, lambda: Vendorer(root, fetcher=Fetcher(Layout(root), git_credentials=credentials)))


def run(component: ResolvedComponent, auth: AuthContext, options: ComponentOptions, dry_run: bool, clients: ClientCache, project_root: Path) -> ProvisionResult:
    # Imported here: listing plugins must not pay for the engine.
    from provisioner_component.config import resolve_source

    source = resolve_source(options_mapping(options), component.plugin_sections.get(SECTION))
    if source is None:
        return ProvisionResult(status=Status.SKIPPED, resource=f"{component.stack}/{component.name}", details={"reason": "vendor: false"})
    engine = vendorer(clients, project_root, git_credentials(auth))
    return engine.vendor(engine.target(component.stack, component.name), source, dry_run=dry_run, force=FORCE.get())


def _git_provider(provider_type: str) -> Any:
    def build(settings: Mapping[str, Any]) -> Credentials:
        from provisioner_component.credentials import git_credentials as build_git

        return build_git(provider_type, settings)

    return build


GIT_PROVIDERS = (
    CredentialProvider(
        "git", "token", _git_provider("token"),
        description="an https token for private git sources, sent as an HTTP header (never on a command line)",
        example="auth:\n  providers:\n    git:\n      type: token\n      token_env: GITHUB_TOKEN\n      hosts: [github.com]",
    ),
    CredentialProvider(
        "git", "ssh-key", _git_provider("ssh-key"), required=("key_file",),
        description="a private key for git@ / ssh:// sources your SSH agent does not hold",
        example="auth:\n  providers:\n    git:\n      type: ssh-key\n      key_file: ~/.ssh/deploy_key",
    ),
)  # fmt: skip


def add_commands(cli: click.Group) -> None:
    from provisioner_component.cli import component_commands

    cli.add_command(component_commands)


# The registered plugin (entry point "...plugin:plugin").
plugin = provisioner(SPEC, run, credential_providers=GIT_PROVIDERS, sections=(SOURCE_SECTION,), commands=add_commands, requires_api="1.1")
