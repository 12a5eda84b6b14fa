"""Lazy google-cloud-storage access built only from the AuthContext's credentials.

``google_credentials`` turns core's GcpCredentials into google-auth credentials (never
``google.auth.default()``); ``GcsApi`` wraps the three bucket calls we make (get, create,
patch) with core's bounded retry and the error mapping of :mod:`provisioner_backend_gcs.errors`.
Every SDK import happens inside a function, so listing plugins never pays for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from attrs import frozen

from provisioner_backend_gcs.config import BackendConfig
from provisioner_backend_gcs.errors import is_transient, map_error
from provisioner_backend_gcs.settings import BucketState, Patch
from provisioner_core import ConfigError, LostRace, Stale, backoff, retry, translating

T = TypeVar("T")
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
REQUEST_TIMEOUT_S = 30.0
METHODS = ("service-account-file", "access-token", "anonymous")


@frozen
class Identity:
    """google-auth credentials plus a non-secret name for messages (a service account email)."""

    credentials: Any
    name: str | None = None
    impersonating: bool = False


def google_credentials(creds: Any, backend: BackendConfig) -> Identity:
    """google-auth credentials for ``auth.providers.gcp``, impersonating when the backend says so."""
    custom = getattr(creds, "google_credentials", None)
    if callable(custom):
        # A plugin's own credentials type can hand over ready google-auth credentials.
        source, name = custom(), None
    else:
        source, name = _source_credentials(creds)
    target = backend.impersonate_service_account
    if not target:
        return Identity(source, name)
    from google.auth.credentials import AnonymousCredentials

    if isinstance(source, AnonymousCredentials):
        raise ConfigError(
            "backend.gcs.impersonate_service_account needs real source credentials, but auth.providers.gcp is anonymous",
            hint="Use type: service-account-file or access-token for the identity that impersonates, or remove impersonate_service_account.",
            context={"key": "backend.gcs.impersonate_service_account"},
        )
    from google.auth import impersonated_credentials

    impersonated = impersonated_credentials.Credentials(
        source_credentials=source,
        target_principal=target,
        target_scopes=list(SCOPES),
        delegates=[_delegate_name(d) for d in backend.impersonate_delegates] or None,
        lifetime=3600,
    )
    return Identity(impersonated, target, impersonating=True)


def _delegate_name(delegate: str) -> str:
    """Terraform takes delegate emails; the IAM Credentials API wants resource names."""
    return delegate if delegate.startswith("projects/") else f"projects/-/serviceAccounts/{delegate}"


def _source_credentials(creds: Any) -> tuple[Any, str | None]:
    method = getattr(creds, "method", None)
    if method == "service-account-file":
        from google.auth import exceptions as auth_exceptions
        from google.oauth2 import service_account

        path = creds.file
        try:
            sa = service_account.Credentials.from_service_account_file(path, scopes=list(SCOPES))
        except OSError as exc:
            raise ConfigError(
                f"auth.providers.gcp.file {path} cannot be read ({type(exc).__name__})",
                hint="Point `file:` at a service account JSON key that exists and is readable.",
                context={"key": "auth.providers.gcp.file"},
            ) from None
        except (ValueError, KeyError, auth_exceptions.GoogleAuthError) as exc:
            raise ConfigError(
                f"auth.providers.gcp.file {path} is not a service account key ({type(exc).__name__})",
                hint="Download a JSON key for the service account (type: service_account) and point `file:` at it.",
                context={"key": "auth.providers.gcp.file"},
            ) from None
        return sa, sa.service_account_email
    if method == "access-token":
        from google.oauth2.credentials import Credentials

        return Credentials(token=creds.token), None
    if method == "anonymous":
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), None
    raise ConfigError(
        f"auth.providers.gcp type {method!r} is not supported by the gcs backend provisioner",
        hint=f"Use one of: {', '.join(METHODS)}.",
        context={"key": "auth.providers.gcp.type"},
    )


def storage_client(identity: Identity, endpoint: str) -> Any:
    """A storage.Client on an explicit endpoint with explicit credentials (no ambient lookup)."""
    from google.cloud import storage

    # project=None (explicitly) stops the client from asking google.auth.default() for one;
    # an explicit api_endpoint stops STORAGE_EMULATOR_HOST/API_ENDPOINT_OVERRIDE from redirecting it.
    return storage.Client(project=None, credentials=identity.credentials, client_options={"api_endpoint": endpoint})


class GcsApi:
    """The bucket calls we make, retried (core's bounded retry) and mapped to core errors."""

    def __init__(
        self,
        client: Any,
        *,
        endpoint: str,
        attempts: int,
        identity: Identity,
        kms_key: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.attempts = attempts
        self.identity = identity
        self.kms_key = kms_key
        self.sleep = sleep
        self.timeout = timeout
        self.calls: list[str] = []  # every call made, in order (for details and tests)

    def get(self, name: str) -> BucketState | None:
        """The bucket's settings, or None when (and only when) the server answers 404."""
        from google.api_core import exceptions as api

        bucket = self._call("get", name, lambda: self.client.get_bucket(name, timeout=self.timeout, retry=None), passthrough=(api.NotFound,))
        return None if bucket is None else snapshot(bucket)

    def read_object(self, bucket: str, name: str) -> bytes | None:
        """One object's bytes (a state object), or None when the object (or its bucket) does not exist."""
        from google.api_core import exceptions as api

        def download() -> bytes:
            data: bytes = self.client.bucket(bucket).blob(name).download_as_bytes(timeout=self.timeout, retry=None)
            return data

        data: bytes | None = self._call("read", bucket, download, passthrough=(api.NotFound,))
        return data

    def create(self, name: str, *, project: str, location: str, settings: Patch) -> BucketState:
        """Create the bucket with ``settings`` in the same call (servers that honour them are secure at once); LostRace on 409."""
        from google.api_core import exceptions as api

        def create() -> Any:
            bucket = self.client.bucket(name)
            apply_patch(bucket, settings)
            return self.client.create_bucket(bucket, project=project, location=location, timeout=self.timeout, retry=None)

        created = self._call("create", name, create, passthrough=(api.Conflict,))
        if created is None:
            raise LostRace("409")
        return snapshot(created)

    def patch(self, state: BucketState, changes: Patch) -> BucketState:
        """Apply ``changes`` to the bucket read as ``state`` (read-modify-write, guarded by metageneration); Stale on 412."""
        from google.api_core import exceptions as api

        def patch() -> Any:
            bucket = state.handle
            if bucket is None:  # pragma: no cover - states always come from get/create
                bucket = self.client.bucket(state.name)
            apply_patch(bucket, changes)
            if state.versioning and "versioning" not in changes.fields():
                # Restated (a no-op on GCS): fake-gcs-server turns versioning off when a patch omits it.
                bucket.versioning_enabled = True
            bucket.patch(if_metageneration_match=state.metageneration, timeout=self.timeout, retry=None)
            return bucket

        patched = self._call("patch", state.name, patch, passthrough=(api.PreconditionFailed,))
        if patched is None:
            raise Stale("412")
        return snapshot(patched)

    def _call(self, operation: str, name: str, fn: Callable[[], T], passthrough: tuple[type[BaseException], ...] = ()) -> T | None:
        """``fn()`` with bounded retries; None for an answer in ``passthrough`` (404 on get, 409 on create, 412 on patch)."""
        self.calls.append(f"{operation} {name}")
        who, impersonating = self.identity.name, self.identity.impersonating
        with translating(lambda exc: map_error(exc, operation=operation, bucket=name, endpoint=self.endpoint, identity=who, impersonating=impersonating,
                                               kms_key=self.kms_key, attempts=self.attempts if is_transient(exc) else 1)):  # fmt: skip
            try:
                return retry(fn, attempts=self.attempts, transient=is_transient, delay=backoff(0.25, 8.0), sleep=self.sleep)
            except passthrough:
                return None


def apply_patch(bucket: Any, patch: Patch) -> None:
    """Set ``patch``'s fields on an SDK Bucket through its public setters."""
    fields = patch.fields()
    if "versioning" in fields:
        bucket.versioning_enabled = fields["versioning"]
    if "uniform_access" in fields or "public_access_prevention" in fields:
        iam = bucket.iam_configuration
        # The deprecated alias would echo the old value back next to the new one.
        iam.pop("bucketPolicyOnly", None)
        if "uniform_access" in fields:
            iam.uniform_bucket_level_access_enabled = fields["uniform_access"]
        if "public_access_prevention" in fields:
            iam.public_access_prevention = fields["public_access_prevention"]
    if "labels" in fields:
        bucket.labels = dict(fields["labels"])  # a superset of the existing labels: nothing is removed
    if "kms_key" in fields:
        bucket.default_kms_key_name = fields["kms_key"]
    if "soft_delete_seconds" in fields:
        policy = bucket.soft_delete_policy
        policy.pop("effectiveTime", None)  # output-only
        policy.retention_duration_seconds = fields["soft_delete_seconds"]
    if "retention_seconds" in fields:
        bucket.retention_period = fields["retention_seconds"]


def snapshot(bucket: Any) -> BucketState:
    """The settings of an SDK Bucket as reported by the server."""
    iam = bucket.iam_configuration
    return BucketState(
        name=bucket.name,
        location=bucket.location,
        metageneration=bucket.metageneration,
        versioning=bool(bucket.versioning_enabled),
        uniform_access=bool(iam.uniform_bucket_level_access_enabled),
        public_access_prevention=iam.public_access_prevention,  # "inherited" when the server does not say
        labels=dict(bucket.labels or {}),
        kms_key=bucket.default_kms_key_name,
        soft_delete_seconds=bucket.soft_delete_policy.retention_duration_seconds,  # None: no soft delete reported
        retention_seconds=bucket.retention_period,
        retention_locked=bool(bucket.retention_policy_locked),
        handle=bucket,
    )
