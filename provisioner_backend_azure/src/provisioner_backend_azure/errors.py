"""Map Azure SDK errors to core's errors (exit 2 config, 3 permission, 4 conflict, 5 network).

Every error the SDKs can raise for our calls is translated here, with the RBAC role the
call needs; messages carry the service's error code and never a secret (SAS signatures
are scrubbed from anything the service echoes back).
"""

from __future__ import annotations

import json
import re
import socket
from contextlib import AbstractContextManager

from provisioner_core import ConfigError, NetworkError, PermissionDenied, ProvisionerError, ResourceConflict, translating

DATA_ROLE = "Storage Blob Data Contributor"
ACCOUNT_ROLE = "Storage Account Contributor"
MGMT_ROLE = "Contributor (or Storage Account Contributor on the account)"
INSTALL_HINT = "pip install 'provisioner-backend-azurerm[mgmt]'"

_SIG = re.compile(r"\b(sig|se|sv|sp|st|spr|srt|ss|sr)=[^&\s;]+", re.IGNORECASE)  # \b: "host=" is not "st="
_ACTION = re.compile(r"perform action '([^']+)'")
# ARM and storage error codes by what they mean.
_NOT_ALLOWED = {"AuthorizationFailed", "AuthorizationFailure", "AuthorizationPermissionMismatch", "LinkedAuthorizationFailed", "AuthorizationPermissionDenied"}
_BAD_CREDENTIALS = {"AuthenticationFailed", "InvalidAuthenticationToken", "ExpiredAuthenticationToken", "InvalidAuthenticationTokenTenant", "InvalidAuthenticationInfo"}
_TAKEN = {"StorageAccountAlreadyTaken", "StorageAccountAlreadyExists"}
_BUSY = {"ContainerBeingDeleted", "ResourceGroupBeingDeleted", "StorageAccountIsNotProvisioned", "AnotherOperationInProgress", "OperationNotAllowed"}
_CONFIG = {
    "SubscriptionNotFound": "Check the subscription id and that the identity can see that subscription.",
    "InvalidSubscriptionId": "Subscription ids are GUIDs.",
    "MissingSubscriptionRegistration": "Register the storage provider once: az provider register --namespace Microsoft.Storage.",
    "LocationNotAvailableForResourceType": "Choose another provision.backend.location.",
    "InvalidResourceLocation": "An existing resource of that name lives in another region; use its location or another name.",
    "AccountNameInvalid": "Storage account names are 3-24 lowercase letters and digits.",
    "InvalidResourceName": "Check the resource name against Azure's naming rules.",
    "ResourceGroupNotFound": "Create the resource group, or remove resource_group from provision.backend.skip so the provisioner creates it.",
    "KeyBasedAuthenticationNotPermitted": "Shared key access is disabled on this account: use service-principal or azure-cli credentials and backend.use_azuread_auth: true.",
}


def scrub(text: str) -> str:
    """Remove SAS signature parameters and keep the first line (services echo request URLs)."""
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return _SIG.sub(r"\1=***", first)[:300]


def error_code(exc: BaseException) -> str | None:
    """The service's error code: storage's ``error_code`` or ARM's ``error.code`` (parsed from the body if needed)."""
    code = getattr(exc, "error_code", None)
    if code:
        return str(getattr(code, "value", code))
    arm_code = getattr(getattr(exc, "error", None), "code", None)
    if arm_code:
        return str(arm_code)
    response = getattr(exc, "response", None)
    try:
        body = json.loads(response.text()) if response is not None else None
    except (ValueError, TypeError, AttributeError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def _service_message(exc: BaseException) -> str:
    error = getattr(exc, "error", None)
    message = getattr(error, "message", None) or getattr(exc, "message", None) or str(exc)
    return scrub(str(message))


def name_not_resolved(exc: BaseException) -> bool:
    """True when the cause chain is a DNS failure (a storage account that does not exist never resolves)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror) or type(current).__name__ == "NameResolutionError" or "Failed to resolve" in str(current):
            return True
        current = getattr(current, "inner_exception", None) or current.__cause__ or current.__context__
    return False


def map_error(
    exc: BaseException, *, operation: str, target: str, endpoint: str, role: str, attempts: int | None = None, identity: str | None = None
) -> ProvisionerError | None:
    """The core error for ``exc``, raised by ``operation`` on ``target``; None when it is not an Azure error.

    ``attempts``: the retry budget that was spent, said in network errors so "exhausted" is visible;
    ``identity``: who signed the request (never a secret), named when the credentials were rejected.
    """
    who = f" as {identity}" if identity else ""
    tries = f"after {attempts} attempt(s)" if attempts else "after the configured retries"
    from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError, ServiceRequestError, ServiceResponseError

    context = {"operation": operation, "target": target, "endpoint": endpoint}
    if isinstance(exc, ClientAuthenticationError) and getattr(exc, "status_code", None) is None:
        # Raised by azure-identity before any request: the sign-in itself failed.
        if type(exc).__name__ == "CredentialUnavailableError":
            return ConfigError(
                f"{operation} {target}: the configured Azure credential is not available: {scrub(str(exc))}",
                hint="For type azure-cli, install the Azure CLI and run `az login`; otherwise use type service-principal.",
                context=context,
            )
        return PermissionDenied(
            f"{operation} {target}: could not sign in to Azure AD{who}: {scrub(str(exc))}",
            hint="Check tenant_id, client_id and client_secret under auth.providers.azure (and that the secret has not expired).",
            context=context,
        )
    if isinstance(exc, HttpResponseError):
        status = getattr(exc, "status_code", None)
        code = error_code(exc) or f"HTTP {status}"
        message = f"{operation} {target}: {code}: {_service_message(exc)}"
        context["error_code"] = code
        if code in _CONFIG:
            return (PermissionDenied if code == "KeyBasedAuthenticationNotPermitted" else ConfigError)(message, hint=_CONFIG[code], context=context)
        if code == "RequestDisallowedByPolicy":
            return PermissionDenied(
                message,
                hint="An Azure Policy assignment denies this request; ask its owner, or skip the setting it forbids with provision.backend.skip.",
                context=context,
            )
        if code in _TAKEN:
            return ResourceConflict(
                message,
                hint="Storage account names are global across all of Azure; choose another backend.storage_account_name.",
                context=context,
            )
        if code in _BUSY:
            return ResourceConflict(message, hint="Another operation is changing this resource; wait a minute and run again.", context=context)
        if code in _BAD_CREDENTIALS or status == 401 or "failed to authenticate" in str(exc).lower():
            # The credentials themselves were refused (Azurite says so under AuthorizationFailure): no role assignment helps.
            return PermissionDenied(
                f"{operation} {target}: {code}: the credentials{who} were rejected: {_service_message(exc)}",
                hint="The credentials were rejected: check the account key, SAS token (and its expiry) or the service principal under auth.providers.azure.",
                context=context,
            )
        if code in _NOT_ALLOWED or status == 403:
            action = _ACTION.search(str(exc))
            needs = f"It needs the '{role}' role" + (f" (action {action.group(1)})" if action else "") + " on the account, its resource group or subscription."
            extra = " Role assignments can take up to 10 minutes to apply." if "Data" in role else ""
            firewall = " With a key or SAS, AuthorizationFailure also means the account's network rules block this address." if code == "AuthorizationFailure" else ""
            return PermissionDenied(message, hint=needs + extra + firewall, context=context)
        if status == 429 or (status is not None and status >= 500):
            return NetworkError(message, hint=f"{endpoint} kept failing {tries}; raise provision.backend.retries or try later.", context=context)
        return ProvisionerError(message, hint="Azure rejected the request; the error code above says why.", context=context)
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)) or isinstance(exc, AzureError) and "timed out" in str(exc).lower():
        if name_not_resolved(exc):
            return NetworkError(
                f"{operation} {target}: the endpoint {endpoint} does not resolve",
                hint="A storage account that does not exist has no DNS name: check backend.storage_account_name and environment, or DNS from this machine.",
                context=context,
            )
        return NetworkError(
            f"{operation} {target}: could not reach {endpoint} {tries}: {scrub(str(exc))}",
            hint=f"Check the network path to {endpoint} (proxy, firewall, private endpoint DNS) and that it is up.",  # named: the hint is what users act on
            context=context,
        )
    if isinstance(exc, AzureError):
        return ProvisionerError(f"{operation} {target}: {type(exc).__name__}: {scrub(str(exc))}", hint="Run again with --debug for details.", context=context)
    return None


def translated(operation: str, *, target: str, endpoint: str, role: str, attempts: int | None = None, identity: str | None = None) -> AbstractContextManager[None]:
    """Re-raise any Azure SDK error inside the block as the matching core error."""
    return translating(lambda exc: map_error(exc, operation=operation, target=target, endpoint=endpoint, role=role, attempts=attempts, identity=identity))
