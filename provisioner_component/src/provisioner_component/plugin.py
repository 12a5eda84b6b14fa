"""The ``component`` provisioner: its declaration, and the thin wiring of the engine to core's API.

Runs at ``before.component.load`` (inside ``provision terraform``) and ``manual.provision``
(``provision component <component> -s <stack>``). A second plugin object, ``git_auth``,
builds ``auth.providers.git`` credentials through core's ``resolve_credentials`` hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provisioner_core import (
    BEFORE_COMPONENT_LOAD,
    MANUAL_PROVISION,
    AuthContext,
    ClientCache,
    ProvisionerSpec,
    ProvisionResult,
    ResolvedComponent,
    Status,
    hookimpl,
    provisioner,
)

SPEC = ProvisionerSpec(
    name="component",
    type="component",
    events=(BEFORE_COMPONENT_LOAD, MANUAL_PROVISION),
    description="Vendors the component's Terraform source (git, archive, local folder) into a per-stack working folder, pinned by a lock file",
)


def project_root() -> Path:
    """Core does not pass the project root to provisioners yet: the CLI runs from it (no upward search)."""
    return Path.cwd()


def run(component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache) -> ProvisionResult:
    # Imported here: listing plugins must not pay for the engine.
    from provisioner_component.config import resolve_source
    from provisioner_component.credentials import GitCredentials
    from provisioner_component.sources import Fetcher
    from provisioner_component.vendor import Vendorer
    from provisioner_component.workdir import Layout

    # Atmos's component-level `source:` is not on ResolvedComponent yet: only provision.component is read.
    source = resolve_source(options)
    if source is None:
        return ProvisionResult(status=Status.SKIPPED, resource=f"{component.stack}/{component.name}", details={"reason": "vendor: false"})
    root = project_root()
    credentials = auth.providers.get("git")
    git_credentials = credentials if isinstance(credentials, GitCredentials) else None
    # One fetcher per run and identity: components sharing a source fetch it once (provision component --all).
    key = ("component-fetcher", str(root), git_credentials.fingerprint() if git_credentials else "")
    fetcher = clients.get(key, lambda: Fetcher(Layout(root), git_credentials=git_credentials))
    vendorer = Vendorer(root, fetcher=fetcher)
    return vendorer.vendor(vendorer.target(component.stack, component.name), source, dry_run=dry_run)


# The registered plugin (entry point "...plugin:plugin"): SPEC, with run at each of its events.
plugin = provisioner(SPEC, run)


class _GitAuth:
    """``auth.providers.git`` (type ``token`` or ``ssh-key``): credentials for private git sources."""

    @staticmethod
    @hookimpl
    def resolve_credentials(cloud: str, provider_type: str, settings: Mapping[str, Any]) -> Any:
        if cloud != "git":
            return None
        from provisioner_component.credentials import git_credentials

        return git_credentials(provider_type, settings)


# Entry point "...plugin:git_auth".
git_auth = _GitAuth()
