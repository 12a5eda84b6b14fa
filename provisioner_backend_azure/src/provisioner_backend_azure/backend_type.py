"""What core must know about ``backend_type: azurerm``, registered as a :class:`BackendType`.

terraform's azurerm backend appends ``env:<workspace>`` to the blob name outside the default
workspace; Atmos fills ``key`` as ``[<stack-level key>/]<component>.terraform.tfstate``.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from provisioner_core import DEFAULT_WORKSPACE, AuthContext, BackendType, ClientCache, DefaultsContext, NameRule, ResolvedComponent


def _defaults(backend: MutableMapping[str, Any], ctx: DefaultsContext) -> None:
    if isinstance(ctx.own_backend.get("key"), str):
        return  # the component wrote its own key
    existing = backend.get("key")
    global_key = ctx.global_backend.get("key")
    if isinstance(existing, str) and existing and (not isinstance(global_key, str) or global_key != existing):
        return  # a key authored by an inherited component: kept (Atmos shouldPreserveAuthoredKey)
    parts = [global_key] if isinstance(global_key, str) else []
    backend["key"] = "/".join([*parts, f"{ctx.prefix}.terraform.tfstate"])


def state_object(backend: Mapping[str, Any], workspace: str) -> str:
    key = str(backend.get("key") or "")
    return key if workspace == DEFAULT_WORKSPACE else f"{key}env:{workspace}"


def read_state(component: ResolvedComponent, auth: AuthContext, clients: ClientCache) -> bytes | None:
    """The component's state blob, read with the AuthContext's credentials (None: no blob)."""
    from provisioner_backend_azure.provision import read_blob

    return read_blob(component, auth, state_object(component.backend, component.workspace), clients)


def auth_from_settings(backend: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``backend.azurerm``'s own credentials as an ``azure`` provider: an account key, a SAS token, else a service principal."""
    account = backend.get("storage_account_name")
    if backend.get("access_key") and account:
        return {"azure": {"type": "account-key", "account_name": account, "account_key": backend["access_key"]}}
    if backend.get("sas_token") and account:
        return {"azure": {"type": "sas", "account_name": account, "sas_token": backend["sas_token"]}}
    if all(backend.get(k) for k in ("tenant_id", "client_id", "client_secret")):
        principal = {"type": "service-principal", **{k: backend[k] for k in ("tenant_id", "client_id", "client_secret")}}
        if backend.get("subscription_id"):
            principal["subscription_id"] = backend["subscription_id"]
        return {"azure": principal}
    return {}


_LOWER_HYPHENS = r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*"
AZURERM_BACKEND = BackendType(
    "azurerm",
    scheme="azurerm://",
    address_keys=("storage_account_name", "container_name"),
    identity_keys=("storage_account_name", "container_name", "endpoint"),
    location_keys=("key",),
    state_object=state_object,
    apply_defaults=_defaults,
    # Credentials written in the backend section reach terraform through its environment, never the file.
    secret_env={"access_key": "ARM_ACCESS_KEY", "sas_token": "ARM_SAS_TOKEN", "client_secret": "ARM_CLIENT_SECRET"},
    name_rules={
        "storage_account_name": NameRule(24, 3, r"[a-z0-9]+", "lowercase letters and digits only", "azurerm_storage_account"),
        "container_name": NameRule(63, 3, _LOWER_HYPHENS, "lowercase letters, digits and single hyphens", "azurerm_storage_container"),
        "resource_group_name": NameRule(90, 1, r"[\w().-]*[\w()-]", "letters, digits and _-.(); no trailing dot", "azurerm_resource_group"),
    },
    read_state=read_state,
    description="terraform's azurerm backend: a blob container in a storage account",
    auth_from_settings=lambda backend: auth_from_settings(backend),
)
