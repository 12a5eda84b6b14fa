"""Map google-cloud-storage / google-auth / requests errors to core's documented errors.

Only a 404 on the bucket read means "missing" (handled by the caller); everything else is
mapped here: 401 -> exit 3, the credentials rejected (naming the identity); 403 -> exit 3 with the IAM permissions, 400 -> 2, 409/412 -> 4, network,
timeouts and exhausted 429/5xx retries -> 5. SDKs are imported lazily.
"""

from __future__ import annotations

from collections.abc import Mapping

from provisioner_core import ConfigError, NetworkError, PermissionDenied, ProvisionerError, ResourceConflict

# The IAM permissions each call needs (roles/storage.admin has all of them).
PERMISSIONS: Mapping[str, tuple[str, ...]] = {
    "get": ("storage.buckets.get",),
    "create": ("storage.buckets.create", "storage.buckets.get", "storage.buckets.update"),
    "patch": ("storage.buckets.update", "storage.buckets.get"),
    "read": ("storage.objects.get",),
}
ALL_PERMISSIONS = ("storage.buckets.get", "storage.buckets.create", "storage.buckets.update")
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def is_transient(exc: BaseException) -> bool:
    """True for errors worth another attempt: throttling, 5xx, dropped connections, timeouts."""
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(exc, api.GoogleAPICallError):
        return exc.code in TRANSIENT_STATUS
    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout, auth.TransportError))


def _one_line(text: object, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def map_error(
    exc: BaseException,
    *,
    operation: str,
    bucket: str,
    endpoint: str,
    identity: str | None = None,
    impersonating: bool = False,
    kms_key: str | None = None,
    attempts: int = 1,
) -> ProvisionerError | None:
    """The core error for ``exc`` raised by ``operation`` (get/create/patch), or None if unforeseen."""
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    context = {"bucket": bucket, "endpoint": endpoint, "operation": operation}
    who = identity or "the configured identity"
    if isinstance(exc, api.Unauthorized):
        # The credentials themselves were refused: no IAM grant helps, so do not suggest one.
        return PermissionDenied(
            f"GCS rejected the credentials of {who} (401) to {operation} gcs bucket {bucket}: {_one_line(exc.message)}",
            hint="The credentials were rejected (401): check auth.providers.gcp (an expired or revoked access token, a deleted key?).",
            context={**context, **({"identity": identity} if identity else {})},
        )
    if isinstance(exc, api.Forbidden):
        needed = PERMISSIONS.get(operation, ALL_PERMISSIONS)
        hints = [
            f"Grant {who} {', '.join(needed)} on the bucket's project (roles/storage.admin includes them).",
        ]
        if operation == "get":
            hints.append("A 403 here can also mean the name belongs to another project: then choose another bucket name.")
        if kms_key and operation in ("create", "patch"):
            hints.append(
                f"With a default KMS key, the project's Cloud Storage service agent needs roles/cloudkms.cryptoKeyEncrypterDecrypter on {kms_key}."
            )
        return PermissionDenied(
            f"permission denied to {operation} gcs bucket {bucket} ({exc.code}): {_one_line(exc.message)}",
            hint=hints,
            context={**context, "permissions": ", ".join(needed)},
        )
    if isinstance(exc, api.BadRequest):
        return ConfigError(
            f"GCS rejected the {operation} of bucket {bucket} as invalid: {_one_line(exc.message)}",
            hint="Check provision.backend (location, kms_key, soft_delete_days, retention_days) against the message.",
            context=context,
        )
    if isinstance(exc, api.PreconditionFailed):
        return ResourceConflict(
            f"gcs bucket {bucket} changed while it was being updated (412 precondition failed)",
            hint="Another process is changing the bucket; run again once it is done.",
            context=context,
        )
    if isinstance(exc, api.Conflict):
        return ResourceConflict(
            f"gcs bucket name {bucket} is already taken ({_one_line(exc.message)})",
            hint="Bucket names are global across all projects: choose another backend.gcs.bucket.",
            context=context,
        )
    if isinstance(exc, api.GoogleAPICallError) and exc.code in TRANSIENT_STATUS:
        return NetworkError(
            f"{endpoint} kept failing to {operation} gcs bucket {bucket} ({exc.code}) after {attempts} attempt(s)",
            # The hint names the endpoint too: it is the one line users act on (issue 9).
            hint=f"{endpoint} is throttling or unavailable; raise provision.backend.attempts or try again later.",
            context=context,
        )
    if isinstance(exc, api.RetryError) or isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout, auth.TransportError)):
        return NetworkError(
            f"cannot reach {endpoint} to {operation} gcs bucket {bucket} after {attempts} attempt(s): {type(exc).__name__}",
            hint=f"Check that {endpoint} is up and reachable: the network, proxy settings and backend.gcs.storage_custom_endpoint (is the emulator running?).",
            context=context,
        )
    if isinstance(exc, auth.RefreshError):
        hints = [
            "Check auth.providers.gcp: the credentials could not produce an access token, or the server rejected the token "
            "(401) and it could not be refreshed. A type access-token token cannot refresh itself: supply a fresh one."
        ]
        if impersonating:
            hints.append(
                f"When impersonating {identity}, the caller needs roles/iam.serviceAccountTokenCreator on it "
                "(iam.serviceAccounts.getAccessToken) and the IAM Credentials API must be enabled."
            )
        return PermissionDenied(f"could not obtain GCP credentials for {who} to {operation} gcs bucket {bucket}: {type(exc).__name__}", hint=hints, context=context)
    if isinstance(exc, api.GoogleAPICallError):
        return ProvisionerError(
            f"GCS failed to {operation} bucket {bucket} ({exc.code}): {_one_line(exc.message)}",
            hint="Run again with --debug for the full response.",
            context=context,
        )
    return None
