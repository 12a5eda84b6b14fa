"""Build Azure SDK clients from the AuthContext's credentials only (SDKs imported here, lazily).

Never ``DefaultAzureCredential``: a service principal becomes ``ClientSecretCredential``;
``AzureCliCredential`` is used only when ``type: azure-cli`` is configured. Clients are cached
in the run's ClientCache under keys made of non-secret parts, so components that share an
account share one client (and tests can seed the cache with a client on a fake transport).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from attrs import frozen

from provisioner_backend_azure.config import CloudEnvironment, Target
from provisioner_backend_azure.credentials import AzureCredentials
from provisioner_core import ClientCache, ConfigError, backoff, retry

T = TypeVar("T")
CONNECTION_TIMEOUT_S = 10  # fail fast on an unreachable endpoint; retries cover blips
AAD_INSTALL_HINT = "pip install 'provisioner-backend-azurerm[aad]'"


def mgmt_installed() -> bool:
    """True when the ``[mgmt]`` extra (azure-mgmt-resource, azure-mgmt-storage) is importable, without importing it."""
    try:
        return importlib.util.find_spec("azure.mgmt.storage") is not None and importlib.util.find_spec("azure.mgmt.resource") is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules (how tests hide it)
        return False


def identity_installed() -> bool:
    """True when the ``[aad]`` extra (azure-identity) is importable, without importing it."""
    try:
        return importlib.util.find_spec("azure.identity") is not None
    except (ImportError, ValueError):
        return False


def credential_key(creds: AzureCredentials, env: CloudEnvironment) -> Hashable:
    return ("azure-credential", creds.fingerprint(), env.authority_host)


def token_credential(creds: AzureCredentials, env: CloudEnvironment, clients: ClientCache) -> Any:
    """An azure-identity credential for the configured method (service-principal or azure-cli)."""

    def build() -> Any:
        if not identity_installed():
            # azure-identity is the [aad] extra: key, SAS and connection-string users never install it.
            raise ConfigError(f"auth type {creds.method!r} signs in with Azure AD, and azure-identity is not installed", hint=AAD_INSTALL_HINT)
        if creds.method == "service-principal":
            from azure.identity import ClientSecretCredential

            return ClientSecretCredential(creds.tenant_id or "", creds.client_id or "", creds.client_secret or "", authority=env.authority_host)
        if creds.method == "azure-cli":
            from azure.identity import AzureCliCredential

            return AzureCliCredential(tenant_id=creds.tenant_id) if creds.tenant_id else AzureCliCredential()
        raise ValueError(f"no token credential for method {creds.method!r}")  # resolve_target rules this out

    return clients.get(credential_key(creds, env), build)


MAX_BACKOFF_S = 8.0


def _retry_policy(attempts: int) -> Any:
    from azure.storage.blob import ExponentialRetry

    class CappedExponentialRetry(ExponentialRetry):
        """About 1 s, 2 s, 4 s, then at most 8 s between attempts, with jitter.

        Storage's default waits 15 s, then 18 s, ...; its formula (initial + base**n) is also
        uncapped: with initial 1 and base 2 the 5th retry waited 33 s and the 9th 513 s, so
        ``retries: 10`` outlived the provisioner's own timeout. A provisioner should fail within seconds.
        """

        def get_backoff_time(self, settings: dict[str, Any]) -> float:
            return backoff(1.0, MAX_BACKOFF_S)(max(1, int(settings["count"])), Exception())

    return CappedExponentialRetry(retry_total=attempts - 1)


def throttled(fn: Callable[[], T], attempts: int) -> T:
    """``fn()``, retried on HTTP 429 up to ``attempts`` times in all (core's bounded retry).

    The storage SDK's retry policy retries 5xx and dropped connections but treats 429 as final;
    throttling deserves the same budget (docs: "429/5xx after `attempts` attempts").
    """
    # time.sleep is looked up per call, so a test can replace this module's time and record the waits.
    return retry(fn, attempts=attempts, transient=_throttled, delay=_throttle_delay, sleep=lambda seconds: time.sleep(seconds))


def _throttled(exc: BaseException) -> bool:
    from azure.core.exceptions import HttpResponseError

    return isinstance(exc, HttpResponseError) and getattr(exc, "status_code", None) == 429


def _throttle_delay(attempt: int, exc: BaseException) -> float:
    """The server's Retry-After (capped at 30 s), else 1 s, 2 s, 4 s ... at most 8 s, with jitter."""
    header = str((getattr(getattr(exc, "response", None), "headers", None) or {}).get("Retry-After") or "")
    try:
        return min(30.0, max(0.0, float(header)))
    except ValueError:  # no header, or an HTTP date: not worth parsing for a throttle
        return backoff(1.0, MAX_BACKOFF_S)(attempt, exc)


def blob_key(target: Target, creds: AzureCredentials, endpoint: str, auth: str, attempts: int) -> Hashable:
    return ("azure-blob", creds.fingerprint(), endpoint, auth, attempts)


def blob_service(
    target: Target, creds: AzureCredentials, clients: ClientCache, *, endpoint: str, auth: str, attempts: int, account_key: str | None = None
) -> Any:
    """A BlobServiceClient for ``endpoint``; ``auth`` is the credential method, ``token`` or ``listed-key``."""

    def build() -> Any:
        from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential
        from azure.storage.blob import BlobServiceClient

        common = {"retry_policy": _retry_policy(attempts), "connection_timeout": CONNECTION_TIMEOUT_S}
        if auth == "connection-string":
            # The SDK parses the string itself (BlobEndpoint, AccountKey or SharedAccessSignature).
            return BlobServiceClient.from_connection_string(creds.connection_string or "", **common)
        if auth == "account-key":
            credential: Any = AzureNamedKeyCredential(target.account, creds.account_key or "")
        elif auth == "listed-key":
            credential = AzureNamedKeyCredential(target.account, account_key or "")
        elif auth == "sas":
            credential = AzureSasCredential((creds.sas_token or "").lstrip("?"))
        else:
            credential = token_credential(creds, target.environment, clients)
        return BlobServiceClient(endpoint, credential=credential, **common)

    return clients.get(blob_key(target, creds, endpoint, auth, attempts), build)


@frozen
class ArmClients:
    """The two management clients one run needs."""

    resources: Any  # azure.mgmt.resource ResourceManagementClient
    storage: Any  # azure.mgmt.storage StorageManagementClient


def arm_key(creds: AzureCredentials, subscription_id: str, env: CloudEnvironment, attempts: int) -> Hashable:
    return ("azure-arm", creds.fingerprint(), subscription_id.lower(), env.name, attempts)


def build_arm_clients(credential: Any, subscription_id: str, env: CloudEnvironment, attempts: int, **extra: Any) -> ArmClients:
    """ARM clients for ``subscription_id`` in ``env``; ``extra`` is passed to both (tests pass ``transport``)."""
    from azure.mgmt.storage import StorageManagementClient

    try:
        from azure.mgmt.resource.resources import ResourceManagementClient
    except ImportError:  # older azure-mgmt-resource layouts
        from azure.mgmt.resource import ResourceManagementClient  # type: ignore[attr-defined,no-redef]

    common = {"base_url": env.arm_endpoint, "credential_scopes": [env.arm_scope], "retry_total": attempts - 1, "polling_interval": 5, **extra}
    return ArmClients(
        resources=ResourceManagementClient(credential, subscription_id, **common),
        storage=StorageManagementClient(credential, subscription_id, **common),
    )


def arm_clients(target: Target, creds: AzureCredentials, clients: ClientCache, attempts: int) -> ArmClients:
    subscription = target.subscription_id or ""
    return clients.get(
        arm_key(creds, subscription, target.environment, attempts),
        lambda: build_arm_clients(token_credential(creds, target.environment, clients), subscription, target.environment, attempts),
    )
