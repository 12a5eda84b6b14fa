"""Helpers for the Azure backend tests: a resolved component and an AuthContext, built in code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner_backend_azure.credentials import AzureCredentials
from provisioner_core import AuthContext, ResolvedComponent


def make_component(backend: Mapping[str, Any], options: Mapping[str, Any] | None = None, name: str = "vpc") -> ResolvedComponent:
    """A component with ``backend_type: azurerm`` and ``provision.backend.enabled: true`` plus ``options``."""
    return ResolvedComponent(
        stack="dev",
        name=name,
        terraform_component=name,
        backend_type="azurerm",
        backend=dict(backend),
        backends={"azurerm": dict(backend)},
        provision={"backend": {"enabled": True, **dict(options or {})}},
    )


def connection_auth(connection_string: str) -> AuthContext:
    return AuthContext({"azure": AzureCredentials("connection-string", connection_string=connection_string)})


def principal_auth(subscription_id: str | None = None) -> AuthContext:
    """Service-principal credentials (the tests seed a static token instead of signing in)."""
    return AuthContext(
        {
            "azure": AzureCredentials(
                "service-principal",
                tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
                client_id="11111111-2222-3333-4444-555555555555",
                client_secret="not-a-real-secret-value",
                subscription_id=subscription_id,
            )
        }
    )
