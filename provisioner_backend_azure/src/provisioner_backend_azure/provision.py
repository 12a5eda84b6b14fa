"""Read, compare and strengthen: the azurerm backend's resource group, account and container.

Two planes:

* management (ARM, the ``[mgmt]`` extra; when ``subscription_id`` + ``resource_group_name``
  and token credentials are configured): the resource group, the StorageV2 account and its
  settings, blob versioning, blob and container soft delete;
* data (azure-storage-blob, always): blob soft delete when ARM is not in play, and the
  private container with its ``managed_by`` metadata.

Existing resources are read first and only ever strengthened; every write goes through the
ChangeRecorder, so a dry run lists the same calls a real run makes, and a compliant second
run makes reads only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from attrs import field, frozen

from provisioner_backend_azure import client as sdk
from provisioner_backend_azure.config import (
    MANAGED_BY_METADATA,
    MANAGED_BY_TAG,
    TLS_ORDER,
    Options,
    Target,
    parse_backend,
    parse_options,
    resolve_target,
)
from provisioner_backend_azure.credentials import AzureCredentials
from provisioner_backend_azure.errors import ACCOUNT_ROLE, DATA_ROLE, INSTALL_HINT, MGMT_ROLE, error_code, name_not_resolved, translated
from provisioner_core import (
    AuthContext,
    ChangeRecorder,
    ClientCache,
    ConfigError,
    PermissionDenied,
    ProvisionResult,
    ResolvedComponent,
    ResourceConflict,
)

SKIPPED = "skipped by provision.backend.skip"
ACCOUNT_SETTINGS = ("min_tls_version", "https_only", "blob_public_access", "versioning", "container_soft_delete")
KEY_ROLE = "Storage Account Key Operator Service Role (or Contributor)"


def provision(component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache) -> ProvisionResult:
    """Make the component's azurerm backend exist with secure settings; see docs/backends/azure.md."""
    backend = parse_backend(component.backend)
    opts = parse_options(options)
    creds = require_credentials(auth)
    target, warnings = resolve_target(backend, opts, creds)
    rec = ChangeRecorder(target.resource, dry_run=dry_run, report_only=opts.report_only)
    for warning in (*backend.warnings, *opts.warnings, *warnings):
        rec.warn(warning)
    rec.details.update(account=target.account, container=target.container, endpoint=target.blob_endpoint, credential=target.credential_method)
    Run(target, opts, creds, clients, rec).run()
    return rec.result()


def require_credentials(auth: AuthContext) -> AzureCredentials:
    creds = auth.require("azure")
    if not isinstance(creds, AzureCredentials):
        raise ConfigError("auth.providers.azure did not produce Azure credentials", hint="Use an azure provider type of provisioner-backend-azurerm.")
    return creds


def read_blob(component: ResolvedComponent, auth: AuthContext, name: str, clients: ClientCache) -> bytes | None:
    """One blob of the backend's container (a state blob), or None when it does not exist; data plane only."""
    from azure.core.exceptions import ResourceNotFoundError

    backend = parse_backend(component.backend)
    opts = parse_options({})
    creds = require_credentials(auth)
    target, _ = resolve_target(backend, opts, creds)
    method = target.credential_method if target.credential_method in ("connection-string", "account-key", "sas") else "token"
    with translated("read", target=f"blob {name} in {target.container}", endpoint=target.blob_endpoint, role=DATA_ROLE, attempts=opts.attempts):
        service = sdk.blob_service(target, creds, clients, endpoint=target.blob_endpoint, auth=method, attempts=opts.attempts)
        try:
            data: bytes = service.get_blob_client(target.container, name).download_blob().readall()
        except ResourceNotFoundError:
            return None
    return data


@frozen
class DataAccess:
    """How the data plane is reached once the management plane had its say."""

    endpoint: str
    auth: str  # a credential method, "token" or "listed-key"
    account_key: str | None = field(default=None, repr=False)  # from ARM listKeys; never logged or returned
    planned: bool = False  # the account does not exist yet (dry run): plan, do not read


class Run:
    """One provisioning run for one target."""

    def __init__(self, target: Target, opts: Options, creds: AzureCredentials, clients: ClientCache, rec: ChangeRecorder) -> None:
        self.target = target
        self.opts = opts
        self.creds = creds
        self.clients = clients
        self.rec = rec
        self.mgmt_missing = False  # ARM is configured but the [mgmt] extra is not installed

    # --- helpers -----------------------------------------------------------------------

    def check(self, setting: str, expected: Any, actual: Any, *, stronger: bool = True, reason: str = "") -> bool:
        """Record drift on ``setting``; True when the fix should be written (never for a skipped setting)."""
        if self.opts.skips(setting):
            self.rec.drifted(setting, expected, actual, stronger=False, reason=SKIPPED)
            return False
        return self.rec.drifted(setting, expected, actual, stronger=stronger, reason=reason)

    def missing(self, what: str, create_hint: str) -> ConfigError:
        """A resource that must be created while report_only forbids writes."""
        return ConfigError(
            f"{what} does not exist and provision.backend.report_only is true",
            hint=f"Run once without report_only to create it, or {create_hint}.",
            context={"target": self.target.resource},
        )

    # --- the run -----------------------------------------------------------------------

    def run(self) -> None:
        access = DataAccess(self.target.blob_endpoint, "token" if self.target.credential_method in ("service-principal", "azure-cli") else self.target.credential_method)
        if self.target.management and not sdk.mgmt_installed():
            self.mgmt_missing = True
            self.rec.details["management_plane"] = "not installed"
            self.rec.warn(
                "the management plane is configured (subscription_id, resource_group_name, token credentials) but azure-mgmt-resource/"
                f"azure-mgmt-storage are not installed: account settings were not checked; {INSTALL_HINT}"
            )
        elif self.target.management:
            self.rec.details["management_plane"] = "used"
            access = Management(self).run()
        else:
            self.rec.details["management_plane"] = f"not used: {self.target.management_reason}"
            unchecked = [s for s in ACCOUNT_SETTINGS if not self.opts.skips(s)]
            if unchecked and not self.opts.skips("account"):
                self.rec.warn(f"account settings ({', '.join(unchecked)}) were not checked: {self.target.management_reason}")
        DataPlane(self, access).run()


class Management:
    """The ARM half: resource group, storage account, blob service properties, data-plane access."""

    def __init__(self, run: Run) -> None:
        self.run_ = run
        self.t = run.target
        self.opts = run.opts
        self.rec = run.rec
        self.arm = sdk.arm_clients(run.target, run.creds, run.clients, run.opts.attempts)
        self.rg = self.t.resource_group or ""

    def call(self, operation: str, target: str, fn: Callable[[], Any], role: str = MGMT_ROLE) -> Any:
        with translated(operation, target=target, endpoint=self.t.environment.arm_endpoint, role=role, attempts=self.opts.attempts):
            return fn()

    def get_or_none(self, operation: str, target: str, fn: Callable[[], Any], not_found: tuple[str, ...]) -> dict[str, Any] | None:
        """A GET that answers None for a 404 with one of the ``not_found`` codes."""
        from azure.core.exceptions import ResourceNotFoundError

        with translated(operation, target=target, endpoint=self.t.environment.arm_endpoint, role=MGMT_ROLE, attempts=self.opts.attempts):
            try:
                return rest_json(fn())
            except ResourceNotFoundError as exc:
                if error_code(exc) in not_found:
                    return None
                raise

    def run(self) -> DataAccess:
        location = self.resource_group()
        account = self.get_or_none(
            "read", f"storage account {self.t.account}", lambda: self.arm.storage.storage_accounts.get_properties(self.rg, self.t.account), ("ResourceNotFound", "StorageAccountNotFound", "ResourceGroupNotFound")
        )
        new = account is None
        if account is None:
            account = self.create_account(location)
            if account is None:  # planned only (dry run): nothing to read yet
                self.blob_service(None, new=True)
                return DataAccess(f"https://{self.t.account}.blob.{self.t.environment.storage_suffix}", "token" if self.t.use_azuread_auth else "listed-key", planned=True)
        else:
            self.strengthen_account(account)
        self.blob_service(self.get_blob_service(), new=new)
        return self.data_access(account)

    def resource_group(self) -> str | None:
        """The resource group's location; creates the group when missing (it is never deleted or changed)."""
        if self.opts.skips("resource_group"):
            self.rec.details["resource_group"] = {"name": self.rg, "checked": False}
            return None
        group = self.get_or_none("read", f"resource group {self.rg}", lambda: self.arm.resources.resource_groups.get(self.rg), ("ResourceGroupNotFound", "ResourceNotFound"))
        if group is not None:
            self.rec.details["resource_group"] = {"name": self.rg, "location": group.get("location")}
            return group.get("location")
        if self.opts.report_only:
            raise self.run_.missing(f"resource group {self.rg}", "create it yourself")
        if not self.opts.location:
            raise ConfigError(
                f"resource group {self.rg} does not exist and no location is configured to create it",
                hint="Add `location: <region>` (e.g. westeurope) under provision.backend, or create the resource group.",
                context={"key": "provision.backend.location"},
            )
        body = {"location": self.opts.location, "tags": self.opts.desired_tags()}
        self.rec.write(
            "create-resource-group",
            f"resource group {self.rg}",
            lambda: self.call("create", f"resource group {self.rg}", lambda: self.arm.resources.resource_groups.create_or_update(self.rg, body)),
            f"location {self.opts.location}, tags {MANAGED_BY_TAG}",
            creates=True,
        )
        self.rec.details["resource_group"] = {"name": self.rg, "location": self.opts.location}
        return self.opts.location

    # --- the storage account ---------------------------------------------------------------

    def create_body(self, location: str) -> dict[str, Any]:
        props: dict[str, Any] = {}
        if not self.opts.skips("min_tls_version"):
            props["minimumTlsVersion"] = self.opts.min_tls_version
        if not self.opts.skips("https_only"):
            props["supportsHttpsTrafficOnly"] = True
        if not self.opts.skips("blob_public_access"):
            props["allowBlobPublicAccess"] = False
        if self.t.use_azuread_auth and not self.opts.skips("shared_key_access"):
            props["allowSharedKeyAccess"] = False
        body: dict[str, Any] = {"location": location, "kind": "StorageV2", "sku": {"name": self.opts.sku or "Standard_LRS"}, "properties": props}
        if not self.opts.skips("tags"):
            body["tags"] = self.opts.desired_tags()
        return body

    def create_account(self, rg_location: str | None) -> dict[str, Any] | None:
        """Create the account with the secure defaults; None when only planned."""
        name = self.t.account
        if self.opts.report_only:
            raise self.run_.missing(f"storage account {name}", "create it yourself")
        # A read (POST): a name taken anywhere in Azure fails here, in a dry run too.
        try:
            availability = rest_json(
                self.call("check-name-availability", f"storage account {name}", lambda: self.arm.storage.storage_accounts.check_name_availability({"name": name, "type": "Microsoft.Storage/storageAccounts"}))
            )
        except PermissionDenied:
            # An identity scoped to the resource group may not read at subscription scope; the create call says "taken" too.
            self.rec.warn(f"could not check whether the name {name} is free (Microsoft.Storage/checknameavailability/read at subscription scope); creating it directly")
            availability = {}
        if availability.get("nameAvailable") is False:
            reason = availability.get("reason") or "AlreadyExists"
            if reason == "AccountNameInvalid":
                raise ConfigError(f"storage account name {name!r} is invalid: {availability.get('message', '')}", hint="Choose another backend.storage_account_name.")
            raise ResourceConflict(
                f"storage account {name} does not exist in resource group {self.rg} and its name is taken (StorageAccountAlreadyTaken: {reason})",
                hint="Storage account names are global across all of Azure; choose another backend.storage_account_name, or point resource_group_name/subscription_id at the account you own.",
                context={"error_code": "StorageAccountAlreadyTaken", "target": f"storage account {name}"},
            )
        location = self.opts.location or rg_location
        if not location:
            raise ConfigError(
                f"storage account {name} does not exist and no location is configured to create it",
                hint="Add `location: <region>` under provision.backend.",
                context={"key": "provision.backend.location"},
            )
        body = self.create_body(location)
        settings = ", ".join(f"{k}={_text(v)}" for k, v in body["properties"].items())
        created = self.rec.write(
            "create-storage-account",
            f"storage account {name}",
            lambda: rest_json(self.call("create", f"storage account {name}", lambda: self.arm.storage.storage_accounts.begin_create(self.rg, name, body).result())),
            f"StorageV2 {body['sku']['name']} in {location}" + (f", {settings}" if settings else ""),
            creates=True,
        )
        self.rec.details["account_settings"] = {"kind": "StorageV2", "sku": body["sku"]["name"], "location": location, **{_snake(k): v for k, v in body["properties"].items()}, "tags": body.get("tags", {})}
        return created

    def strengthen_account(self, account: dict[str, Any]) -> None:
        """Compare an existing account with the secure defaults; one PATCH with what is weaker."""
        props = account.get("properties") or {}
        patch: dict[str, Any] = {}
        kind = account.get("kind")
        if kind != "StorageV2":
            self.rec.drifted("kind", "StorageV2", kind, stronger=False, reason="upgrading the account kind is one-way and changes pricing; upgrade it yourself")
        sku = (account.get("sku") or {}).get("name")
        if self.opts.sku and sku != self.opts.sku:
            self.rec.drifted("sku", self.opts.sku, sku, stronger=False, reason="the SKU sets cost and redundancy; change it yourself")
        tls = props.get("minimumTlsVersion") or "TLS1_0"  # absent on old accounts, which accept TLS 1.0
        if _tls_rank(tls) < _tls_rank(self.opts.min_tls_version) and self.run_.check("min_tls_version", self.opts.min_tls_version, tls):
            patch["minimumTlsVersion"] = self.opts.min_tls_version
        if props.get("supportsHttpsTrafficOnly") is not True and self.run_.check("https_only", True, props.get("supportsHttpsTrafficOnly")):
            patch["supportsHttpsTrafficOnly"] = True
        if props.get("allowBlobPublicAccess") is not False:  # absent means allowed on accounts created before 2023
            public = self.public_containers() if not self.opts.skips("blob_public_access") else []
            reason = f"containers {', '.join(public)} allow public access; disallowing it on the account would cut them off" if public else ""
            if self.run_.check("blob_public_access", False, props.get("allowBlobPublicAccess", True), stronger=not public, reason=reason):
                patch["allowBlobPublicAccess"] = False
        if self.t.use_azuread_auth and props.get("allowSharedKeyAccess") is not False:
            if self.run_.check("shared_key_access", False, props.get("allowSharedKeyAccess", True)):
                patch["allowSharedKeyAccess"] = False
        body: dict[str, Any] = {"properties": patch} if patch else {}
        if not self.opts.skips("tags"):
            # ARM compares tag names without regard to case: "Managed-By" is our managed-by tag.
            merged = merge_labels(account.get("tags") or {}, self.opts.desired_tags(), self.rec, "tags", MANAGED_BY_TAG, case_insensitive=True)
            if merged is not None:
                body["tags"] = merged
        if body:
            detail = ", ".join([f"{k}={_text(v)}" for k, v in patch.items()] + (["tags merged"] if "tags" in body else []))
            self.rec.write(
                "update-storage-account",
                f"storage account {self.t.account}",
                lambda: self.call("update", f"storage account {self.t.account}", lambda: self.arm.storage.storage_accounts.update(self.rg, self.t.account, body)),
                detail,
            )
        result = {**props, **patch}
        self.rec.details["account_settings"] = {
            "kind": kind,
            "sku": sku,
            "location": account.get("location"),
            "min_tls_version": result.get("minimumTlsVersion") or "TLS1_0",
            "https_only": result.get("supportsHttpsTrafficOnly"),
            "allow_blob_public_access": result.get("allowBlobPublicAccess", True),
            "allow_shared_key_access": result.get("allowSharedKeyAccess", True),
            "tags": body.get("tags", account.get("tags") or {}),
        }

    def public_containers(self) -> list[str]:
        """Containers that allow anonymous access (read before disallowing it account-wide)."""
        listed = self.call("list-containers", f"storage account {self.t.account}", lambda: list(self.arm.storage.blob_containers.list(self.rg, self.t.account)))
        public = []
        for item in listed:
            data = rest_json(item)
            access = (data.get("properties") or {}).get("publicAccess") or "None"
            if access != "None" and data.get("name") != self.t.container:  # ours is made private below anyway
                public.append(str(data.get("name")))
        return sorted(public)

    # --- blob service: versioning and soft delete ------------------------------------------

    def get_blob_service(self) -> dict[str, Any]:
        return rest_json(
            self.call("read", f"blob service of {self.t.account}", lambda: self.arm.storage.blob_services.get_service_properties(self.rg, self.t.account))
        )

    def blob_service(self, current: dict[str, Any] | None, *, new: bool) -> None:
        """Versioning on; blob and container soft delete at least the configured days (never lowered)."""
        props = dict((current or {}).get("properties") or {})
        changes: list[str] = []
        if not props.get("isVersioningEnabled") and self.check_new(new, "versioning", True, props.get("isVersioningEnabled", False)):
            props["isVersioningEnabled"] = True
            changes.append("versioning on")
        for setting, policy_name, days in (
            ("blob_soft_delete", "deleteRetentionPolicy", self.opts.blob_retention_days),
            ("container_soft_delete", "containerDeleteRetentionPolicy", self.opts.container_retention_days),
        ):
            policy = dict(props.get(policy_name) or {})
            actual = policy.get("days") if policy.get("enabled") else None
            if actual is None or actual < days:
                if self.check_new(new, setting, f"{days} days", f"{actual} days" if actual else "disabled"):
                    policy.update(enabled=True, days=days)
                    props[policy_name] = policy
                    changes.append(f"{policy_name} {days} days")
        if changes:
            body = {"properties": props}  # read-modify-write: CORS, change feed and the rest are sent back unchanged
            self.rec.write(
                "set-blob-service-properties",
                f"blob service of {self.t.account}",
                lambda: self.call("update", f"blob service of {self.t.account}", lambda: self.arm.storage.blob_services.set_service_properties(self.rg, self.t.account, body)),
                ", ".join(changes),
            )
        self.rec.details["versioning"] = bool(props.get("isVersioningEnabled"))
        for key, policy_name in (("blob_retention_days", "deleteRetentionPolicy"), ("container_retention_days", "containerDeleteRetentionPolicy")):
            policy = props.get(policy_name) or {}
            self.rec.details[key] = policy.get("days") if policy.get("enabled") else None

    def check_new(self, new: bool, setting: str, expected: Any, actual: Any) -> bool:
        """Drift on an existing account; on one this run creates, just whether the setting is managed."""
        if new:
            return not self.opts.skips(setting)
        return self.run_.check(setting, expected, actual)

    # --- how the data plane signs in ---------------------------------------------------------

    def data_access(self, account: dict[str, Any]) -> DataAccess:
        """Azure AD when the backend uses it (or keys are off); otherwise a listed key, as terraform does."""
        props = account.get("properties") or {}
        endpoint = ((props.get("primaryEndpoints") or {}).get("blob") or f"https://{self.t.account}.blob.{self.t.environment.storage_suffix}/").rstrip("/")
        if endpoint != self.t.blob_endpoint:
            self.rec.details["endpoint"] = endpoint
        keys_off = props.get("allowSharedKeyAccess") is False
        if self.t.use_azuread_auth or keys_off:
            if keys_off and not self.t.use_azuread_auth:
                self.rec.warn(
                    f"shared key access is disabled on {self.t.account} but backend.use_azuread_auth is false: terraform cannot use a key; set use_azuread_auth: true"
                )
            return DataAccess(endpoint, "token")
        listed = rest_json(
            self.call("list-keys", f"storage account {self.t.account}", lambda: self.arm.storage.storage_accounts.list_keys(self.rg, self.t.account), role=KEY_ROLE)
        )
        keys = [k.get("value") for k in listed.get("keys") or [] if k.get("value")]
        if not keys:
            raise ConfigError(f"storage account {self.t.account} returned no access keys", hint="Set backend.use_azuread_auth: true to use Azure AD instead.")
        return DataAccess(endpoint, "listed-key", account_key=keys[0])


class DataPlane:
    """The blob-service half: blob soft delete (without ARM) and the private container."""

    def __init__(self, run: Run, access: DataAccess) -> None:
        self.run_ = run
        self.t = run.target
        self.opts = run.opts
        self.rec = run.rec
        self.access = access
        self.role = DATA_ROLE if access.auth == "token" else "a valid key or SAS"

    def call(self, operation: str, target: str, fn: Callable[[], Any], role: str | None = None) -> Any:
        with translated(operation, target=target, endpoint=self.access.endpoint, role=role or self.role, attempts=self.opts.attempts):
            return sdk.throttled(fn, self.opts.attempts)

    def run(self) -> None:
        if self.access.planned:
            self.plan_container()
            return
        try:
            service = self.call(
                "connect",
                f"storage account {self.t.account}",
                lambda: sdk.blob_service(
                    self.t, self.run_.creds, self.run_.clients, endpoint=self.access.endpoint, auth=self.access.auth, attempts=self.opts.attempts, account_key=self.access.account_key
                ),
            )
        except ValueError as exc:  # the SDK refuses e.g. a token over plain http, or a malformed connection string
            raise ConfigError(
                f"cannot use {self.t.credential_method} credentials with {self.access.endpoint}: {exc}",
                hint="Azure AD tokens are only sent over https; check the endpoint and auth.providers.azure.",
                context={"endpoint": self.access.endpoint, "source": self.t.endpoint_source},
            ) from exc
        container = service.get_container_client(self.t.container)
        if (not self.t.management or self.run_.mgmt_missing) and not self.opts.skips("blob_soft_delete"):
            # The two reads of a no-op check are independent: the container's goes out while the service's is handled.
            with _first_attempt_in_background(container.get_container_properties) as read_container:
                self.blob_retention(service)
                self.container(container, read_container)
        else:
            self.container(container, container.get_container_properties)

    def account_missing(self) -> ConfigError:
        if self.run_.mgmt_missing:
            hint = f"Install the management plane so the provisioner can create it: {INSTALL_HINT}"
        elif not self.t.management:
            hint = (
                "Create the account, or let the provisioner create it: set backend.resource_group_name and subscription_id, use "
                f"service-principal or azure-cli credentials, and {INSTALL_HINT}"
            )
        else:
            hint = "Check backend.storage_account_name."
        return ConfigError(
            f"storage account {self.t.account} does not exist at {self.access.endpoint}",
            hint=hint,
            context={"endpoint": self.access.endpoint, "source": self.t.endpoint_source},
        )

    def first_call(self, operation: str, target: str, fn: Callable[[], Any], role: str | None = None) -> Any:
        """A call that also tells a missing account (404 other than ContainerNotFound, or no DNS name) apart."""
        from azure.core.exceptions import ResourceNotFoundError, ServiceRequestError

        with translated(operation, target=target, endpoint=self.access.endpoint, role=role or self.role, attempts=self.opts.attempts):
            try:
                return sdk.throttled(fn, self.opts.attempts)
            except ResourceNotFoundError as exc:
                if error_code(exc) == "ContainerNotFound":
                    return None
                raise self.account_missing() from exc
            except ServiceRequestError as exc:
                if self.run_.mgmt_missing and name_not_resolved(exc):
                    raise self.account_missing() from exc
                raise

    # --- blob soft delete without ARM ------------------------------------------------------

    def blob_retention(self, service: Any) -> None:
        from azure.storage.blob import RetentionPolicy

        role = ACCOUNT_ROLE if self.access.auth == "token" else None
        properties = self.first_call("read", f"blob service of {self.t.account}", service.get_service_properties, role=role)
        policy = properties.get("delete_retention_policy")
        actual = policy.days if policy is not None and policy.enabled else None
        desired = self.opts.blob_retention_days
        if actual is None or actual < desired:
            if self.run_.check("blob_soft_delete", f"{desired} days", f"{actual} days" if actual else "disabled"):
                # Only this element is sent; the service keeps logging, metrics and CORS as they are.
                self.rec.write(
                    "set-blob-service-properties",
                    f"blob service of {self.t.account}",
                    lambda: self.call(
                        "update", f"blob service of {self.t.account}", lambda: service.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True, days=desired)), role=role
                    ),
                    f"deleteRetentionPolicy {desired} days",
                )
                actual = desired
        self.rec.details["blob_retention_days"] = actual

    # --- the container ---------------------------------------------------------------------

    def plan_container(self) -> None:
        self.rec.write("create-container", f"container {self.t.container}", None, f"private, metadata {MANAGED_BY_METADATA}")
        self.rec.details.update(container_public_access="private", container_metadata=self.opts.desired_metadata())

    def container(self, container: Any, read: Callable[[], Any]) -> None:
        properties = self.first_call("read", f"container {self.t.container}", read)
        if properties is None:
            if self.opts.report_only:
                raise self.run_.missing(f"container {self.t.container}", "create it yourself")
            metadata = self.opts.desired_metadata() if not self.opts.skips("metadata") else {}
            created_before = self.rec.created
            raced = self.rec.write(
                "create-container",
                f"container {self.t.container}",
                lambda: self.create(container, metadata),
                f"private (no public access), metadata {MANAGED_BY_METADATA}={metadata.get(MANAGED_BY_METADATA, '-')}",
                creates=True,
            )
            if not raced:
                self.rec.details.update(container_public_access="private", container_metadata=metadata)
                return
            # This run did not create it; "Calls made" must not read as if this create had succeeded (as backend-s3 does).
            self.rec.amend_last(detail="answered 409 ContainerAlreadyExists: someone created it first; its settings are checked below", created=created_before)
            # A retried create whose first response was lost also lands here: do not blame someone else.
            self.rec.warn(
                f"container {self.t.container} already existed when this run created it (a concurrent run, or this run's own "
                "earlier attempt whose response was lost); checking its settings"
            )
            properties = self.call("read", f"container {self.t.container}", container.get_container_properties)
        self.strengthen_container(container, properties)

    def create(self, container: Any, metadata: dict[str, str]) -> bool:
        """Create the container private; True when someone else created it first (a concurrent run)."""
        from azure.core.exceptions import ResourceExistsError

        with translated("create", target=f"container {self.t.container}", endpoint=self.access.endpoint, role=self.role, attempts=self.opts.attempts):
            try:
                sdk.throttled(lambda: container.create_container(metadata=metadata), self.opts.attempts)
            except ResourceExistsError as exc:
                if error_code(exc) == "ContainerAlreadyExists":
                    return True
                raise
        return False

    def strengthen_container(self, container: Any, properties: Any) -> None:
        public = properties.public_access  # None, "blob" or "container"
        if public and self.run_.check("container_public_access", "private", public):
            # Set Container ACL replaces the stored access policies too: read them and send them back.
            acl = self.call("read", f"container {self.t.container} access policy", container.get_container_access_policy)
            identifiers = {si.id: si.access_policy for si in acl.get("signed_identifiers") or []}
            self.rec.write(
                "set-container-acl",
                f"container {self.t.container}",
                lambda: self.call("update", f"container {self.t.container}", lambda: container.set_container_access_policy(signed_identifiers=identifiers, public_access=None)),
                f"public access off, {len(identifiers)} stored access policies kept",
            )
            public = None
        existing = dict(properties.metadata or {})
        merged = None
        if not self.opts.skips("metadata"):
            merged = merge_labels(existing, self.opts.desired_metadata(), self.rec, "metadata", MANAGED_BY_METADATA, case_insensitive=True)
            if merged is not None:
                final = merged
                self.rec.write(
                    "set-container-metadata",
                    f"container {self.t.container}",
                    lambda: self.call("update", f"container {self.t.container}", lambda: container.set_container_metadata(metadata=final)),
                    f"{len(final)} metadata entries (existing ones kept)",
                )
        self.rec.details.update(container_public_access=public or "private", container_metadata=merged if merged is not None else existing)


# --- small pure helpers ------------------------------------------------------------------------


def merge_labels(existing: Mapping[str, str], desired: Mapping[str, str], rec: ChangeRecorder, setting: str, managed_key: str, *, case_insensitive: bool = False) -> dict[str, str] | None:
    """Existing tags/metadata plus the desired ones; None when nothing changes. Never drops a key.

    A different ``managed_key`` value means another tool claims the resource: kept, and reported.
    """
    merged = dict(existing)
    lookup = {k.lower(): k for k in existing} if case_insensitive else {k: k for k in existing}
    changed = False
    for key, value in desired.items():
        existing_key = lookup.get(key.lower() if case_insensitive else key)
        current = existing.get(existing_key) if existing_key is not None else None
        if current == value:
            continue
        if key == managed_key and current is not None:
            rec.drifted(f"{setting}.{key}", value, current, stronger=False, reason="another tool is recorded as its manager; left as is")
            continue
        if rec.drifted(f"{setting}.{key}", value, current, stronger=True):
            merged[existing_key or key] = value
            changed = True
    return merged if changed else None


def rest_json(obj: Any) -> dict[str, Any]:
    """An SDK model as the documented ARM JSON (camelCase, nested ``properties``), whatever the SDK generation."""
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    serialize = getattr(obj, "serialize", None)
    if callable(serialize):  # msrest-based models
        return dict(serialize(keep_readonly=True))
    raise TypeError(f"cannot read {type(obj).__name__} as ARM JSON")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return getattr(value, "value", value) if not isinstance(value, (str, int, float, bool)) else value


def _tls_rank(version: str) -> int:
    return TLS_ORDER.index(version) if version in TLS_ORDER else -1


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _snake(camel: str) -> str:
    return {"minimumTlsVersion": "min_tls_version", "supportsHttpsTrafficOnly": "https_only", "allowBlobPublicAccess": "allow_blob_public_access", "allowSharedKeyAccess": "allow_shared_key_access"}.get(
        camel, camel
    )


@contextlib.contextmanager
def _first_attempt_in_background(read: Callable[[], Any]) -> Iterator[Callable[[], Any]]:
    """Start ``read`` now; the returned callable gives that first answer (or error), then reads afresh.

    Retries (throttling, a dropped connection) therefore re-issue the request exactly as before.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="azure-read") as pool:
        future = pool.submit(read)
        used = False

        def answer() -> Any:
            nonlocal used
            if used:
                return read()
            used = True
            return future.result()

        yield answer
