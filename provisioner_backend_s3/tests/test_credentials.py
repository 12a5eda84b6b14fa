"""The aws credential providers this distribution registers with core."""

from __future__ import annotations

import pytest

from provisioner_backend_s3.credentials import AwsCredentials
from provisioner_core import ConfigError, PluginRegistry, Provisioning, ResolvedComponent


@pytest.fixture
def session(stack_tree):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}})
    return Provisioning.from_path(None, stack_tree.root, PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-s3"}))


def with_auth(providers):
    return ResolvedComponent(stack="dev", name="vpc", terraform_component="vpc", auth={"providers": providers})


def test_profile_and_sso_types(session):
    auth = session.auth(with_auth({"aws": {"type": "aws-sso", "identity": "dev-admin"}}))
    assert auth.require("aws") == AwsCredentials("profile", profile="dev-admin")
    assert auth.require("aws").session_kwargs() == {"profile_name": "dev-admin"}
    assert "AWS_SECRET_ACCESS_KEY" in auth.ambient_env


def test_static_keys_are_secret_and_not_in_repr(session):
    auth = session.auth(with_auth({"aws": {"type": "static", "access_key_id": "AKIAEXAMPLE", "secret_access_key": "s3cr3t-value"}}))
    assert "s3cr3t-value" not in repr(auth)
    assert auth.secrets() == ("s3cr3t-value",)
    assert auth.terraform_env() == {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value"}


def test_env_type_is_an_explicit_opt_in(session, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with pytest.raises(ConfigError, match="neither AWS_ACCESS_KEY_ID nor AWS_PROFILE"):
        session.auth(with_auth({"aws": {"type": "env"}}))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
    creds = session.auth(with_auth({"aws": {"type": "env"}})).require("aws")
    assert isinstance(creds, AwsCredentials) and creds.access_key_id == "AKIAENV"


def test_missing_keys_name_the_setting(session):
    with pytest.raises(ConfigError, match="missing secret_access_key"):
        session.auth(with_auth({"aws": {"type": "static", "access_key_id": "x"}}))
