"""Helpers for the gcs backend tests: run the provisioner, arrange and read server state."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from provisioner_backend_gcs.credentials import GcpCredentials
from provisioner_backend_gcs.provision import provision_backend
from provisioner_core import AuthContext, ClientCache, ProvisionResult

ANONYMOUS = AuthContext({"gcp": GcpCredentials("anonymous")})


def backend_for(url: str, bucket: str, **extra: Any) -> dict[str, Any]:
    """A backend.gcs section as Terraform would take it, pointing at ``url``."""
    return {"bucket": bucket, "prefix": "dev/vpc", "storage_custom_endpoint": f"{url}/storage/v1/", **extra}


def run(
    url: str, bucket: str, options: dict[str, Any] | None = None, *, auth: AuthContext = ANONYMOUS, dry_run: bool = False,
    clients: ClientCache | None = None, backend: dict[str, Any] | None = None,
) -> ProvisionResult:
    """Run the provisioner as the hook would, with project/location set unless overridden."""
    opts = {"enabled": True, "project": "test-project", "location": "US", "attempts": 2, **(options or {})}
    opts = {k: v for k, v in opts.items() if v is not None}
    return provision_backend(backend or backend_for(url, bucket), auth, opts, dry_run=dry_run, clients=clients)


def sdk_client(url: str) -> Any:
    """An independent SDK client for arranging and asserting server state (not the code under test)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project="test-project", credentials=AnonymousCredentials(), client_options={"api_endpoint": url})


def raw_bucket(url: str, name: str) -> dict[str, Any]:
    """The bucket resource exactly as the server returns it over HTTP."""
    with urllib.request.urlopen(f"{url}/storage/v1/b/{name}", timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())
