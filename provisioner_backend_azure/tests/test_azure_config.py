"""Local rules, no server: names, backend/options parsing, target resolution, error mapping, plugin shape."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from provisioner_backend_azure import names
from provisioner_backend_azure.config import SKIPPABLE, parse_backend, parse_options, resolve_target
from provisioner_backend_azure.credentials import AzureCredentials
from provisioner_backend_azure.errors import DATA_ROLE, map_error, scrub
from provisioner_core import EXIT_CONFIG, EXIT_CONFLICT, EXIT_NETWORK, EXIT_PERMISSION, ConfigError, ProvisionerError

KEY = "c2VjcmV0LWtleS1mb3ItdGVzdHM="


def backend(**extra):
    return {"storage_account_name": "tfstateacct", "container_name": "tfstate", "key": "vpc.tfstate", **extra}


def key_creds(**extra):
    return AzureCredentials("account-key", account_name="tfstateacct", account_key=KEY, **extra)


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [("ab", "it is 2 characters long"), ("a" * 25, "it is 25 characters long"), ("TfState1", "it contains 'ST'"), ("tf-state", "it contains '-'")],
)
def test_invalid_account_names_name_the_rule(name, problem):
    with pytest.raises(ConfigError) as raised:
        names.check_account_name(name)
    assert raised.value.exit_code == EXIT_CONFIG
    assert problem in raised.value.message
    assert raised.value.hints == (f"Azure's rule: {names.ACCOUNT_RULE}.",)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("tf", "it is 2 characters long"),
        ("t" * 64, "it is 64 characters long"),
        ("TfState", "it contains 'ST'"),
        ("tf_state", "it contains '_'"),
        ("-tfstate", "it starts with a hyphen"),
        ("tfstate-", "it ends with a hyphen"),
        ("tf--state", "it has two hyphens in a row"),
    ],
)
def test_invalid_container_names_name_the_rule(name, problem):
    with pytest.raises(ConfigError) as raised:
        names.check_container_name(name)
    assert problem in raised.value.message
    assert "no two hyphens in a row" in raised.value.hints[0]


@pytest.mark.parametrize("name", ["abc", "tfstate", "a1-b2-c3", "0" * 63])
def test_valid_container_names_pass(name):
    assert names.check_container_name(name) == name


@pytest.mark.parametrize(("name", "ok"), [("rg-tfstate", True), ("rg.(prod)_1", True), ("rg.", False), ("rg/tf", False), ("r" * 91, False)])
def test_resource_group_names(name, ok):
    if ok:
        assert names.check_resource_group_name(name) == name
    else:
        with pytest.raises(ConfigError):
            names.check_resource_group_name(name)


def test_metadata_names_and_tags():
    names.check_metadata_key("managed_by", "k")
    with pytest.raises(ConfigError, match="not an identifier"):
        names.check_metadata_key("managed-by", "k")
    with pytest.raises(ConfigError, match="contains '/'"):
        names.check_tag("team/name", "x", "k")
    with pytest.raises(ConfigError, match="257 characters"):
        names.check_tag("team", "x" * 257, "k")


# --- the backend section ------------------------------------------------------------------------


def test_required_keys_and_bad_values_are_config_errors():
    with pytest.raises(ConfigError, match="backend.container_name is required"):
        parse_backend({"storage_account_name": "tfstateacct"})
    with pytest.raises(ConfigError, match="no backend.azurerm section"):
        parse_backend({})
    with pytest.raises(ConfigError, match="backend.subscription_id 'not-a-guid' is not a valid GUID"):
        parse_backend(backend(subscription_id="not-a-guid"))
    with pytest.raises(ConfigError, match="metadata_host"):
        parse_backend(backend(metadata_host="management.local.azurestack.external"))
    with pytest.raises(ConfigError) as raised:
        parse_backend(backend(environment="usgov"))
    assert "Did you mean 'usgovernment'?" in raised.value.hints[0]
    with pytest.raises(ConfigError, match="use_azuread_auth must be true or false"):
        parse_backend(backend(use_azuread_auth="yes"))


def test_backend_warnings_catch_typos_and_secrets_without_echoing_them():
    parsed = parse_backend(backend(container="x", access_key=KEY, use_azuread_auth="true"))
    assert parsed.use_azuread_auth is True
    assert any("backend.container is not an azurerm backend argument" in w and "'container_name'" in w for w in parsed.warnings)
    assert any("backend.access_key holds a secret" in w for w in parsed.warnings)
    assert KEY not in json.dumps(parsed.warnings)


def test_sovereign_clouds_change_every_endpoint():
    parsed = parse_backend(backend(environment="china"))
    target, _ = resolve_target(parsed, parse_options({}), key_creds())
    assert target.blob_endpoint == "https://tfstateacct.blob.core.chinacloudapi.cn"
    assert parsed.environment.arm_endpoint == "https://management.chinacloudapi.cn"
    assert parsed.environment.authority_host == "login.chinacloudapi.cn"


# --- options ------------------------------------------------------------------------------------------


def test_option_defaults():
    opts = parse_options({"enabled": True})
    assert (opts.blob_retention_days, opts.container_retention_days, opts.attempts, opts.min_tls_version) == (30, 30, 3, "TLS1_2")
    assert opts.desired_tags() == {"managed-by": "provisioner"}
    assert opts.desired_metadata() == {"managed_by": "provisioner"}
    assert opts.warnings == ()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"attempts": 0}, "attempts must be between 1 and 10"),
        ({"retries": 0}, "retries must be between 1 and 10"),
        ({"retries": 2, "attempts": 2}, "sets both attempts and retries"),
        ({"wait_timeout": 0}, "wait_timeout must be between 1 and 3600"),
        ({"blob_retention_days": 366}, "blob_retention_days must be between 1 and 365"),
        ({"container_retention_days": "30"}, "container_retention_days must be an integer"),
        ({"min_tls_version": "TLS1_1"}, "min_tls_version must be TLS1_2 or TLS1_3"),
        ({"sku": "Standard_LSR"}, "is not a StorageV2 SKU"),
        ({"skip": ["versoning"]}, "unknown value 'versoning'"),
        ({"tags": {"a/b": "c"}}, "not a valid tag name"),
        ({"report_only": "yes"}, "report_only must be true or false"),
    ],
)
def test_bad_options_are_config_errors(options, message):
    with pytest.raises(ConfigError) as raised:
        parse_options(options)
    assert message in raised.value.message


def test_retries_is_the_deprecated_name_of_attempts():
    old, new = parse_options({"retries": 5}), parse_options({"attempts": 5})
    assert old.attempts == new.attempts == 5 and new.warnings == ()
    assert old.warnings == ("provision.backend.retries is deprecated: write `attempts: 5` instead (the same number: attempts per call, the first included)",)


def test_unknown_options_warn_with_the_closest_key():
    opts = parse_options({"blob_retention_day": 10, "timeout": 30})
    assert opts.warnings == ("provision.backend.blob_retention_day is not a known option and was ignored; did you mean 'blob_retention_days'?",)


def test_every_skip_value_is_accepted():
    assert parse_options({"skip": list(SKIPPABLE)}).skip == frozenset(SKIPPABLE)


# --- target resolution ----------------------------------------------------------------------------------


def test_connection_string_forms_give_the_blob_endpoint():
    parsed = parse_backend(backend(storage_account_name="devstoreaccount1"))
    options = parse_options({})
    azurite = AzureCredentials("connection-string", connection_string="AccountName=devstoreaccount1;AccountKey=x;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;")
    assert resolve_target(parsed, options, azurite)[0].blob_endpoint == "http://127.0.0.1:10000/devstoreaccount1"
    dev = AzureCredentials("connection-string", connection_string="UseDevelopmentStorage=true")
    assert resolve_target(parsed, options, dev)[0].blob_endpoint == "http://127.0.0.1:10000/devstoreaccount1"
    cloud = AzureCredentials("connection-string", connection_string="DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;AccountKey=x;EndpointSuffix=core.usgovcloudapi.net")
    assert resolve_target(parsed, options, cloud)[0].blob_endpoint == "https://devstoreaccount1.blob.core.usgovcloudapi.net"


@pytest.mark.parametrize(
    ("extra", "creds", "reason"),
    [
        ({}, AzureCredentials("service-principal", tenant_id="t", client_id="c", client_secret="s"), "backend.resource_group_name is not set"),
        ({"resource_group_name": "rg"}, AzureCredentials("service-principal", tenant_id="t", client_id="c", client_secret="s"), "no subscription_id"),
        ({"resource_group_name": "rg", "subscription_id": "00000000-0000-0000-0000-000000000000"}, key_creds(), "needs service-principal or azure-cli"),
    ],
)
def test_the_management_plane_is_used_only_when_fully_configured(extra, creds, reason):
    target, _ = resolve_target(parse_backend(backend(**extra)), parse_options({}), creds)
    assert target.management is False and reason in target.management_reason


def test_the_management_plane_with_azure_cli_and_the_subscription_from_auth():
    creds = AzureCredentials("azure-cli", subscription_id="00000000-0000-0000-0000-000000000000")
    target, _ = resolve_target(parse_backend(backend(resource_group_name="rg")), parse_options({}), creds)
    assert target.management is True and target.subscription_id == "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("extra", "creds", "message"),
    [
        ({}, AzureCredentials("account-key", account_name="otheracct", account_key=KEY), "is for storage account 'otheracct'"),
        ({"tenant_id": "a"}, AzureCredentials("service-principal", tenant_id="b", client_id="c", client_secret="s"), "backend.tenant_id and auth.providers.azure.tenant_id differ"),
        ({}, AzureCredentials("managed-identity"), "type 'managed-identity' is not supported"),
    ],
)
def test_backend_and_credentials_must_agree(extra, creds, message):
    with pytest.raises(ConfigError, match=message):
        resolve_target(parse_backend(backend(**extra)), parse_options({}), creds)


def test_warnings_for_what_terraform_will_trip_on():
    _, warnings = resolve_target(parse_backend(backend(use_azuread_auth=True)), parse_options({}), key_creds())
    assert any("terraform will sign in to storage with Azure AD" in w for w in warnings)
    cli = AzureCredentials("azure-cli")
    _, warnings = resolve_target(parse_backend(backend()), parse_options({}), cli)
    assert any("terraform init will fail" in w for w in warnings)


# --- error mapping ------------------------------------------------------------------------------------


class _Response:
    """Enough of an azure-core HTTP response for HttpResponseError."""

    def __init__(self, status: int, code: str | None, message: str = "denied") -> None:
        self.status_code = status
        self.reason = "reason"
        self.headers = {"x-ms-error-code": code} if code else {}
        self._body = json.dumps({"error": {"code": code, "message": message}}) if code else ""
        self.request = None

    def text(self, encoding=None):
        return self._body


def _http_error(status, code, message="denied"):
    from azure.core.exceptions import HttpResponseError

    return HttpResponseError(message=message, response=_Response(status, code, message))


def _mapped(exc, role=DATA_ROLE):
    return map_error(exc, operation="create", target="container tfstate", endpoint="https://acct.blob.core.windows.net", role=role)


def test_permission_errors_name_the_role():
    error = _mapped(_http_error(403, "AuthorizationPermissionMismatch"))
    assert error.exit_code == EXIT_PERMISSION
    assert "'Storage Blob Data Contributor' role" in error.hints[0] and "10 minutes" in error.hints[0]
    keys_off = _mapped(_http_error(403, "KeyBasedAuthenticationNotPermitted"))
    assert keys_off.exit_code == EXIT_PERMISSION and "use_azuread_auth: true" in keys_off.hints[0]


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [
        (409, "StorageAccountAlreadyTaken", EXIT_CONFLICT),
        (409, "ContainerBeingDeleted", EXIT_CONFLICT),
        (404, "SubscriptionNotFound", EXIT_CONFIG),
        (409, "MissingSubscriptionRegistration", EXIT_CONFIG),
        (401, "InvalidAuthenticationToken", EXIT_PERMISSION),
        (503, "ServerBusy", EXIT_NETWORK),
        (400, "SomethingNew", 1),
    ],
)
def test_service_error_codes_map_to_exit_codes(status, code, exit_code):
    error = _mapped(_http_error(status, code))
    assert isinstance(error, ProvisionerError) and error.exit_code == exit_code
    assert code in error.message and error.context["error_code"] == code


def test_sign_in_and_network_failures():
    from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
    from azure.identity import CredentialUnavailableError

    assert _mapped(CredentialUnavailableError("Azure CLI not found on path")).exit_code == EXIT_CONFIG
    assert "az login" in _mapped(CredentialUnavailableError("x")).hints[0]
    assert _mapped(ClientAuthenticationError("AADSTS7000215: Invalid client secret provided.")).exit_code == EXIT_PERMISSION
    refused = _mapped(ServiceRequestError("Connection refused"))
    assert refused.exit_code == EXIT_NETWORK and "https://acct.blob.core.windows.net" in refused.message
    assert _mapped(ValueError("not azure")) is None


def test_sas_signatures_are_scrubbed_from_service_messages():
    text = "Server failed for https://a.blob.core.windows.net/c?sv=2024-01-01&se=2030&sig=abcdEFGH%2Bsecret&sp=rl\nsecond line"
    assert scrub(text) == "Server failed for https://a.blob.core.windows.net/c?sv=***&se=***&sig=***&sp=***"


# --- the plugin as installed ----------------------------------------------------------------------------


def test_entry_point_and_spec():
    eps = [ep for ep in metadata.entry_points(group="provisioner") if ep.name == "backend-azurerm"]
    assert [ep.value for ep in eps] == ["provisioner_backend_azure.plugin:plugin"]
    spec = eps[0].load().register_provisioner()
    assert (spec.name, spec.type, spec.backend_types) == ("backend-azurerm", "backend", ("azurerm",))
    assert spec.events == ("before.terraform.init", "manual.provision")


def test_importing_the_plugin_imports_no_cloud_sdk():
    code = "import provisioner_backend_azure.plugin, sys; bad = [m for m in sys.modules if m.startswith(('boto3','botocore','google.cloud','azure'))]; assert not bad, bad"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_docs_describe_every_option_skip_value_and_backend_key():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "backends" / "azure.md").read_text()
    read = ["enabled", "timeout", "report_only", "skip", "location", "tags", "metadata", "blob_retention_days", "container_retention_days", "min_tls_version", "sku", "attempts", "retries", "wait_timeout"]
    missing = [key for key in read if f"| `{key}` |" not in docs]
    missing += [value for value in SKIPPABLE if f"`{value}`" not in docs]
    used = ["storage_account_name", "container_name", "key", "resource_group_name", "subscription_id", "use_azuread_auth", "environment", "tenant_id", "access_key", "sas_token", "metadata_host"]
    missing += [key for key in used if f"`{key}`" not in docs]
    assert missing == []


def test_the_docs_list_every_option_the_parser_reads(monkeypatch):
    from provisioner_core import OptionReader

    seen: set[str] = set()
    original = OptionReader._get

    def spy(self, key):
        seen.add(key)
        return original(self, key)

    monkeypatch.setattr(OptionReader, "_get", spy)
    parse_options({})
    docs = (Path(__file__).resolve().parents[2] / "docs" / "backends" / "azure.md").read_text()
    assert seen and [key for key in sorted(seen) if f"| `{key}` |" not in docs] == []


def test_a_missing_azurite_fails_the_tests_with_the_install_step(monkeypatch, request):
    import support.azurite as azurite_support

    require_azurite = request.config.pluginmanager.get_plugin(f"{Path(__file__).parent}/conftest.py").require_azurite
    monkeypatch.setattr(azurite_support, "find_azurite", lambda: None)
    with pytest.raises(pytest.fail.Exception) as failed:
        require_azurite()
    assert "scripts/bootstrap test" in str(failed.value)
