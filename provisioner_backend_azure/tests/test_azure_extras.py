"""azure-identity is the [aad] extra: key, SAS and connection-string users never need it; an AAD
credential type without it is a one-line configuration error (exit 2) naming the pip command."""

from __future__ import annotations

import sys
from importlib import metadata

import pytest

from provisioner_core import EXIT_CONFIG, ClientCache, EventFailed
from support.azure_helpers import connection_auth, make_component, principal_auth


@pytest.fixture
def without_azure_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide azure-identity the way an environment without the [aad] extra looks to importlib."""
    from provisioner_backend_azure import client as sdk

    for name in [m for m in sys.modules if m == "azure.identity" or m.startswith("azure.identity.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "azure.identity", None)
    assert sdk.identity_installed() is False


def test_azure_identity_is_only_required_by_the_aad_and_mgmt_extras():
    requirements = metadata.requires("provisioner-backend-azurerm") or []
    identity = [r.replace('"', "'") for r in requirements if r.startswith("azure-identity")]
    assert identity, requirements
    assert {r.split(";", 1)[1].strip() for r in identity if ";" in r} == {"extra == 'aad'", "extra == 'mgmt'"}, identity
    assert all(";" in r for r in identity), f"azure-identity must not be unconditional: {identity}"


def test_a_service_principal_without_azure_identity_is_exit_2_naming_the_extra(without_azure_identity, container, run, no_azure_dns):
    # The account's host does not resolve here: a request sent would be exit 5, not 2.
    backend = {"storage_account_name": "acmetfstate", "container_name": container, "key": "k"}

    with pytest.raises(EventFailed) as failed:
        run(make_component(backend, {"retries": 1}), principal_auth(), clients=ClientCache())

    assert failed.value.exit_code == EXIT_CONFIG
    assert "'service-principal' signs in with Azure AD, and azure-identity is not installed" in failed.value.message
    assert any("pip install 'provisioner-backend-azurerm[aad]'" in hint for hint in failed.value.hints), failed.value.hints
    assert "not-a-real-secret-value" not in failed.value.message + " ".join(failed.value.hints)


def test_a_connection_string_needs_no_azure_identity(without_azure_identity, azurite, account, container, run, admin):
    # Any import of azure.identity would fail here: the data plane with a key never touches it.
    result = run(make_component({"storage_account_name": account, "container_name": container, "key": "k"}), connection_auth(azurite.connection_string(account)))

    assert result.status.value == "created"
    assert admin(account).get_container_client(container).exists()
