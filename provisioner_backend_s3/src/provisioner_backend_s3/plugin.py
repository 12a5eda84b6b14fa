"""The ``backend-s3`` plugin: the provisioner (run at before.terraform.init and manual.provision),
the ``s3`` backend type and the ``aws`` credential providers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner_backend_s3.backend_type import S3_BACKEND
from provisioner_backend_s3.credentials import CREDENTIAL_PROVIDERS
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
    name="backend-s3",
    type="backend",
    events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION),
    description="Creates or strengthens the S3 state bucket (and DynamoDB lock table); never weakens what exists",
    backend_types=("s3",),
)


def run(component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache) -> ProvisionResult:
    # Imported here: provision pulls in the SDK-facing modules, which plugin listing must not pay for.
    from provisioner_backend_s3.config import parse_backend
    from provisioner_backend_s3.provision import provision

    parse_backend(component.backend)  # configuration errors first, before asking for credentials
    return provision(component.backend, options, auth.require("aws"), clients, dry_run=dry_run)


# The registered plugin (entry point "...plugin:plugin"): SPEC, with run at each of its events.
plugin = provisioner(SPEC, run, backend_types=(S3_BACKEND,), credential_providers=CREDENTIAL_PROVIDERS)
