"""The management plane (ARM): resource group, storage account, blob versioning and soft delete.

NOT a server test for ARM: no Azure Resource Manager emulator exists. The real
azure-mgmt-resource / azure-mgmt-storage clients run with azure-core's pluggable HTTP
transport, answered by ``support.azure_arm.FakeArm`` with the JSON the ARM REST API
documents (202 + Location polling for account creation, PATCH replacing the tag set, PUT
of blobServices/default keeping what is sent). The data plane in these tests *is* a real
server: the fake account's primaryEndpoints.blob points at Azurite (through the counting
proxy), and the key that listKeys returns is that Azurite account's key.
"""

from __future__ import annotations

import json

import pytest

from provisioner_backend_azure.client import arm_key, build_arm_clients, credential_key
from provisioner_backend_azure.config import ENVIRONMENTS
from provisioner_core import EXIT_CONFIG, EXIT_CONFLICT, EXIT_NETWORK, EXIT_PERMISSION, ClientCache, Resolution, Status
from provisioner_core.runner import EventFailed
from support.azure_arm import SUBSCRIPTION, FakeArm, StaticToken, transport_for
from support.azure_helpers import make_component, principal_auth
from support.azurite import account_key, bearer_token

PUBLIC = ENVIRONMENTS["public"]
RG = "rg-tfstate"


@pytest.fixture
def arm(proxy) -> FakeArm:
    """A fake ARM whose accounts live on Azurite (through the counting proxy)."""
    return FakeArm(blob_endpoint=lambda name: f"{proxy.url}/{name}/", keys=account_key)


@pytest.fixture
def arm_tls(azurite_tls, monkeypatch) -> FakeArm:
    """A fake ARM whose accounts live on the HTTPS Azurite that takes Azure AD tokens."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azurite_tls.tls.ca))  # trust the throwaway CA, for this test only
    return FakeArm(blob_endpoint=lambda name: f"{azurite_tls.url}/{name}/", keys=account_key)


@pytest.fixture
def mgmt(arm):
    """Clients for one run: ARM on the fake transport and a static token instead of an Azure AD sign-in."""

    def make(auth, attempts: int = 3, *, fake: FakeArm | None = None, credential: StaticToken | None = None) -> ClientCache:
        clients = ClientCache()
        token = credential or StaticToken(bearer_token())
        clients.get(credential_key(auth.require("azure"), PUBLIC), lambda: token)
        clients.get(
            arm_key(auth.require("azure"), SUBSCRIPTION, PUBLIC, attempts),
            lambda: build_arm_clients(token, SUBSCRIPTION, PUBLIC, attempts, transport=transport_for(fake or arm), polling_interval=0),
        )
        return clients

    return make


def component_for(account, container, options=None, **backend):
    section = {"storage_account_name": account, "container_name": container, "key": "vpc/terraform.tfstate", "resource_group_name": RG, "subscription_id": SUBSCRIPTION, **backend}
    return make_component(section, {"location": "westeurope", **(options or {})})


def body_of(arm, method, suffix):
    return next(body for m, path, body in arm.requests if m == method and path.lower().endswith(suffix.lower()))


def drift(result, setting):
    return next(d for d in result.drift if d.setting == setting)


def test_creates_group_and_hardened_account_then_the_container(account, container, arm, mgmt, run, admin, proxy):
    auth = principal_auth()
    component = component_for(account, container, {"tags": {"team": "platform"}})

    result = run(component, auth, clients=mgmt(auth))

    assert result.status is Status.CREATED
    assert result.drift == ()  # a new account has nothing to drift from
    assert arm.calls() == [
        f"GET resourcegroups/{RG}",
        f"PUT resourcegroups/{RG}",
        f"GET storageAccounts/{account}",
        "POST Microsoft.Storage/checkNameAvailability",
        f"PUT storageAccounts/{account}",
        arm.calls()[5],  # the Location poll of the long-running create
        "GET blobServices/default",
        "PUT blobServices/default",
        f"POST {account}/listKeys",
    ]
    assert "asyncoperations" in arm.calls()[5]
    assert body_of(arm, "PUT", f"resourcegroups/{RG}") == {"location": "westeurope", "tags": {"managed-by": "provisioner", "team": "platform"}}
    assert body_of(arm, "PUT", f"storageAccounts/{account}") == {
        "location": "westeurope",
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "properties": {"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True, "allowBlobPublicAccess": False},
        "tags": {"managed-by": "provisioner", "team": "platform"},
    }
    service = body_of(arm, "PUT", "blobServices/default")["properties"]
    assert service["isVersioningEnabled"] is True
    assert service["deleteRetentionPolicy"] == {"allowPermanentDelete": False, "enabled": True, "days": 30}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 30}
    assert service["cors"] == {"corsRules": []}  # read-modify-write: what was there is sent back
    # The container is on the real server, private, signed with the key listKeys returned.
    props = admin(account).get_container_client(container).get_container_properties()
    assert (props.public_access, props.metadata) == (None, {"managed_by": "provisioner"})
    assert [p for _, p in proxy.writes() if "comp=properties" in p] == []  # soft delete went through ARM, not the data plane
    assert result.details["versioning"] is True
    assert (result.details["blob_retention_days"], result.details["container_retention_days"]) == (30, 30)
    assert result.details["management_plane"] == "used"
    assert account_key(account) not in json.dumps(result.to_dict())


def test_second_run_makes_no_write_call_on_either_plane(account, container, arm, mgmt, run, proxy):
    auth = principal_auth()
    component = component_for(account, container)
    run(component, auth, clients=mgmt(auth))
    arm.requests.clear()
    proxy.reset()

    again = run(component, auth, clients=mgmt(auth))

    assert again.status is Status.UNCHANGED
    assert again.actions == () and again.drift == ()
    assert arm.writes() == []
    assert [c.split()[0] for c in arm.calls()] == ["GET", "GET", "GET", "POST"]  # group, account, blob service, listKeys (a read)
    assert proxy.writes() == []


def test_dry_run_plans_group_account_service_and_container(account, container, arm, mgmt, run, proxy):
    auth = principal_auth()

    plan = run(component_for(account, container), auth, dry_run=True, clients=mgmt(auth))

    assert plan.status is Status.PLANNED
    assert [a.verb for a in plan.actions] == ["create-resource-group", "create-storage-account", "set-blob-service-properties", "create-container"]
    assert "minimumTlsVersion=TLS1_2" in plan.actions[1].detail and "allowBlobPublicAccess=false" in plan.actions[1].detail
    assert arm.writes() == []
    assert proxy.requests == []  # a planned account is not read
    assert plan.details["account_settings"]["min_tls_version"] == "TLS1_2"
    assert plan.details["versioning"] is True and plan.details["container_retention_days"] == 30


def test_existing_weak_account_is_strengthened_and_nothing_is_weakened(account, container, arm, mgmt, run, admin):
    arm.add_group(RG)
    arm.add_account(
        RG,
        account,
        properties={"minimumTlsVersion": "TLS1_0", "supportsHttpsTrafficOnly": False},  # allowBlobPublicAccess absent: an old account allows it
        tags={"owner": "data-team"},
        blob_service={
            "cors": {"corsRules": [{"allowedOrigins": ["https://console.example.com"], "allowedMethods": ["GET"], "maxAgeInSeconds": 60, "exposedHeaders": [], "allowedHeaders": []}]},
            "changeFeed": {"enabled": True},
            "deleteRetentionPolicy": {"enabled": True, "days": 90},
            "containerDeleteRetentionPolicy": {"enabled": True, "days": 7},
        },
    )
    admin(account).create_container(container, metadata={"managed_by": "provisioner"})
    auth = principal_auth()

    result = run(component_for(account, container), auth, clients=mgmt(auth))

    assert result.status is Status.UPDATED
    assert [c for c in arm.calls() if c.startswith(("PUT", "PATCH"))] == [f"PATCH storageAccounts/{account}", "PUT blobServices/default"]
    patch = body_of(arm, "PATCH", f"storageAccounts/{account}")
    assert patch == {
        "properties": {"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True, "allowBlobPublicAccess": False},
        "tags": {"owner": "data-team", "managed-by": "provisioner"},  # merged: the existing tag is kept
    }
    service = arm.blob_services[account]["properties"]
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 90}  # longer retention kept
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 30}
    assert service["isVersioningEnabled"] is True
    assert service["changeFeed"] == {"enabled": True} and service["cors"]["corsRules"][0]["allowedOrigins"] == ["https://console.example.com"]
    assert {d.setting: d.resolution for d in result.drift} == {
        "min_tls_version": Resolution.APPLIED,
        "https_only": Resolution.APPLIED,
        "blob_public_access": Resolution.APPLIED,
        "tags.managed-by": Resolution.APPLIED,
        "versioning": Resolution.APPLIED,
        "container_soft_delete": Resolution.APPLIED,
    }
    assert (drift(result, "min_tls_version").expected, drift(result, "min_tls_version").actual) == ("TLS1_2", "TLS1_0")
    assert result.details["blob_retention_days"] == 90


def test_tags_merge_without_regard_to_case_as_arm_compares_them(account, container, arm, mgmt, run, admin):
    # ARM tag names are case-insensitive: "Managed-By" *is* our managed-by tag, set by another tool.
    arm.add_group(RG)
    arm.add_account(
        RG,
        account,
        properties={"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True, "allowBlobPublicAccess": False},
        tags={"Managed-By": "terraform", "Team": "data", "cost-center": "42"},
        blob_service={"isVersioningEnabled": True, "deleteRetentionPolicy": {"enabled": True, "days": 30}, "containerDeleteRetentionPolicy": {"enabled": True, "days": 30}},
    )
    admin(account).create_container(container, metadata={"managed_by": "provisioner"})
    auth = principal_auth()

    result = run(component_for(account, container, {"tags": {"team": "platform"}}), auth, clients=mgmt(auth))

    patch = body_of(arm, "PATCH", f"storageAccounts/{account}")
    # One key per name whatever its case; the other tool's manager tag kept, the configured value set under the existing key.
    assert patch == {"tags": {"Managed-By": "terraform", "Team": "platform", "cost-center": "42"}}
    assert drift(result, "tags.managed-by").resolution is Resolution.KEPT
    assert (drift(result, "tags.team").actual, drift(result, "tags.team").resolution) == ("data", Resolution.APPLIED)


def test_stronger_existing_settings_are_kept_and_nothing_is_written(account, container, arm, mgmt, run, admin):
    arm.add_group(RG)
    arm.add_account(
        RG,
        account,
        properties={"minimumTlsVersion": "TLS1_3", "supportsHttpsTrafficOnly": True, "allowBlobPublicAccess": False},
        tags={"managed-by": "provisioner"},
        blob_service={"isVersioningEnabled": True, "deleteRetentionPolicy": {"enabled": True, "days": 365}, "containerDeleteRetentionPolicy": {"enabled": True, "days": 60}},
    )
    admin(account).create_container(container, metadata={"managed_by": "provisioner"})
    auth = principal_auth()

    result = run(component_for(account, container, {"blob_retention_days": 30}), auth, clients=mgmt(auth))

    assert result.status is Status.UNCHANGED and result.drift == ()
    assert arm.writes() == []
    assert result.details["account_settings"]["min_tls_version"] == "TLS1_3"
    assert (result.details["blob_retention_days"], result.details["container_retention_days"]) == (365, 60)


def test_public_containers_elsewhere_keep_the_account_setting_and_say_why(account, container, arm, mgmt, run):
    arm.add_group(RG)
    arm.add_account(RG, account, properties={"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True, "allowBlobPublicAccess": True})
    arm.containers[account] = [{"name": "website", "type": "Microsoft.Storage/storageAccounts/blobServices/containers", "properties": {"publicAccess": "Blob"}}]
    auth = principal_auth()

    result = run(component_for(account, container), auth, clients=mgmt(auth))

    found = drift(result, "blob_public_access")
    assert found.resolution is Resolution.KEPT and "website" in found.reason
    assert "properties" not in body_of(arm, "PATCH", f"storageAccounts/{account}")  # only the tag merge


def test_use_azuread_auth_turns_shared_keys_off_and_signs_the_data_plane_with_a_token(account, container, mgmt, run, arm_tls, azurite_tls):
    auth = principal_auth()
    credential = StaticToken(bearer_token())

    result = run(component_for(account, container, use_azuread_auth=True), auth, clients=mgmt(auth, fake=arm_tls, credential=credential))

    assert result.status is Status.CREATED
    assert body_of(arm_tls, "PUT", f"storageAccounts/{account}")["properties"]["allowSharedKeyAccess"] is False
    assert not any(path.lower().endswith("/listkeys") for _, path, _ in arm_tls.requests)  # no key was ever fetched
    assert ("https://storage.azure.com/.default",) in credential.scopes  # the data plane asked for a storage token
    from azure.storage.blob import BlobServiceClient

    direct = BlobServiceClient.from_connection_string(azurite_tls.connection_string(account))
    assert direct.get_container_client(container).get_container_properties().metadata == {"managed_by": "provisioner"}


def test_existing_account_with_shared_keys_on_under_azuread_auth_is_hardened(account, container, mgmt, run, arm_tls):
    arm_tls.add_group(RG)
    arm_tls.add_account(RG, account, properties={"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True, "allowBlobPublicAccess": False}, tags={"managed-by": "provisioner"})
    auth = principal_auth()

    plan = run(component_for(account, container, use_azuread_auth=True), auth, dry_run=True, clients=mgmt(auth, fake=arm_tls))

    found = drift(plan, "shared_key_access")
    assert (found.expected, found.actual, found.resolution) == ("false", "true", Resolution.PLANNED)
    assert arm_tls.writes() == []


def test_a_token_over_plain_http_is_a_config_error(account, container, arm, mgmt, run):
    arm.add_group(RG)
    arm.add_account(RG, account, properties={"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True, "allowBlobPublicAccess": False, "allowSharedKeyAccess": False})
    auth = principal_auth()

    with pytest.raises(EventFailed) as failed:
        run(component_for(account, container, use_azuread_auth=True), auth, clients=mgmt(auth))

    assert failed.value.exit_code == EXIT_CONFIG
    assert "Token credential is only supported with HTTPS" in failed.value.message
    assert "tokens are only sent over https" in failed.value.hints[0]


def test_report_only_with_a_missing_account_is_a_config_error(account, container, arm, mgmt, run):
    arm.add_group(RG)
    auth = principal_auth()

    with pytest.raises(EventFailed) as failed:
        run(component_for(account, container, {"report_only": True}), auth, clients=mgmt(auth))

    assert failed.value.exit_code == EXIT_CONFIG
    assert f"storage account {account} does not exist" in failed.value.message
    assert arm.writes() == []


def test_a_name_taken_in_another_subscription_is_a_conflict_found_before_any_write(account, container, arm, mgmt, run):
    arm.taken.add(account)
    auth = principal_auth()

    for dry_run in (True, False):
        with pytest.raises(EventFailed) as failed:
            run(component_for(account, container), auth, dry_run=dry_run, clients=mgmt(auth))
        assert failed.value.exit_code == EXIT_CONFLICT
        assert "StorageAccountAlreadyTaken" in failed.value.message
    assert [m for m, *_ in arm.writes()] == ["PUT"]  # only the resource group of the real run


def test_an_identity_that_cannot_check_names_still_creates_the_account(account, container, arm, mgmt, run):
    arm.deny.append(("POST", "checkNameAvailability$", 403, "AuthorizationFailed", "does not have authorization to perform action 'Microsoft.Storage/checknameavailability/read'"))
    auth = principal_auth()

    result = run(component_for(account, container), auth, clients=mgmt(auth))

    assert result.status is Status.CREATED
    assert any("could not check whether the name" in w for w in result.warnings)
    assert account in arm.accounts


def test_a_create_that_loses_the_name_race_is_a_conflict(account, container, arm, mgmt, run):
    arm.deny.append(("PUT", f"storageAccounts/{account}$", 409, "StorageAccountAlreadyTaken", f"The storage account named {account} is already taken."))
    auth = principal_auth()

    with pytest.raises(EventFailed) as failed:
        run(component_for(account, container), auth, clients=mgmt(auth))

    assert failed.value.exit_code == EXIT_CONFLICT
    assert failed.value.context["error_code"] == "StorageAccountAlreadyTaken"


def test_a_failure_after_creating_the_account_says_it_exists_and_what_it_lacks(account, container, arm, mgmt, run):
    arm.deny.append(("PUT", "blobServices/default$", 403, "AuthorizationFailed", "does not have authorization to perform action 'Microsoft.Storage/storageAccounts/blobServices/write'"))
    auth = principal_auth()

    with pytest.raises(EventFailed) as failed:
        run(component_for(account, container), auth, clients=mgmt(auth))

    assert failed.value.exit_code == EXIT_PERMISSION
    assert f"(storage account {account} exists: this run created it; it still lacks versioning, blob_soft_delete, container_soft_delete; a rerun sets only those)" in failed.value.message
    assert account in arm.accounts


def test_authorization_failed_names_the_role_and_the_action(account, container, arm, mgmt, run):
    message = (
        "The client 'ci@example.com' with object id '0000' does not have authorization to perform action "
        "'Microsoft.Resources/subscriptions/resourcegroups/write' over scope '/subscriptions/x/resourcegroups/rg-tfstate' or the scope is invalid."
    )
    arm.deny.append(("PUT", f"resourcegroups/{RG}$", 403, "AuthorizationFailed", message))
    auth = principal_auth()

    with pytest.raises(EventFailed) as failed:
        run(component_for(account, container), auth, clients=mgmt(auth))

    assert failed.value.exit_code == EXIT_PERMISSION
    assert "Contributor" in failed.value.hints[0]
    assert "Microsoft.Resources/subscriptions/resourcegroups/write" in failed.value.hints[0]
    assert "not-a-real-secret-value" not in json.dumps(failed.value.to_dict())


def test_an_azure_policy_denial_is_a_permission_error_pointing_at_skip(account, container, arm, mgmt, run):
    arm.add_group(RG)
    arm.add_account(RG, account, properties={"minimumTlsVersion": "TLS1_0"})
    arm.deny.append(("PATCH", f"storageAccounts/{account}$", 403, "RequestDisallowedByPolicy", "Resource was disallowed by policy 'tls-exception'."))
    auth = principal_auth()

    with pytest.raises(EventFailed) as failed:
        run(component_for(account, container), auth, clients=mgmt(auth))

    assert failed.value.exit_code == EXIT_PERMISSION
    assert "provision.backend.skip" in failed.value.hints[0]


def test_skip_account_leaves_the_management_plane_alone(account, container, arm, mgmt, run, no_azure_dns):
    auth = principal_auth()
    component = component_for(account, container, {"skip": ["account"], "attempts": 1})

    with pytest.raises(EventFailed) as failed:
        run(component, auth, clients=mgmt(auth))

    # Without ARM, the data plane goes straight to the account's default endpoint (which does not resolve here).
    assert failed.value.exit_code == EXIT_NETWORK
    assert f"https://{account}.blob.core.windows.net does not resolve" in failed.value.message
    assert arm.requests == []


def test_a_missing_group_without_location_is_a_config_error(account, container, arm, mgmt, run):
    auth = principal_auth()
    section = {"storage_account_name": account, "container_name": container, "key": "k", "resource_group_name": RG, "subscription_id": SUBSCRIPTION}

    with pytest.raises(EventFailed) as failed:
        run(make_component(section), auth, clients=mgmt(auth))

    assert failed.value.exit_code == EXIT_CONFIG
    assert "location" in failed.value.hints[0]
    assert arm.writes() == []


def test_an_existing_group_gives_the_account_its_location_and_is_never_changed(account, container, arm, mgmt, run):
    arm.add_group(RG, location="northeurope", tags={"owner": "platform"})
    auth = principal_auth()
    section = {"storage_account_name": account, "container_name": container, "key": "k", "resource_group_name": RG, "subscription_id": SUBSCRIPTION}

    run(make_component(section, {"tags": {"team": "x"}}), auth, clients=mgmt(auth))

    assert body_of(arm, "PUT", f"storageAccounts/{account}")["location"] == "northeurope"
    assert arm.groups[RG.lower()]["tags"] == {"owner": "platform"}
    assert not any(m == "PUT" and p.lower().endswith(f"resourcegroups/{RG}".lower()) for m, p, _ in arm.requests)


def test_a_subscription_mismatch_is_caught_before_any_call(account, container, arm, mgmt, run):
    auth = principal_auth(subscription_id="99999999-1111-2222-3333-444444444444")

    with pytest.raises(EventFailed) as failed:
        run(component_for(account, container), auth, clients=mgmt(auth))

    assert failed.value.exit_code == EXIT_CONFIG
    assert arm.requests == []
