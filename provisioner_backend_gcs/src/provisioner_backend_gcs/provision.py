"""Read the bucket, create it if (and only if) the server says 404, strengthen drift, report.

The flow, one code path for real runs, dry runs and report-only runs:

1. GET the bucket. 404 -> missing; any other error is mapped (never "missing").
2. Missing: create it with every setting in the create call, then PATCH whatever the
   server did not apply (emulators ignore settings at create). A 409 means the name exists:
   if we can read it, a concurrent run made it and we continue; otherwise exit 4.
3. Existing: compare every setting, record drift, PATCH only strengthening changes in one
   call guarded by the bucket's metageneration. A compliant bucket gets no write call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner_backend_gcs.client import BucketConflict, GcsApi, Identity, StaleBucket, google_credentials, storage_client
from provisioner_backend_gcs.config import Config, parse
from provisioner_backend_gcs.credentials import GcpCredentials
from provisioner_backend_gcs.settings import BucketState, Patch, desired_patch, plan
from provisioner_core import AuthContext, ChangeRecorder, ClientCache, ConfigError, PermissionDenied, ProvisionResult, ResourceConflict


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
    reconciler = Reconciler(config, api, recorder, default_project=getattr(creds, "project", None))
    state = reconciler.run()
    recorder.details.update(_details(config, state, api))
    if reconciler.project:
        recorder.details["project"] = reconciler.project
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
    return GcsApi(client, endpoint=backend.endpoint, attempts=config.options.retries, identity=identity, kms_key=config.bucket_kms_key)


class Reconciler:
    """One run against one bucket; returns the bucket's resulting (or planned) settings."""

    def __init__(self, config: Config, api: GcsApi, recorder: ChangeRecorder, default_project: str | None = None) -> None:
        self.config = config
        self.api = api
        self.rec = recorder
        self.name = config.backend.bucket
        self.target = f"gcs bucket {self.name}"
        self.default_project = default_project
        self.project: str | None = None

    def run(self) -> BucketState:
        actual = self.api.get(self.name)
        if actual is None:
            created = self.create()
            if created is not None:
                return created
            actual = self.after_conflict()
        return self.strengthen(actual)

    # --- missing bucket -------------------------------------------------------------------

    def create(self) -> BucketState | None:
        """Create the bucket; None when the create met a 409 (the caller goes on with the existing one)."""
        if self.rec.report_only:
            raise ConfigError(
                f"gcs bucket {self.name} does not exist, and provision.backend.report_only is true",
                hint="Run without report_only to create it, or create it yourself; report_only never creates anything.",
                context={"bucket": self.name},
            )
        project, location = self.create_inputs()
        settings = desired_patch(self.config)
        detail = f"project {project}, location {location}" + (f", {settings.describe()}" if settings else "")
        try:
            created = self.rec.write(
                "create", self.target, lambda: self.api.create(self.name, project=project, location=location, settings=settings), detail, creates=True
            )
        except BucketConflict:
            # We did not create it; "Calls made" must not read as if this create had succeeded (as backend-s3 does).
            self.rec.amend_last(detail="answered 409: the bucket already existed (a concurrent run, or this run's own earlier attempt whose response was lost)", created=False)
            return None
        if created is None:  # dry run: what the new bucket would look like
            return BucketState(self.name, location=location).with_patch(settings)
        _, leftovers = plan(self.config, created)
        if not leftovers:
            return created
        try:
            patched = self.rec.write(
                "patch", self.target, lambda: self.api.patch(created, leftovers), f"settings the server ignored at create: {leftovers.describe()}"
            )
        except StaleBucket:
            return self.after_stale()
        return self.verify(patched)

    def create_inputs(self) -> tuple[str, str]:
        """Project and location: needed only to create, so only asked for here."""
        options = self.config.options
        self.project = options.project or self.default_project
        missing = [key for key, value in (("project", self.project), ("location", options.location)) if not value]
        if missing:
            raise ConfigError(
                f"gcs bucket {self.name} does not exist; creating it needs provision.backend.{' and provision.backend.'.join(missing)}",
                hint="Add e.g. `project: my-project` and `location: EU` under provision.backend (the project may also come from "
                "auth.providers.gcp.project). They are needed only to create: an existing bucket needs neither.",
                context={"bucket": self.name, "missing": ", ".join(missing)},
            )
        assert self.project is not None and options.location is not None
        return self.project, options.location

    def after_conflict(self) -> BucketState:
        """A 409 on create: continue only when the bucket is now readable, i.e. in a project we can use."""
        try:
            existing = self.api.get(self.name)
        except PermissionDenied:
            existing = None
            readable = False
        else:
            readable = True
        if existing is None:
            raise ResourceConflict(
                f"gcs bucket name {self.name} is taken by another project (409 on create, and it is {'not visible' if readable else 'not readable'} to us)",
                hint="Bucket names are global across all projects: choose another backend.gcs.bucket.",
                context={"bucket": self.name, "endpoint": self.api.endpoint},
            )
        self.rec.warn(f"gcs bucket {self.name} appeared while this run was creating it (409, probably a concurrent run); continuing with it")
        return existing

    # --- existing bucket ------------------------------------------------------------------

    def strengthen(self, actual: BucketState) -> BucketState:
        changes, patch = plan(self.config, actual)
        for change in changes:
            self.rec.drifted(change.setting, change.expected, change.actual, stronger=change.stronger, reason=change.reason)
        if not patch:
            return actual
        try:
            patched = self.rec.write("patch", self.target, lambda: self.api.patch(actual, patch), patch.describe())
        except StaleBucket:
            return self.after_stale()
        if patched is None:  # dry run shows the planned result; report-only shows the bucket as it is
            return actual.with_patch(patch) if self.rec.dry_run else actual
        return self.verify(patched)

    def after_stale(self) -> BucketState:
        """A 412: the bucket changed under us. Re-read once and try again; a second 412 is a conflict."""
        current = self.api.get(self.name)
        if current is None:
            raise ResourceConflict(f"gcs bucket {self.name} was deleted while it was being updated", hint="Run again to recreate it.", context={"bucket": self.name})
        _, patch = plan(self.config, current)
        if not patch:
            self.rec.warn(f"gcs bucket {self.name} changed while it was being updated; it now has the required settings")
            return current
        try:
            patched = self.rec.write("patch", self.target, lambda: self.api.patch(current, patch), f"retry after a concurrent change: {patch.describe()}")
        except StaleBucket:
            raise ResourceConflict(
                f"gcs bucket {self.name} keeps changing while it is being updated (412 twice)",
                hint="Another process is changing the bucket's settings; run again once it is done.",
                context={"bucket": self.name},
            ) from None
        return self.verify(patched)

    def verify(self, patched: BucketState) -> BucketState:
        """Warn when the server accepted a patch but did not apply some setting (some emulators)."""
        _, missing = plan(self.config, patched)
        if missing:
            names = ", ".join(_skip_name(field) for field in missing.fields())
            self.rec.warn(
                f"the server accepted the update of gcs bucket {self.name} but did not apply: {names}; "
                f"if it cannot store them (an emulator), add them to provision.backend.skip"
            )
        return patched


def _skip_name(field: str) -> str:
    return {"kms_key": "kms", "soft_delete_seconds": "soft_delete", "retention_seconds": "retention"}.get(field, field)


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


__all__ = ["Patch", "Reconciler", "provision_backend"]
