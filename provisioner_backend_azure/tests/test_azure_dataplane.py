"""The data plane against a real Azurite: container, metadata, blob soft delete, public access.

Every request the provisioner makes goes through a counting proxy in front of Azurite, so
"no write call" is asserted at the server side; the ``admin`` client arranges scenes and
checks results directly against Azurite.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest

from provisioner_core import EXIT_CONFIG, EXIT_NETWORK, EXIT_PERMISSION, ClientCache, Resolution, Status
from provisioner_core.runner import EventFailed
from support.azure_helpers import connection_auth, make_component
from support.azurite import DEV_KEY, account_key
from support.servers import free_port


def verbs(result):
    return [a.verb for a in result.actions]


def drift(result, setting):
    return next(d for d in result.drift if d.setting == setting)


def test_creates_private_container_with_metadata_and_blob_soft_delete(account, container, via_proxy, run, admin, proxy):
    component, auth = via_proxy(account, container)

    result = run(component, auth)

    assert result.status is Status.CREATED
    assert verbs(result) == ["set-blob-service-properties", "create-container"]
    props = admin(account).get_container_client(container).get_container_properties()
    assert props.public_access is None
    assert props.metadata == {"managed_by": "provisioner"}
    policy = admin(account).get_service_properties()["delete_retention_policy"]
    assert (policy.enabled, policy.days) == (True, 30)
    assert result.details["blob_retention_days"] == 30
    assert result.details["container_public_access"] == "private"
    assert result.details["management_plane"].startswith("not used: backend.resource_group_name is not set")
    # What the data plane cannot check is said, not silently skipped.
    assert any("versioning" in w and "container_soft_delete" in w for w in result.warnings)
    assert [m for m, _ in proxy.writes()] == ["PUT", "PUT"]


def test_second_run_makes_no_write_call_at_the_server(account, container, via_proxy, run, proxy):
    component, auth = via_proxy(account, container)
    run(component, auth)
    proxy.reset()

    again = run(component, auth)

    assert again.status is Status.UNCHANGED
    assert again.actions == () and again.drift == ()
    assert proxy.writes() == []
    assert [m for m, _ in proxy.requests] == ["GET", "GET"]  # service properties, container properties


def test_dry_run_plans_every_call_and_writes_nothing(account, container, via_proxy, run, admin, proxy):
    component, auth = via_proxy(account, container)

    plan = run(component, auth, dry_run=True)

    assert plan.status is Status.PLANNED
    assert [str(a) for a in plan.actions] == [
        f"set-blob-service-properties blob service of {account} (deleteRetentionPolicy 30 days)",
        f"create-container container {container} (private (no public access), metadata managed_by=provisioner)",
    ]
    assert plan.details["blob_retention_days"] == 30  # the resulting setting
    assert plan.details["container_metadata"] == {"managed_by": "provisioner"}
    assert proxy.writes() == []
    assert not admin(account).get_container_client(container).exists()
    assert admin(account).get_service_properties()["delete_retention_policy"].enabled is False


def test_dry_run_reports_drift_as_planned(account, container, via_proxy, run, admin, proxy):
    admin(account).create_container(container, public_access="container")
    component, auth = via_proxy(account, container)

    plan = run(component, auth, dry_run=True)

    assert drift(plan, "container_public_access").resolution is Resolution.PLANNED
    assert "set-container-acl" in verbs(plan)
    assert proxy.writes() == []
    assert admin(account).get_container_client(container).get_container_properties().public_access == "container"


def test_a_longer_retention_is_never_lowered(account, container, via_proxy, run, admin, proxy):
    from azure.storage.blob import RetentionPolicy

    admin(account).set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True, days=90))
    component, auth = via_proxy(account, container)

    result = run(component, auth)

    assert "set-blob-service-properties" not in verbs(result)
    assert result.details["blob_retention_days"] == 90
    assert admin(account).get_service_properties()["delete_retention_policy"].days == 90
    assert [p for m, p in proxy.writes() if "comp=properties" in p] == []


def test_a_shorter_retention_is_raised_and_other_service_settings_kept(account, container, via_proxy, run, admin):
    from azure.storage.blob import CorsRule, RetentionPolicy

    cors = CorsRule(["https://console.example.com"], ["GET"], max_age_in_seconds=60)
    admin(account).set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True, days=7), cors=[cors])
    component, auth = via_proxy(account, container, {"blob_retention_days": 45})

    result = run(component, auth)

    found = drift(result, "blob_soft_delete")
    assert (found.expected, found.actual, found.resolution) == ("45 days", "7 days", Resolution.APPLIED)
    service = admin(account).get_service_properties()
    assert service["delete_retention_policy"].days == 45
    assert [r.allowed_origins for r in service["cors"]] == ["https://console.example.com"]  # never dropped


def test_public_container_is_made_private_keeping_its_stored_access_policies(account, container, via_proxy, run, admin):
    from azure.storage.blob import AccessPolicy, ContainerSasPermissions

    expiry = datetime(2030, 1, 1, tzinfo=timezone.utc)
    client = admin(account).create_container(container, public_access="blob")
    client.set_container_access_policy({"readers": AccessPolicy(ContainerSasPermissions(read=True, list=True), expiry=expiry)}, public_access="blob")
    component, auth = via_proxy(account, container)

    result = run(component, auth)

    found = drift(result, "container_public_access")
    assert (found.expected, found.actual, found.resolution) == ("private", "blob", Resolution.APPLIED)
    assert result.status is Status.UPDATED
    acl = client.get_container_access_policy()
    assert acl["public_access"] is None
    assert [(si.id, si.access_policy.permission) for si in acl["signed_identifiers"]] == [("readers", "rl")]


def test_report_only_reports_and_writes_nothing(account, container, via_proxy, run, admin, proxy):
    admin(account).create_container(container, public_access="container", metadata={"Team": "platform"})
    component, auth = via_proxy(account, container, {"report_only": True})

    result = run(component, auth)

    assert result.status is Status.UNCHANGED
    assert {d.setting: d.resolution for d in result.drift} == {
        "blob_soft_delete": Resolution.REPORTED,
        "container_public_access": Resolution.REPORTED,
        "metadata.managed_by": Resolution.REPORTED,
    }
    assert proxy.writes() == []
    assert admin(account).get_container_client(container).get_container_properties().public_access == "container"


def test_report_only_with_a_missing_container_is_a_config_error(account, container, via_proxy, run, proxy):
    component, auth = via_proxy(account, container, {"report_only": True})

    with pytest.raises(EventFailed) as failed:
        run(component, auth)

    assert failed.value.exit_code == EXIT_CONFIG
    assert f"container {container} does not exist" in failed.value.message
    assert proxy.writes() == []


def test_existing_metadata_is_merged_never_dropped(account, container, via_proxy, run, admin, proxy):
    admin(account).create_container(container, metadata={"Team": "platform", "cost_center": "42"})
    component, auth = via_proxy(account, container, {"metadata": {"env": "dev"}})

    result = run(component, auth)

    assert admin(account).get_container_client(container).get_container_properties().metadata == {
        "Team": "platform",
        "cost_center": "42",
        "managed_by": "provisioner",
        "env": "dev",
    }
    assert {d.setting for d in result.drift} >= {"metadata.managed_by", "metadata.env"}
    proxy.reset()
    assert run(component, auth).status is Status.UNCHANGED
    assert proxy.writes() == []


def test_a_container_managed_by_another_tool_is_left_to_it(account, container, via_proxy, run, admin):
    admin(account).create_container(container, metadata={"managed_by": "terraform"})
    component, auth = via_proxy(account, container)

    result = run(component, auth)

    found = drift(result, "metadata.managed_by")
    assert (found.actual, found.resolution) == ("terraform", Resolution.KEPT)
    assert "set-container-metadata" not in verbs(result)
    assert admin(account).get_container_client(container).get_container_properties().metadata == {"managed_by": "terraform"}


def test_skipped_settings_are_reported_and_left_alone(account, container, via_proxy, run, admin):
    admin(account).create_container(container, public_access="container")
    component, auth = via_proxy(account, container, {"skip": ["container_public_access", "blob_soft_delete"]})

    result = run(component, auth)

    found = drift(result, "container_public_access")
    assert (found.resolution, found.reason) == (Resolution.KEPT, "skipped by provision.backend.skip")
    assert admin(account).get_container_client(container).get_container_properties().public_access == "container"
    assert admin(account).get_service_properties()["delete_retention_policy"].enabled is False


def test_metadata_names_must_be_identifiers(account, container, via_proxy, run, proxy):
    component, auth = via_proxy(account, container, {"metadata": {"cost-center": "42"}})

    with pytest.raises(EventFailed) as failed:
        run(component, auth)

    assert failed.value.exit_code == EXIT_CONFIG
    assert "C# identifiers" in " ".join(failed.value.hints)
    assert proxy.requests == []


def test_sas_connection_string_works(azurite, account, container, run, admin):
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    sas = generate_account_sas(
        account,
        account_key(account),
        ResourceTypes(service=True, container=True),
        AccountSasPermissions(read=True, write=True, list=True, create=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    component = make_component({"storage_account_name": account, "container_name": container, "key": "k"})
    auth = connection_auth(f"BlobEndpoint={azurite.endpoint(account)};SharedAccessSignature={sas}")

    result = run(component, auth)

    assert result.status is Status.CREATED
    assert admin(account).get_container_client(container).exists()
    assert sas not in json.dumps(result.to_dict())


def test_wrong_key_is_permission_denied_without_leaking_the_key(azurite, account, container, run):
    wrong = account_key("someone-else")
    component = make_component({"storage_account_name": account, "container_name": container, "key": "k"})
    auth = connection_auth(azurite.connection_string(account).replace(account_key(account), wrong))

    with pytest.raises(EventFailed) as failed:
        run(component, auth)

    error = failed.value
    assert error.exit_code == EXIT_PERMISSION
    assert "AuthorizationFailure" in error.message
    # Said as rejected credentials, naming whose (never the key), not as a missing role.
    assert f"the credentials as the connection string's key of account {account} were rejected" in error.message
    assert "role" not in " ".join(error.hints)
    assert "backend-azurerm" in error.message and "before.terraform.init" in error.message
    assert wrong not in json.dumps(error.to_dict())


def test_missing_account_is_a_config_error_naming_how_to_create_it(azurite, container, run):
    component = make_component({"storage_account_name": "nosuchaccount", "container_name": container, "key": "k"})
    auth = connection_auth(azurite.connection_string("nosuchaccount"))

    with pytest.raises(EventFailed) as failed:
        run(component, auth)

    assert failed.value.exit_code == EXIT_CONFIG
    assert "storage account nosuchaccount does not exist" in failed.value.message
    assert "resource_group_name" in failed.value.hints[0]
    assert "pip install 'provisioner-backend-azurerm[mgmt]'" in failed.value.hints[0]


def test_without_the_mgmt_extra_a_missing_account_names_the_install_hint(container, run, monkeypatch, no_azure_dns):
    from provisioner_backend_azure import client as sdk
    from provisioner_backend_azure.client import credential_key
    from provisioner_backend_azure.config import ENVIRONMENTS
    from support.azure_arm import StaticToken
    from support.azure_helpers import principal_auth

    # Hide the [mgmt] extra the way an environment without it looks to importlib.
    monkeypatch.setitem(sys.modules, "azure.mgmt.storage", None)
    assert sdk.mgmt_installed() is False
    backend = {"storage_account_name": "nosuchaccount", "container_name": container, "key": "k", "resource_group_name": "rg-tfstate"}
    auth = principal_auth(subscription_id="00000000-1111-2222-3333-444444444444")
    clients = ClientCache()
    clients.get(credential_key(auth.require("azure"), ENVIRONMENTS["public"]), StaticToken)  # no sign-in: the request never leaves the machine

    with pytest.raises(EventFailed) as failed:
        run(make_component(backend, {"attempts": 1}), auth, clients=clients)

    assert failed.value.exit_code == EXIT_CONFIG
    assert "storage account nosuchaccount does not exist at https://nosuchaccount.blob.core.windows.net" in failed.value.message
    assert failed.value.hints == ("Install the management plane so the provisioner can create it: pip install 'provisioner-backend-azurerm[mgmt]'",)


def test_unreachable_endpoint_is_a_network_error_naming_it(container, run):
    dead = f"http://127.0.0.1:{free_port()}/devstoreaccount1"
    component = make_component({"storage_account_name": "devstoreaccount1", "container_name": container, "key": "k"}, {"attempts": 1})
    auth = connection_auth(f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};BlobEndpoint={dead};")

    with pytest.raises(EventFailed) as failed:
        run(component, auth)

    assert failed.value.exit_code == EXIT_NETWORK
    assert dead in failed.value.message


def test_credentials_for_another_account_are_a_config_error(azurite, account, container, run, proxy):
    component = make_component({"storage_account_name": account, "container_name": container, "key": "k"})

    with pytest.raises(EventFailed) as failed:
        run(component, connection_auth(azurite.connection_string("devstoreaccount1")))

    assert failed.value.exit_code == EXIT_CONFIG
    assert "auth.providers.azure is for storage account 'devstoreaccount1'" in failed.value.message


def test_two_components_share_one_client_and_one_container(account, container, via_proxy, run):
    clients = ClientCache()
    first, auth = via_proxy(account, container)
    second = make_component(dict(first.backend, key="app/terraform.tfstate"), name="app")

    assert run(first, auth, clients=clients).status is Status.CREATED
    assert run(second, auth, clients=clients).status is Status.UNCHANGED
    assert clients.stats()["hits"] >= 1 and len(clients) == 1


def test_concurrent_runs_create_the_container_once(account, container, via_proxy, run, admin):
    component, auth = via_proxy(account, container)
    results, errors = [], []

    def go():
        try:
            results.append(run(component, auth))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert len(results) == 4
    assert [r.status for r in results].count(Status.CREATED) == 1  # a run that lost the race does not claim it
    assert admin(account).get_container_client(container).get_container_properties().metadata == {"managed_by": "provisioner"}
