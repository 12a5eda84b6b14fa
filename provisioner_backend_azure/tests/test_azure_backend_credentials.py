"""backend.azurerm's own credentials become the azure provider (auth.providers, when set, wins in core)."""

from provisioner_backend_azure.backend_type import AZURERM_BACKEND


def test_account_key_sas_token_and_service_principal():
    rule = AZURERM_BACKEND.auth_from_settings
    base = {"storage_account_name": "acct", "container_name": "tfstate"}
    assert rule({**base, "access_key": "k"}) == {"azure": {"type": "account-key", "account_name": "acct", "account_key": "k"}}
    assert rule({**base, "sas_token": "sv=1"}) == {"azure": {"type": "sas", "account_name": "acct", "sas_token": "sv=1"}}
    principal = {"tenant_id": "t", "client_id": "c", "client_secret": "s", "subscription_id": "sub"}
    assert rule({**base, **principal}) == {"azure": {"type": "service-principal", **principal}}
    assert rule(base) == {}
