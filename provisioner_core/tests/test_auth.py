"""AuthContext built from auth.providers through the firstresult hook; secrets never shown."""

from __future__ import annotations

import pytest

from provisioner_core import AuthContext, AwsCredentials, ConfigError, hookimpl
from provisioner_core.auth.credentials import AzureCredentials
from provisioner_core.session import Provisioning
from provisioner_core.stacks.component import ResolvedComponent


def with_auth(providers):
    return ResolvedComponent(stack="dev", name="vpc", terraform_component="vpc", auth={"providers": providers})


@pytest.fixture
def session(stack_tree, provisioner_registry):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}})
    return Provisioning.from_path(None, stack_tree.root, provisioner_registry)


def test_builtin_provider_types(session):
    auth = session.auth(with_auth({
        "aws": {"type": "aws-sso", "identity": "dev-admin"},
        "gcp": {"type": "anonymous"},
        "azure": {"type": "connection-string", "connection_string": "AccountName=a;AccountKey=c2VjcmV0a2V5;BlobEndpoint=http://127.0.0.1:1/a"},
    }))
    assert auth.aws == AwsCredentials("profile", profile="dev-admin")
    assert auth.aws.session_kwargs() == {"profile_name": "dev-admin"}
    assert auth.gcp.method == "anonymous"
    assert auth.azure.connection_setting("BlobEndpoint") == "http://127.0.0.1:1/a"
    assert "c2VjcmV0a2V5" in auth.secrets()


def test_static_keys_are_secret_and_not_in_repr(session):
    auth = session.auth(with_auth({"aws": {"type": "static", "access_key_id": "AKIAEXAMPLE", "secret_access_key": "s3cr3t-value"}}))
    assert "s3cr3t-value" not in repr(auth)
    assert auth.secrets() == ("s3cr3t-value",)
    assert session.redactor("the key is s3cr3t-value") == "the key is ***"
    assert auth.terraform_env() == {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value"}


def test_env_type_is_an_explicit_opt_in(session, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with pytest.raises(ConfigError, match="neither AWS_ACCESS_KEY_ID nor AWS_PROFILE"):
        session.auth(with_auth({"aws": {"type": "env"}}))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
    assert session.auth(with_auth({"aws": {"type": "env"}})).aws.access_key_id == "AKIAENV"


def test_missing_keys_and_unknown_types_are_config_errors(session):
    with pytest.raises(ConfigError, match="missing secret_access_key"):
        session.auth(with_auth({"aws": {"type": "static", "access_key_id": "x"}}))
    with pytest.raises(ConfigError, match="unknown provider type 'vault'"):
        session.auth(with_auth({"aws": {"type": "vault"}}))
    with pytest.raises(ConfigError, match="needs a `type`"):
        session.auth(with_auth({"aws": {"profile": "x"}}))


def test_require_without_credentials_shows_the_block_to_add():
    with pytest.raises(ConfigError) as info:
        AuthContext().require("aws")
    assert "never use ambient credentials" in info.value.message
    assert "auth:" in info.value.hints[0] and "providers:" in info.value.hints[0]


def test_plugins_can_add_auth_providers(session, register_plugin):
    class Vault:
        @staticmethod
        @hookimpl
        def resolve_credentials(cloud, provider_type, settings):
            if cloud == "aws" and provider_type == "vault":
                return AwsCredentials("static", access_key_id="from-vault", secret_access_key="vault-secret")
            return None

    register_plugin(Vault)
    assert session.auth(with_auth({"aws": {"type": "vault", "path": "x"}})).aws.access_key_id == "from-vault"


def test_azure_terraform_env_per_method():
    sp = AzureCredentials("service-principal", tenant_id="t", client_id="c", client_secret="s", subscription_id="sub")
    assert sp.terraform_env() == {"ARM_SUBSCRIPTION_ID": "sub", "ARM_TENANT_ID": "t", "ARM_CLIENT_ID": "c", "ARM_CLIENT_SECRET": "s"}
    cs = AzureCredentials("connection-string", connection_string="AccountName=a;AccountKey=k3y")
    assert cs.terraform_env() == {"ARM_ACCESS_KEY": "k3y"}
