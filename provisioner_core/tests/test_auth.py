"""AuthContext built from auth.providers through registered credential providers; secrets never shown.

Core knows no cloud: these tests register a provider of their own, as a plugin would.
"""

from __future__ import annotations

import warnings

import pytest
from attrs import field, frozen

from provisioner_core import AuthContext, ConfigError, CredentialProvider, Credentials, hookimpl
from provisioner_core.session import Provisioning
from provisioner_core.stacks.component import ResolvedComponent


@frozen
class VaultCredentials:
    role: str
    token: str = field(repr=False)

    def fingerprint(self) -> str:
        return f"vault:{self.role}"

    def secrets(self) -> tuple[str, ...]:
        return (self.token,)

    def terraform_env(self) -> dict[str, str]:
        return {"VAULT_TOKEN": self.token}


def _build(settings):
    return VaultCredentials(str(settings["role"]), str(settings["token"]))


class VaultPlugin:
    @staticmethod
    @hookimpl
    def register_credential_providers():
        return (
            CredentialProvider("vault", "token", _build, required=("role", "token"), example="auth:\n  providers:\n    vault:\n      type: token",
                               ambient_env=("VAULT_TOKEN", "VAULT_ADDR")),
        )  # fmt: skip


def with_auth(providers):
    return ResolvedComponent(stack="dev", name="vpc", terraform_component="vpc", auth={"providers": providers})


@pytest.fixture
def session(stack_tree, provisioner_registry, register_plugin):
    register_plugin(VaultPlugin, name="vault")
    stack_tree.stack("dev", {"vars": {"stage": "dev"}})
    return Provisioning.from_path(None, stack_tree.root, provisioner_registry)


def test_a_registered_provider_builds_typed_credentials(session):
    auth = session.auth(with_auth({"vault": {"type": "token", "role": "deployer", "token": "hvs.s3cr3t-value"}}))
    creds = auth.require("vault")
    assert isinstance(creds, VaultCredentials) and isinstance(creds, Credentials)
    assert "hvs.s3cr3t-value" not in repr(auth)
    assert auth.secrets() == ("hvs.s3cr3t-value",)
    assert session.redactor("the token is hvs.s3cr3t-value") == "the token is ***"
    assert auth.terraform_env() == {"VAULT_TOKEN": "hvs.s3cr3t-value"}
    assert auth.ambient_env == ("VAULT_TOKEN", "VAULT_ADDR")  # terraform never inherits the shell's


def test_missing_keys_and_unknown_types_are_config_errors(session):
    with pytest.raises(ConfigError, match="missing token"):
        session.auth(with_auth({"vault": {"type": "token", "role": "x"}}))
    with pytest.raises(ConfigError, match="unknown provider type 'tokn'") as caught:
        session.auth(with_auth({"vault": {"type": "tokn"}}))
    assert "Did you mean 'token'?" in caught.value.hints[0]
    with pytest.raises(ConfigError, match="unknown provider type 'x'") as caught:
        session.auth(with_auth({"nimbus": {"type": "x"}}))
    assert "No installed plugin provides 'nimbus' credentials" in caught.value.hints[0]
    with pytest.raises(ConfigError, match="needs a `type`"):
        session.auth(with_auth({"vault": {"role": "x"}}))


def test_require_without_credentials_shows_the_registered_example(session):
    with pytest.raises(ConfigError) as info:
        session.auth(with_auth({})).require("vault")
    assert "never use ambient credentials" in info.value.message
    assert "auth: / providers: / vault: / type: token" in info.value.hints[0]
    with pytest.raises(ConfigError, match="no 'nimbus' credentials"):
        AuthContext().require("nimbus")


def test_a_provider_that_builds_no_credentials_is_a_plugin_bug(session, register_plugin):
    class Broken:
        @staticmethod
        @hookimpl
        def register_credential_providers():
            return (CredentialProvider("broken", "any", lambda settings: object()),)

    register_plugin(Broken, name="broken")
    with pytest.raises(TypeError, match="lacks fingerprint"):
        session.auth(with_auth({"broken": {"type": "any"}}))


def test_the_deprecated_resolve_credentials_hook_still_works_and_warns(session, register_plugin):
    class Legacy:
        @staticmethod
        @hookimpl
        def resolve_credentials(cloud, provider_type, settings):
            return VaultCredentials("legacy", "legacy-token") if (cloud, provider_type) == ("vault", "legacy") else None

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        register_plugin(Legacy, name="legacy")
    assert any("resolve_credentials is deprecated" in str(w.message) for w in caught)
    assert session.auth(with_auth({"vault": {"type": "legacy"}})).require("vault").fingerprint() == "vault:legacy"
