"""The pluggy hooks of ``backend-s3``: declaration and the two lifecycle events it serves."""

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
    name="backend-s3",
    type="backend",
    events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION),
    description="Creates or strengthens the S3 state bucket (and DynamoDB lock table); never weakens what exists",
    backend_types=("s3",),
)


@hookimpl
def register_provisioner() -> ProvisionerSpec:
    return SPEC


def _provision(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache
) -> ProvisionResult:
    # Imported here: provision pulls in the SDK-facing modules, which plugin listing must not pay for.
    from provisioner_backend_s3.config import parse_backend
    from provisioner_backend_s3.provision import provision

    parse_backend(component.backend)  # configuration errors first, before asking for credentials
    return provision(component.backend, options, auth.require("aws"), clients, dry_run=dry_run)


@hookimpl
def before_terraform_init(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache
) -> ProvisionResult:
    return _provision(component, auth, options, dry_run, clients)


@hookimpl
def manual_provision(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache
) -> ProvisionResult:
    return _provision(component, auth, options, dry_run, clients)
