"""The bucket as a resource of core's reconcile template, and the hook's entry point.

1. GET the bucket. 404 -> missing; any other error is mapped (never "missing").
2. Missing: create it with every setting in the create call, then PATCH whatever the
   server did not apply (emulators ignore settings at create). A 409 means the name exists:
   if we can read it, a concurrent run made it and we continue; otherwise exit 4.
3. Existing: compare every setting, record drift, PATCH only strengthening changes in one
   call guarded by the bucket's metageneration (a 412: read again, plan again, once).
   A compliant bucket gets no write call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner_backend_gcs.client import GcsApi, Identity, google_credentials, storage_client
from provisioner_backend_gcs.config import Config, parse
from provisioner_backend_gcs.credentials import GcpCredentials
from provisioner_backend_gcs.settings import BucketState, Patch, bucket_plan, desired_patch, plan, skip_name
from provisioner_core import (
    AuthContext,
    ChangeRecorder,
    ClientCache,
    ConfigError,
    LostRace,
    Plan,
    ProvisionerError,
    ProvisionResult,
    Resource,
    ResourceConflict,
    Write,
    reconcile,
)


def provision_backend(
    backend: Mapping[str, Any],
    auth: AuthContext,
    options: Mapping[str, Any] | None,
    *,
    dry_run: bool = False,
    clients: ClientCache | None = None,
) -> ProvisionResult:
    """Make the component's gcs backend bucket exist and be secure; the hook implementation."""
    config = parse(backend, options)
    creds = _require_credentials(auth, config)
    api = _api(config, creds, clients if clients is not None else ClientCache())
    recorder = ChangeRecorder(f"gs://{config.backend.bucket}", dry_run=dry_run, report_only=config.options.report_only)
    for warning in config.warnings:
        recorder.warn(warning)
    bucket = BucketResource(config, api, recorder, default_project=getattr(creds, "project", None))
    done = reconcile(bucket, recorder)
    recorder.details.update(_details(config, done.state, api))
    if bucket.gcp_project:
        recorder.details["project"] = bucket.gcp_project
    return recorder.result()


def read_object(backend: Mapping[str, Any], auth: AuthContext, name: str, clients: ClientCache) -> bytes | None:
    """One object of the backend's bucket (a state object), or None when it does not exist."""
    config = parse(backend, {})
    api = _api(config, _require_credentials(auth, config), clients)
    return api.read_object(config.backend.bucket, name)


def _require_credentials(auth: AuthContext, config: Config) -> GcpCredentials:
    try:
        creds = auth.require("gcp")
    except ConfigError as exc:
        if not config.backend.terraform_credentials:
            raise
        # Terraform's own credentials in backend.gcs are deliberately not used by provisioners.
        raise ConfigError(
            exc.message,
            hint=(*exc.hints, "backend.gcs.credentials/access_token are for Terraform only; give the provisioner the same identity under auth.providers.gcp."),
            context=exc.context,
        ) from None
    if not isinstance(creds, GcpCredentials):
        raise ConfigError("auth.providers.gcp did not produce GCP credentials", hint="Use a gcp provider type of provisioner-backend-gcs: service-account-file, access-token or anonymous.")
    return creds


def _api(config: Config, creds: GcpCredentials, clients: ClientCache) -> GcsApi:
    backend = config.backend
    fingerprint = creds.fingerprint()
    # The cache key holds no secret: a fingerprint, the endpoint and the impersonation target.
    key = ("gcs", fingerprint, backend.endpoint, backend.impersonate_service_account, backend.impersonate_delegates)

    def build() -> tuple[Identity, Any]:
        identity = google_credentials(creds, backend)
        return identity, storage_client(identity, backend.endpoint)

    identity, client = clients.get(key, build)
    return GcsApi(client, endpoint=backend.endpoint, attempts=config.options.attempts, identity=identity, kms_key=config.bucket_kms_key)


class BucketResource(Resource[BucketState]):
    """The bucket, for core's reconcile template: GET, POST with every setting, one guarded PATCH."""

    def __init__(self, config: Config, api: GcsApi, recorder: ChangeRecorder, default_project: str | None = None) -> None:
        self.config = config
        self.api = api
        self.rec = recorder
        self.name = config.backend.bucket
        self.target = f"gcs bucket {self.name}"
        self.wait_timeout = config.options.wait_timeout
        self.default_project = default_project
        self.gcp_project: str | None = None
        self.location: str | None = None

    def read(self) -> BucketState | None:
        return self.api.get(self.name)

    def creation(self) -> Write:
        """Project and location: needed only to create, so only asked for here."""
        options = self.config.options
        self.gcp_project, self.location = options.project or self.default_project, options.location
        missing = [key for key, value in (("project", self.gcp_project), ("location", self.location)) if not value]
        if missing:
            raise ConfigError(
                f"gcs bucket {self.name} does not exist; creating it needs provision.backend.{' and provision.backend.'.join(missing)}",
                hint="Add e.g. `project: my-project` and `location: EU` under provision.backend (the project may also come from "
                "auth.providers.gcp.project). They are needed only to create: an existing bucket needs neither.",
                context={"bucket": self.name, "missing": ", ".join(missing)},
            )
        settings = desired_patch(self.config)
        return Write("create", f"project {self.gcp_project}, location {self.location}" + (f", {settings.describe()}" if settings else ""), payload=settings)

    def create(self, write: Write) -> BucketState:
        assert self.gcp_project is not None and self.location is not None
        return self.api.create(self.name, project=self.gcp_project, location=self.location, settings=write.payload)

    def planned(self) -> BucketState:
        return BucketState(self.name, location=self.location).with_patch(desired_patch(self.config))

    def plan(self, actual: BucketState) -> Plan:
        return bucket_plan(self.config, actual)

    def apply(self, state: BucketState, write: Write) -> BucketState:
        return self.api.patch(state, write.payload)

    def project(self, state: BucketState, write: Write) -> BucketState:
        return state.with_patch(write.payload)

    def verify(self, state: BucketState) -> None:
        """Warn when the server accepted a patch but did not apply some setting (some emulators)."""
        _, missing = plan(self.config, state)
        if missing:
            names = ", ".join(skip_name(field) for field in missing.fields())
            self.rec.warn(
                f"the server accepted the update of gcs bucket {self.name} but did not apply: {names}; "
                f"if it cannot store them (an emulator), add them to provision.backend.skip"
            )

    def taken(self, race: LostRace, *, readable: bool) -> ProvisionerError:
        return ResourceConflict(
            f"gcs bucket name {self.name} is taken by another project (409 on create, and it is {'not visible' if readable else 'not readable'} to us)",
            hint="Bucket names are global across all projects: choose another backend.gcs.bucket.",
            context={"bucket": self.name, "endpoint": self.api.endpoint},
        )


def _details(config: Config, state: BucketState, api: GcsApi) -> dict[str, Any]:
    backend = config.backend
    if backend.object_kms_key:
        objects = f"kms key {backend.object_kms_key}"
    elif backend.customer_supplied_key:
        objects = "customer-supplied key (backend.gcs.encryption_key)"
    else:
        objects = "bucket default"
    details = {
        **state.details(),
        "state_prefix": backend.prefix or "",
        "endpoint": api.endpoint,
        "state_object_encryption": objects,
    }
    if backend.impersonate_service_account:
        details["impersonated_service_account"] = backend.impersonate_service_account
    return details


__all__ = ["BucketResource", "Patch", "provision_backend"]
