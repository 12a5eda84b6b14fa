"""Read, compare and strengthen: the azurerm backend's resource group, account and container.

Two planes, each resource reconciled by core's template (read, create, a pure plan, writes):

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

from collections.abc import Callable, Mapping
from typing import Any

from attrs import field, frozen

from provisioner_backend_azure import client as sdk
from provisioner_backend_azure.config import (
    MANAGED_BY_METADATA,
    MANAGED_BY_TAG,
    Options,
    Target,
    parse_backend,
    parse_options,
    resolve_target,
)
from provisioner_backend_azure.credentials import AzureCredentials
from provisioner_backend_azure.errors import ACCOUNT_ROLE, DATA_ROLE, INSTALL_HINT, MGMT_ROLE, error_code, name_not_resolved, translated
from provisioner_backend_azure.plan import AccountState, ContainerState, plan_account, plan_container, plan_retention
from provisioner_core import (
    AuthContext,
    ChangeRecorder,
    ClientCache,
    ConfigError,
    LostRace,
    PermissionDenied,
    Plan,
    PlanBuilder,
    ProvisionResult,
    ResolvedComponent,
    Resource,
    ResourceConflict,
    Write,
    prefetched,
    reconcile,
)

ACCOUNT_SETTINGS = ("min_tls_version", "https_only", "blob_public_access", "versioning", "container_soft_delete")
KEY_ROLE = "Storage Account Key Operator Service Role (or Contributor)"
ACCOUNT_NOT_FOUND = ("ResourceNotFound", "StorageAccountNotFound", "ResourceGroupNotFound")


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

    @property
    def role(self) -> str:
        """What a refused data-plane call lacked, for its hint."""
        return DATA_ROLE if self.auth == "token" else "a valid key or SAS"


class Run:
    """One provisioning run for one target: the management plane (when in play), then the data plane."""

    def __init__(self, target: Target, opts: Options, creds: AzureCredentials, clients: ClientCache, rec: ChangeRecorder) -> None:
        self.target, self.opts, self.creds, self.clients, self.rec = target, opts, creds, clients, rec
        self.mgmt_missing = False  # ARM is configured but the [mgmt] extra is not installed

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
            access = self.management()
        else:
            self.rec.details["management_plane"] = f"not used: {self.target.management_reason}"
            unchecked = [s for s in ACCOUNT_SETTINGS if self.opts.wants(s)]
            if unchecked and self.opts.wants("account"):
                self.rec.warn(f"account settings ({', '.join(unchecked)}) were not checked: {self.target.management_reason}")
        self.data_plane(access)

    # --- management plane --------------------------------------------------------------

    def management(self) -> DataAccess:
        arm = sdk.arm_clients(self.target, self.creds, self.clients, self.opts.attempts)
        location = None
        if self.opts.wants("resource_group"):
            location = reconcile(ResourceGroup(self, arm), self.rec).state.get("location")
        else:
            self.rec.details["resource_group"] = {"name": self.target.resource_group or "", "checked": False}
        account = StorageAccount(self, arm, location)
        done = reconcile(account, self.rec)
        if done.created and self.rec.dry_run:  # planned only: nothing to read yet
            return DataAccess(f"https://{self.target.account}.blob.{self.target.environment.storage_suffix}", "token" if self.target.use_azuread_auth else "listed-key", planned=True)
        return account.data_access(done.state.account)

    # --- data plane ----------------------------------------------------------------------

    def data_plane(self, access: DataAccess) -> None:
        if access.planned:
            reconcile(Container(self, access, None), self.rec)
            return
        try:
            with translated("connect", target=f"storage account {self.target.account}", endpoint=access.endpoint, role=access.role, attempts=self.opts.attempts):
                service = sdk.blob_service(
                    self.target, self.creds, self.clients, endpoint=access.endpoint, auth=access.auth, attempts=self.opts.attempts, account_key=access.account_key
                )
        except ValueError as exc:  # the SDK refuses e.g. a token over plain http, or a malformed connection string
            raise ConfigError(
                f"cannot use {self.target.credential_method} credentials with {access.endpoint}: {exc}",
                hint="Azure AD tokens are only sent over https; check the endpoint and auth.providers.azure.",
                context={"endpoint": access.endpoint, "source": self.target.endpoint_source},
            ) from exc
        container = service.get_container_client(self.target.container)
        if (not self.target.management or self.mgmt_missing) and self.opts.wants("blob_soft_delete"):
            # The two reads of a no-op check are independent: the container's goes out while the service's is handled.
            with prefetched({"container": container.get_container_properties}) as reads:
                reconcile(BlobRetention(self, access, service), self.rec)
                reconcile(Container(self, access, container, reads["container"]), self.rec)
        else:
            reconcile(Container(self, access, container, container.get_container_properties), self.rec)


class ArmResource(Resource[Any]):
    """A resource of the management plane: calls translated with the RBAC role they need."""

    def __init__(self, run: Run, arm: Any, target: str) -> None:
        self.run, self.arm, self.t, self.opts, self.rec = run, arm, run.target, run.opts, run.rec
        self.target = target
        self.rg = self.t.resource_group or ""
        self.wait_timeout = run.opts.wait_timeout

    def call(self, operation: str, fn: Callable[[], Any], *, target: str = "", role: str = MGMT_ROLE, not_found: tuple[str, ...] = ()) -> Any:
        """``fn()`` as ARM JSON, its errors translated; None for a 404 with one of the ``not_found`` codes."""
        from azure.core.exceptions import ResourceNotFoundError

        with translated(operation, target=target or self.target, endpoint=self.t.environment.arm_endpoint, role=role, attempts=self.opts.attempts, identity=self.t.identity):
            try:
                return rest_json(fn())
            except ResourceNotFoundError as exc:
                if error_code(exc) in not_found:
                    return None
                raise


class ResourceGroup(ArmResource):
    """The resource group: created when missing (with a location), never changed or deleted."""

    def __init__(self, run: Run, arm: Any) -> None:
        super().__init__(run, arm, f"resource group {run.target.resource_group}")

    def read(self) -> dict[str, Any] | None:
        return self.call("read", lambda: self.arm.resources.resource_groups.get(self.rg), not_found=("ResourceGroupNotFound", "ResourceNotFound"))  # type: ignore[no-any-return]

    def creation(self) -> Write:
        if not self.opts.location:
            raise ConfigError(
                f"resource group {self.rg} does not exist and no location is configured to create it",
                hint="Add `location: <region>` (e.g. westeurope) under provision.backend, or create the resource group.",
                context={"key": "provision.backend.location"},
            )
        return Write("create-resource-group", f"location {self.opts.location}, tags {MANAGED_BY_TAG}", {"location": self.opts.location, "tags": self.opts.desired_tags()})

    def create(self, write: Write) -> dict[str, Any]:
        self.call("create", lambda: self.arm.resources.resource_groups.create_or_update(self.rg, write.payload))
        return self.planned()

    def planned(self) -> dict[str, Any]:
        return {"location": self.opts.location}

    def plan(self, actual: dict[str, Any]) -> Plan:
        p = PlanBuilder()
        p.show("resource_group", {"name": self.rg, "location": actual.get("location")})
        return p.build()


class StorageAccount(ArmResource):
    """The StorageV2 account with its blob service: created hardened, or compared and strengthened."""

    def __init__(self, run: Run, arm: Any, group_location: str | None) -> None:
        super().__init__(run, arm, f"storage account {run.target.account}")
        self.group_location = group_location
        self.body: dict[str, Any] = {}

    def read(self) -> AccountState | None:
        account = self.call("read", lambda: self.arm.storage.storage_accounts.get_properties(self.rg, self.t.account), not_found=ACCOUNT_NOT_FOUND)
        if account is None:
            return None
        public: tuple[str, ...] = ()
        if (account.get("properties") or {}).get("allowBlobPublicAccess") is not False and self.opts.wants("blob_public_access"):
            public = self.public_containers()  # read before disallowing public access account-wide
        return AccountState(account, self.blob_service(), public)

    def blob_service(self) -> dict[str, Any]:
        return self.call("read", lambda: self.arm.storage.blob_services.get_service_properties(self.rg, self.t.account), target=f"blob service of {self.t.account}")  # type: ignore[no-any-return]

    def public_containers(self) -> tuple[str, ...]:
        """Containers that allow anonymous access (ours is made private below anyway)."""
        with translated("list-containers", target=self.target, endpoint=self.t.environment.arm_endpoint, role=MGMT_ROLE, attempts=self.opts.attempts, identity=self.t.identity):
            listed = [rest_json(item) for item in self.arm.storage.blob_containers.list(self.rg, self.t.account)]
        public = (str(c.get("name")) for c in listed if ((c.get("properties") or {}).get("publicAccess") or "None") != "None" and c.get("name") != self.t.container)
        return tuple(sorted(public))

    # --- create ----------------------------------------------------------------------------

    def creation(self) -> Write:
        name = self.t.account
        # A read (POST): a name taken anywhere in Azure fails here, in a dry run too.
        try:
            check = self.arm.storage.storage_accounts.check_name_availability
            availability = self.call("check-name-availability", lambda: check({"name": name, "type": "Microsoft.Storage/storageAccounts"}))
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
        location = self.opts.location or self.group_location
        if not location:
            raise ConfigError(
                f"storage account {name} does not exist and no location is configured to create it",
                hint="Add `location: <region>` under provision.backend.",
                context={"key": "provision.backend.location"},
            )
        self.body = self.create_body(location)
        settings = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in self.body["properties"].items())
        return Write("create-storage-account", f"StorageV2 {self.body['sku']['name']} in {location}" + (f", {settings}" if settings else ""), self.body)

    def create_body(self, location: str) -> dict[str, Any]:
        wanted = {
            "minimumTlsVersion": ("min_tls_version", self.opts.min_tls_version),
            "supportsHttpsTrafficOnly": ("https_only", True),
            "allowBlobPublicAccess": ("blob_public_access", False),
            **({"allowSharedKeyAccess": ("shared_key_access", False)} if self.t.use_azuread_auth else {}),
        }
        props = {key: value for key, (setting, value) in wanted.items() if self.opts.wants(setting)}
        body: dict[str, Any] = {"location": location, "kind": "StorageV2", "sku": {"name": self.opts.sku or "Standard_LRS"}, "properties": props}
        if self.opts.wants("tags"):
            body["tags"] = self.opts.desired_tags()
        return body

    def create(self, write: Write) -> AccountState:
        account = self.call("create", lambda: self.arm.storage.storage_accounts.begin_create(self.rg, self.t.account, write.payload).result())
        return AccountState(account, self.blob_service())

    def planned(self) -> AccountState:
        return AccountState(self.body)

    # --- plan and write --------------------------------------------------------------------

    def plan(self, actual: AccountState) -> Plan:
        return plan_account(self.t, self.opts, actual)

    def apply(self, state: AccountState, write: Write) -> None:
        if write.verb == "update-storage-account":
            self.call("update", lambda: self.arm.storage.storage_accounts.update(self.rg, self.t.account, write.payload))
        else:
            set_service = self.arm.storage.blob_services.set_service_properties
            self.call("update", lambda: set_service(self.rg, self.t.account, write.payload), target=f"blob service of {self.t.account}")

    def data_access(self, account: Mapping[str, Any]) -> DataAccess:
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
        listed = self.call("list-keys", lambda: self.arm.storage.storage_accounts.list_keys(self.rg, self.t.account), role=KEY_ROLE)
        keys = [k.get("value") for k in listed.get("keys") or [] if k.get("value")]
        if not keys:
            raise ConfigError(f"storage account {self.t.account} returned no access keys", hint="Set backend.use_azuread_auth: true to use Azure AD instead.")
        return DataAccess(endpoint, "listed-key", account_key=keys[0])


class DataResource(Resource[Any]):
    """A resource of the data plane: calls translated, throttling retried, a missing account told apart."""

    def __init__(self, run: Run, access: DataAccess, target: str) -> None:
        self.run, self.access, self.t, self.opts, self.rec = run, access, run.target, run.opts, run.rec
        self.target = target
        self.wait_timeout = run.opts.wait_timeout

    def call(self, operation: str, fn: Callable[[], Any], role: str | None = None, *, first: bool = False) -> Any:
        """``fn()`` with throttling retried and errors translated; ``first``: a read that also tells a missing
        account (a 404 other than ContainerNotFound, or no DNS name) apart, and answers None for ContainerNotFound."""
        from azure.core.exceptions import ResourceNotFoundError, ServiceRequestError

        with translated(operation, target=self.target, endpoint=self.access.endpoint, role=role or self.access.role, attempts=self.opts.attempts, identity=self.t.identity):
            try:
                return sdk.throttled(fn, self.opts.attempts)
            except ResourceNotFoundError as exc:
                if not first:
                    raise
                if error_code(exc) == "ContainerNotFound":
                    return None
                raise self.account_missing() from exc
            except ServiceRequestError as exc:
                if first and self.run.mgmt_missing and name_not_resolved(exc):
                    raise self.account_missing() from exc
                raise

    def account_missing(self) -> ConfigError:
        if self.run.mgmt_missing:
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


class BlobRetention(DataResource):
    """Blob soft delete through the data plane, when ARM is not in play (the blob service always exists)."""

    def __init__(self, run: Run, access: DataAccess, service: Any) -> None:
        super().__init__(run, access, f"blob service of {run.target.account}")
        self.service = service
        self.account_role = ACCOUNT_ROLE if access.auth == "token" else None

    def read(self) -> int:
        properties = self.call("read", self.service.get_service_properties, role=self.account_role, first=True)
        policy = properties.get("delete_retention_policy")
        return policy.days if policy is not None and policy.enabled else 0

    def plan(self, actual: int) -> Plan:
        return plan_retention(self.t, self.opts, actual or None)

    def apply(self, state: int, write: Write) -> None:
        from azure.storage.blob import RetentionPolicy

        # Only this element is sent; the service keeps logging, metrics and CORS as they are.
        self.call("update", lambda: self.service.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True, days=write.payload)), role=self.account_role)


class Container(DataResource):
    """The container: created private with our metadata entry, or made private and given it."""

    def __init__(self, run: Run, access: DataAccess, container: Any, read_properties: Callable[[], Any] | None = None) -> None:
        super().__init__(run, access, f"container {run.target.container}")
        self.container = container
        self.read_properties = read_properties  # None: the account itself is only planned
        self.metadata = self.opts.desired_metadata() if self.opts.wants("metadata") else {}

    def read(self) -> ContainerState | None:
        properties = self.call("read", self.read_properties, first=True) if self.read_properties else None
        if properties is None:
            return None
        public = properties.public_access  # None, "blob" or "container"
        identifiers: dict[str, Any] = {}
        if public and self.opts.wants("container_public_access"):
            # Set Container ACL replaces the stored access policies too: read them, to send them back.
            acl = self.call("read", self.container.get_container_access_policy)
            identifiers = {si.id: si.access_policy for si in acl.get("signed_identifiers") or []}
        return ContainerState(public, dict(properties.metadata or {}), identifiers)

    def creation(self) -> Write:
        return Write("create-container", f"private (no public access), metadata {MANAGED_BY_METADATA}={self.metadata.get(MANAGED_BY_METADATA, '-')}", self.metadata)

    def create(self, write: Write) -> ContainerState:
        from azure.core.exceptions import ResourceExistsError

        def create() -> None:
            try:
                self.container.create_container(metadata=write.payload)
            except ResourceExistsError as exc:
                if error_code(exc) == "ContainerAlreadyExists":
                    raise LostRace("409 ContainerAlreadyExists") from None
                raise

        self.call("create", create)
        return self.planned()

    def planned(self) -> ContainerState:
        return ContainerState(None, self.metadata)

    def plan(self, actual: ContainerState) -> Plan:
        return plan_container(self.t, self.opts, actual)

    def apply(self, state: ContainerState, write: Write) -> None:
        if write.verb == "set-container-acl":
            self.call("update", lambda: self.container.set_container_access_policy(signed_identifiers=write.payload, public_access=None))
        else:
            self.call("update", lambda: self.container.set_container_metadata(metadata=write.payload))


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

