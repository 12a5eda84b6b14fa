"""The ``backend-azurerm`` provisioner: registered through the ``provisioner`` entry point.

Importing this module imports no Azure SDK (listing plugins stays fast); the work is in
:mod:`provisioner_backend_azure.provision`, loaded when the provisioner runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner_backend_azure.backend_type import AZURERM_BACKEND
from provisioner_backend_azure.credentials import CREDENTIAL_PROVIDERS
from provisioner_core import (
    BEFORE_TERRAFORM_INIT,
    MANUAL_PROVISION,
    AuthContext,
    ClientCache,
    ProvisionerSpec,
    ProvisionResult,
    ResolvedComponent,
    provisioner,
)

SPEC = ProvisionerSpec(
    name="backend-azurerm",
    type="backend",
    events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION),
    description="Azure Blob state backend: private container, soft delete, and (with [mgmt]) a hardened StorageV2 account",
    backend_types=("azurerm",),
)


def run(component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache) -> ProvisionResult:
    from provisioner_backend_azure.provision import provision

    return provision(component, auth, options, dry_run, clients)


# The registered plugin (entry point "...plugin:plugin"): SPEC at each of its events, the azurerm backend type, the azure credentials.
plugin = provisioner(SPEC, run, backend_types=(AZURERM_BACKEND,), credential_providers=CREDENTIAL_PROVIDERS)
