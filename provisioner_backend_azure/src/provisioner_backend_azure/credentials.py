"""Azure credentials (``auth.providers.azure``), registered with core as credential providers.

Types: ``connection-string``, ``account-key``, ``service-principal``, ``sas``, ``azure-cli``.
No SDK import here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from provisioner_core import CredentialProvider

AZURE = "azure"
EXAMPLE = "auth:\n  providers:\n    azure:\n      type: service-principal\n      tenant_id: ...\n      client_id: ...\n      client_secret: ..."
# What terraform must not inherit from the shell once these credentials are handed to it.
AMBIENT_ENV = ("ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_TENANT_ID", "ARM_ACCESS_KEY", "ARM_SAS_TOKEN", "ARM_USE_CLI", "ARM_USE_MSI", "ARM_USE_OIDC", "ARM_CLIENT_CERTIFICATE_PATH")


@frozen
class AzureCredentials:
    """``method``: ``connection-string``, ``account-key``, ``service-principal``, ``sas`` or ``azure-cli``."""

    method: str
    connection_string: str | None = field(default=None, repr=False)
    account_name: str | None = None
    account_key: str | None = field(default=None, repr=False)
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    sas_token: str | None = field(default=None, repr=False)
    subscription_id: str | None = None
    blob_endpoint: str | None = None  # for account-key/sas against Azurite or a private endpoint

    def secrets(self) -> tuple[str, ...]:
        found = [s for s in (self.connection_string, self.account_key, self.client_secret, self.sas_token) if s]
        # The key inside a connection string is a secret on its own too.
        for part in (self.connection_string or "").split(";"):
            name, _, value = part.partition("=")
            if name.strip().lower() in {"accountkey", "sharedaccesssignature"} and value:
                found.append(value)
        return tuple(found)

    def fingerprint(self) -> str:
        parts = (self.method, self.connection_string, self.account_name, self.account_key, self.client_id, self.client_secret, self.sas_token)
        return hashlib.sha256("\0".join(p or "" for p in parts).encode()).hexdigest()[:16]

    def terraform_env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        if self.subscription_id:
            env["ARM_SUBSCRIPTION_ID"] = self.subscription_id
        if self.method == "service-principal":
            env.update(ARM_TENANT_ID=self.tenant_id or "", ARM_CLIENT_ID=self.client_id or "", ARM_CLIENT_SECRET=self.client_secret or "")
        elif self.method == "account-key":
            env["ARM_ACCESS_KEY"] = self.account_key or ""
        elif self.method == "connection-string":
            key = self.connection_setting("AccountKey")
            sas = self.connection_setting("SharedAccessSignature")
            if key:
                env["ARM_ACCESS_KEY"] = key
            elif sas:
                env["ARM_SAS_TOKEN"] = sas
        elif self.method == "sas":
            env["ARM_SAS_TOKEN"] = self.sas_token or ""
        elif self.method == "azure-cli":
            env["ARM_USE_CLI"] = "true"
        return env

    def connection_setting(self, name: str) -> str | None:
        """One ``Name=value`` setting of the connection string, e.g. ``BlobEndpoint``.

        ``BlobEndpoint`` falls back to ``blob_endpoint`` so account-key and sas credentials can
        reach Azurite or a private endpoint too.
        """
        for part in (self.connection_string or "").split(";"):
            key, _, value = part.partition("=")
            if key.strip().lower() == name.lower():
                return value.strip()
        if name.lower() == "blobendpoint":
            return self.blob_endpoint
        return None


def _builder(method: str) -> Any:
    def build(settings: Mapping[str, Any]) -> AzureCredentials:
        get = lambda key: None if settings.get(key) is None else str(settings[key])  # noqa: E731 - a short local reader
        return AzureCredentials(
            method,
            connection_string=get("connection_string"),
            account_name=get("account_name"),
            account_key=get("account_key"),
            tenant_id=get("tenant_id"),
            client_id=get("client_id"),
            client_secret=get("client_secret"),
            sas_token=get("sas_token"),
            subscription_id=get("subscription_id"),
            blob_endpoint=get("blob_endpoint"),
        )

    return build


CREDENTIAL_PROVIDERS: tuple[CredentialProvider, ...] = tuple(
    CredentialProvider(AZURE, method, _builder(method), required=required, description=description, example=EXAMPLE, ambient_env=AMBIENT_ENV)
    for method, required, description in (
        ("connection-string", ("connection_string",), "a storage connection string (its BlobEndpoint is used, e.g. Azurite's)"),
        ("account-key", ("account_name", "account_key"), "a storage account name and key"),
        ("service-principal", ("tenant_id", "client_id", "client_secret"), "an Entra ID service principal"),
        ("sas", ("account_name", "sas_token"), "a shared access signature"),
        ("azure-cli", (), "the signed-in Azure CLI (az login)"),
    )
)
