"""The ``backend-azurerm`` provisioner: registered through the ``provisioner`` entry point.

Importing this module imports no Azure SDK (listing plugins stays fast); the work is in
:mod:`provisioner_backend_azure.provision`, loaded when a hook runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner_core import (
    BEFORE_TERRAFORM_INIT,
    MANUAL_PROVISION,
    AuthContext,
    ClientCache,
    ProvisionerSpec,
    ProvisionResult,
    ResolvedComponent,
    hookimpl,
)

SPEC = ProvisionerSpec(
    name="backend-azurerm",
    type="backend",
    events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION),
    description="Azure Blob state backend: private container, soft delete, and (with [mgmt]) a hardened StorageV2 account",
    backend_types=("azurerm",),
)


@hookimpl
def register_provisioner() -> ProvisionerSpec:
    return SPEC


def _provision(component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache) -> ProvisionResult:
    from provisioner_backend_azure.provision import provision

    return provision(component, auth, options, dry_run, clients)


@hookimpl
def before_terraform_init(component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache) -> ProvisionResult:
    return _provision(component, auth, options, dry_run, clients)


@hookimpl
def manual_provision(component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache) -> ProvisionResult:
    return _provision(component, auth, options, dry_run, clients)
