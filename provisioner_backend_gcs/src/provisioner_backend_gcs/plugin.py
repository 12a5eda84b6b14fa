"""The ``backend-gcs`` provisioner: creates and secures the bucket of a Terraform gcs backend.

Enable it on a component with ``backend_type: gcs`` and ``provision: {backend: {enabled: true}}``.
This module imports no cloud SDK: google-cloud-storage loads only when the provisioner runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner_backend_gcs.backend_type import GCS_BACKEND
from provisioner_backend_gcs.credentials import CREDENTIAL_PROVIDERS
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
    name="backend-gcs",
    type="backend",
    events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION),
    description="Creates the GCS bucket of a gcs backend (versioning, uniform access, public access prevention, labels) and strengthens drift",
    backend_types=("gcs",),
)


def run(component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache) -> ProvisionResult:
    from provisioner_backend_gcs.provision import provision_backend

    return provision_backend(component.backend, auth, options, dry_run=dry_run, clients=clients)


# The registered plugin (entry point "...plugin:plugin"): SPEC at each of its events, the gcs backend type, the gcp credentials.
plugin = provisioner(SPEC, run, backend_types=(GCS_BACKEND,), credential_providers=CREDENTIAL_PROVIDERS)
