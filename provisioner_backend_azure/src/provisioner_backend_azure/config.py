"""Parse and check the azurerm backend section and ``provision.backend`` options (no SDK, no network).

Everything a run needs is resolved here into frozen values: which account and container,
which blob endpoint, which cloud, and whether the management plane (ARM) is in play.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from provisioner_backend_azure import names
from provisioner_backend_azure.credentials import AzureCredentials
from provisioner_core import BackendOptions, ConfigError, OptionReader, read_backend_options

WHERE = "provision.backend"
MANAGED_BY_TAG = "managed-by"  # ARM tag (hyphens allowed), like the other backends' tag/label
MANAGED_BY_METADATA = "managed_by"  # container metadata names must be C# identifiers: Azure rejects "managed-by"
MANAGED_BY_VALUE = "provisioner"
DEFAULT_RETENTION_DAYS = 30
MAX_TAGS = 50  # ARM's limit per resource

# Settings this backend manages; each is a valid `provision.backend.skip` entry and a drift setting name.
SKIPPABLE: tuple[str, ...] = (
    "account",  # the whole management plane: resource group, account settings, versioning, container soft delete
    "resource_group",
    "min_tls_version",
    "https_only",
    "blob_public_access",
    "shared_key_access",
    "versioning",
    "blob_soft_delete",
    "container_soft_delete",
    "tags",
    "container_public_access",
    "metadata",
)
TLS_ORDER: tuple[str, ...] = ("TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3")
SKUS: tuple[str, ...] = ("Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS")

# Terraform's azurerm backend arguments (Terraform 1.11); anything else makes `terraform init` fail.
TERRAFORM_KEYS: frozenset[str] = frozenset(
    {
        "storage_account_name", "container_name", "key", "resource_group_name", "subscription_id", "tenant_id",
        "client_id", "client_id_file_path", "client_secret", "client_secret_file_path", "client_certificate",
        "client_certificate_path", "client_certificate_password", "access_key", "sas_token", "use_azuread_auth",
        "environment", "metadata_host", "snapshot", "endpoint", "msi_endpoint", "use_msi", "use_cli", "use_oidc",
        "oidc_request_token", "oidc_request_url", "oidc_token", "oidc_token_file_path", "use_aks_workload_identity",
        "ado_pipeline_service_connection_id", "lookup_blob_endpoint",
    }
)  # fmt: skip
# Backend arguments that hold a secret: we never read their values, only warn that they sit in stack files.
SECRET_BACKEND_KEYS: tuple[str, ...] = ("access_key", "sas_token", "client_secret", "client_certificate", "client_certificate_password", "oidc_token", "oidc_request_token")
TOKEN_METHODS = frozenset({"service-principal", "azure-cli"})
KEY_METHODS = frozenset({"connection-string", "account-key", "sas"})


@frozen
class CloudEnvironment:
    """One of terraform's ``environment`` values and its endpoints."""

    name: str
    storage_suffix: str
    arm_endpoint: str
    authority_host: str

    @property
    def arm_scope(self) -> str:
        return self.arm_endpoint + "/.default"


ENVIRONMENTS: Mapping[str, CloudEnvironment] = {
    "public": CloudEnvironment("public", "core.windows.net", "https://management.azure.com", "login.microsoftonline.com"),
    "usgovernment": CloudEnvironment("usgovernment", "core.usgovcloudapi.net", "https://management.usgovcloudapi.net", "login.microsoftonline.us"),
    "china": CloudEnvironment("china", "core.chinacloudapi.cn", "https://management.chinacloudapi.cn", "login.chinacloudapi.cn"),
}


@frozen
class BackendConfig:
    """The azurerm backend section, as terraform will read it."""

    storage_account_name: str
    container_name: str
    key: str | None = None
    resource_group_name: str | None = None
    subscription_id: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    use_azuread_auth: bool = False
    environment: CloudEnvironment = ENVIRONMENTS["public"]
    has_access_key: bool = False
    has_sas_token: bool = False
    warnings: tuple[str, ...] = ()


@frozen
class Options(BackendOptions):
    """``provision.backend``: core's shared options and what to enforce on the account and container."""

    location: str | None = None
    sku: str | None = None  # None: Standard_LRS at creation, and no drift report on an existing account
    metadata: Mapping[str, str] = field(factory=dict)
    blob_retention_days: int = DEFAULT_RETENTION_DAYS
    container_retention_days: int = DEFAULT_RETENTION_DAYS
    min_tls_version: str = "TLS1_2"
    warnings: tuple[str, ...] = ()

    def desired_tags(self) -> dict[str, str]:
        return {MANAGED_BY_TAG: MANAGED_BY_VALUE, **self.tags}

    def desired_metadata(self) -> dict[str, str]:
        return {MANAGED_BY_METADATA: MANAGED_BY_VALUE, **self.metadata}


@frozen
class Target:
    """What one run provisions and through which endpoints."""

    account: str
    container: str
    environment: CloudEnvironment
    blob_endpoint: str  # the data-plane URL of the account, no trailing slash
    endpoint_source: str  # where blob_endpoint came from, for messages
    credential_method: str
    subscription_id: str | None
    resource_group: str | None
    use_azuread_auth: bool
    management: bool  # the management plane (ARM) is configured and used
    management_reason: str  # why not, when it is not
    identity: str = ""  # who signs the requests, for messages (never a secret)

    @property
    def resource(self) -> str:
        return f"{self.blob_endpoint}/{self.container}"


def _str(backend: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = backend.get(key)
    if value is None or value == "":
        if required:
            raise ConfigError(
                f"backend.{key} is required for backend_type azurerm",
                hint=f"Add `{key}: ...` under backend.azurerm in the component (or its stack).",
                context={"key": f"backend.{key}"},
            )
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigError(f"backend.{key} must be a string, got {type(value).__name__}", hint=f"Write `{key}: \"...\"`.", context={"key": f"backend.{key}"})
    return str(value)


def _bool(backend: Mapping[str, Any], key: str) -> bool:
    value = backend.get(key)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    # Terraform converts "true"/"false" strings in backend config, so accept them too.
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"backend.{key} must be true or false, got {value!r}", hint=f"Write `{key}: true`.", context={"key": f"backend.{key}"})


def parse_backend(backend: Mapping[str, Any]) -> BackendConfig:
    """Validate the backend section locally (names, GUIDs, environment); exit 2 on a bad value."""
    if not isinstance(backend, Mapping) or not backend:
        raise ConfigError(
            "the component has backend_type azurerm but no backend.azurerm section",
            hint="Add backend: {azurerm: {storage_account_name: ..., container_name: ..., key: ...}}.",
        )
    account = names.check_account_name(_str(backend, "storage_account_name", required=True) or "")
    container = names.check_container_name(_str(backend, "container_name", required=True) or "")
    key = _str(backend, "key")
    if key is not None:
        names.check_blob_name(key)
    resource_group = _str(backend, "resource_group_name")
    if resource_group is not None:
        names.check_resource_group_name(resource_group)
    subscription = _str(backend, "subscription_id")
    if subscription is not None:
        names.check_guid(subscription, "backend.subscription_id")
    if _str(backend, "metadata_host"):
        raise ConfigError(
            "backend.metadata_host (a custom cloud such as Azure Stack) is not supported by the azurerm backend provisioner",
            hint="Use `environment: public|usgovernment|china`, or create the container yourself and set provision.backend.enabled: false.",
            context={"key": "backend.metadata_host"},
        )
    env_name = (_str(backend, "environment") or "public").lower()
    if env_name not in ENVIRONMENTS:
        close = [e for e in sorted(ENVIRONMENTS) if e.startswith(env_name[:3])] or difflib.get_close_matches(env_name, sorted(ENVIRONMENTS), n=1)
        raise ConfigError(
            f"backend.environment {env_name!r} is not one of {', '.join(sorted(ENVIRONMENTS))}",
            hint=(f"Did you mean {close[0]!r}? " if close else "") + "These are the values terraform's azurerm backend accepts.",
            context={"key": "backend.environment"},
        )

    warnings = []
    for unknown in sorted(str(k) for k in backend if str(k) not in TERRAFORM_KEYS):
        close = difflib.get_close_matches(unknown, sorted(TERRAFORM_KEYS), n=1)
        warnings.append(f"backend.{unknown} is not an azurerm backend argument; terraform init will reject it" + (f" (did you mean '{close[0]}'?)" if close else ""))
    present_secrets = [k for k in SECRET_BACKEND_KEYS if backend.get(k)]
    if present_secrets:
        warnings.append(
            f"backend.{', backend.'.join(present_secrets)} holds a secret in the stack files; prefer auth.providers.azure, "
            "which hands it to terraform through the environment"
        )
    return BackendConfig(
        storage_account_name=account,
        container_name=container,
        key=key,
        resource_group_name=resource_group,
        subscription_id=subscription,
        tenant_id=_str(backend, "tenant_id"),
        client_id=_str(backend, "client_id"),
        use_azuread_auth=_bool(backend, "use_azuread_auth"),
        environment=ENVIRONMENTS[env_name],
        has_access_key=bool(backend.get("access_key")),
        has_sas_token=bool(backend.get("sas_token")),
        warnings=tuple(warnings),
    )


def parse_options(options: Mapping[str, Any] | None) -> Options:
    """Read ``provision.backend`` with typed getters; unknown keys become warnings with a close match."""
    reader = OptionReader(options, WHERE)
    common, deprecated = read_backend_options(reader, skippable=SKIPPABLE)
    tags = common["tags"]
    for tag, value in tags.items():
        names.check_tag(tag, value, f"{WHERE}.tags.{tag}")
    if len({**tags, MANAGED_BY_TAG: ""}) > MAX_TAGS:
        raise ConfigError(f"{WHERE}.tags has more than {MAX_TAGS - 1} tags", hint=f"ARM allows {MAX_TAGS} tags per resource, one of which is {MANAGED_BY_TAG}.")
    metadata = reader.mapping("metadata")
    for name in metadata:
        names.check_metadata_key(name, f"{WHERE}.metadata.{name}")
    tls = reader.str("min_tls_version", "TLS1_2") or "TLS1_2"
    if tls not in ("TLS1_2", "TLS1_3"):
        raise ConfigError(
            f"{WHERE}.min_tls_version must be TLS1_2 or TLS1_3, got {tls!r}",
            hint="Older versions are weaker than the default and are never set.",
            context={"key": f"{WHERE}.min_tls_version"},
        )
    sku = reader.str("sku")
    if sku is not None and sku not in SKUS:
        close = difflib.get_close_matches(sku, SKUS, n=1)
        raise ConfigError(
            f"{WHERE}.sku {sku!r} is not a StorageV2 SKU",
            hint=(f"Did you mean {close[0]!r}? " if close else "") + f"Allowed: {', '.join(SKUS)}.",
            context={"key": f"{WHERE}.sku"},
        )
    location = reader.str("location")
    if location is not None and not location.replace(" ", "").isalnum():
        raise ConfigError(f"{WHERE}.location {location!r} is not an Azure region name", hint="Write it like `location: westeurope`.")
    return Options(
        **common,
        location=location.replace(" ", "").lower() if location else None,
        sku=sku,
        metadata=metadata,
        blob_retention_days=reader.int("blob_retention_days", DEFAULT_RETENTION_DAYS, minimum=1, maximum=365) or DEFAULT_RETENTION_DAYS,
        container_retention_days=reader.int("container_retention_days", DEFAULT_RETENTION_DAYS, minimum=1, maximum=365) or DEFAULT_RETENTION_DAYS,
        min_tls_version=tls,
        warnings=tuple(deprecated + reader.unknown_keys(("enabled", "timeout"))),  # after every read, so only typos remain
    )


def _connection_blob_endpoint(creds: AzureCredentials, env: CloudEnvironment) -> str | None:
    """The blob endpoint a connection string names (Azurite writes BlobEndpoint explicitly)."""
    explicit = creds.connection_setting("BlobEndpoint")
    if explicit:
        return explicit.rstrip("/")
    if (creds.connection_setting("UseDevelopmentStorage") or "").lower() == "true":
        return "http://127.0.0.1:10000/devstoreaccount1"
    account = creds.connection_setting("AccountName")
    if not account:
        return None
    protocol = creds.connection_setting("DefaultEndpointsProtocol") or "https"
    suffix = creds.connection_setting("EndpointSuffix") or env.storage_suffix
    return f"{protocol}://{account}.blob.{suffix}"


def _credential_account(creds: AzureCredentials) -> str | None:
    if creds.method == "connection-string":
        if (creds.connection_setting("UseDevelopmentStorage") or "").lower() == "true":
            return "devstoreaccount1"
        return creds.connection_setting("AccountName")
    return creds.account_name


def resolve_target(backend: BackendConfig, options: Options, creds: AzureCredentials) -> tuple[Target, list[str]]:
    """Combine backend, options and credentials; a mismatch between them is a configuration error."""
    warnings: list[str] = []
    method = creds.method
    if method not in TOKEN_METHODS | KEY_METHODS:
        raise ConfigError(
            f"auth.providers.azure type {method!r} is not supported by the azurerm backend provisioner",
            hint=f"Use one of: {', '.join(sorted(TOKEN_METHODS | KEY_METHODS))}.",
            context={"key": "auth.providers.azure.type"},
        )
    account = backend.storage_account_name
    cred_account = _credential_account(creds)
    if cred_account and cred_account != account:
        raise ConfigError(
            f"auth.providers.azure is for storage account {cred_account!r}, but backend.storage_account_name is {account!r}",
            hint="Point the credentials and the backend at the same storage account.",
            context={"key": "backend.storage_account_name"},
        )
    subscription = backend.subscription_id
    if creds.subscription_id:
        names.check_guid(creds.subscription_id, "auth.providers.azure.subscription_id")
        if subscription and creds.subscription_id.lower() != subscription.lower():
            raise ConfigError(
                "backend.subscription_id and auth.providers.azure.subscription_id differ",
                hint="Terraform and the provisioner must work in one subscription; set it in one place.",
                context={"key": "backend.subscription_id"},
            )
        subscription = subscription or creds.subscription_id
    for key, mine in (("tenant_id", backend.tenant_id), ("client_id", backend.client_id)):
        theirs = getattr(creds, key)
        if mine and theirs and mine.lower() != theirs.lower():
            raise ConfigError(
                f"backend.{key} and auth.providers.azure.{key} differ",
                hint="Terraform would sign in as a different identity than the provisioner; set it in one place.",
                context={"key": f"backend.{key}"},
            )

    if method == "connection-string":
        endpoint = _connection_blob_endpoint(creds, backend.environment) or f"https://{account}.blob.{backend.environment.storage_suffix}"
        source = "the connection string's BlobEndpoint" if creds.connection_setting("BlobEndpoint") else "the connection string"
    elif creds.blob_endpoint:
        # Documented for account-key/sas (Azurite, private endpoints); it was parsed but never used.
        endpoint = creds.blob_endpoint.rstrip("/")
        source = "auth.providers.azure.blob_endpoint"
    else:
        endpoint = f"https://{account}.blob.{backend.environment.storage_suffix}"
        source = f"the account name in the {backend.environment.name} cloud"

    if not options.wants("account"):
        management, reason = False, "skipped by provision.backend.skip: [account]"
    elif not backend.resource_group_name:
        management, reason = False, "backend.resource_group_name is not set"
    elif not subscription:
        management, reason = False, "no subscription_id (set backend.subscription_id or auth.providers.azure.subscription_id)"
    elif method not in TOKEN_METHODS:
        management, reason = False, f"auth.providers.azure is type {method}; Azure Resource Manager needs service-principal or azure-cli credentials"
    else:
        management, reason = True, ""

    if backend.use_azuread_auth and method in KEY_METHODS:
        warnings.append(
            f"backend.use_azuread_auth is true but auth.providers.azure is type {method}: terraform will sign in to storage "
            "with Azure AD, not with this key"
        )
    terraform_has_secret = backend.has_access_key or backend.has_sas_token or method in ("account-key", "sas") or (
        method == "connection-string" and bool(creds.connection_setting("AccountKey"))
    )
    if not (terraform_has_secret or backend.resource_group_name or backend.use_azuread_auth):
        warnings.append(
            "terraform's azurerm backend needs an access key, a SAS token, resource_group_name (to look the key up) "
            "or use_azuread_auth: true; terraform init will fail without one"
        )
    target = Target(
        account=account,
        container=backend.container_name,
        environment=backend.environment,
        blob_endpoint=endpoint,
        endpoint_source=source,
        credential_method=method,
        subscription_id=subscription,
        resource_group=backend.resource_group_name,
        use_azuread_auth=backend.use_azuread_auth,
        management=management,
        management_reason=reason,
        identity=_identity(creds, account),
    )
    return target, warnings


def _identity(creds: AzureCredentials, account: str) -> str:
    """Who signs the requests, in words that hold no secret."""
    words = {"service-principal": f"service principal {creds.client_id}", "azure-cli": "the Azure CLI's signed-in account", "connection-string": "the connection string's key",
             "account-key": "the account key", "sas": "the SAS token"}  # fmt: skip
    return words[creds.method] + (f" of account {account}" if creds.method in KEY_METHODS else "")
