"""The gcp credential providers this distribution registers with core."""

from __future__ import annotations

from provisioner_backend_gcs.credentials import GcpCredentials
from provisioner_core import PluginRegistry, Provisioning, ResolvedComponent


def test_gcp_types_build_typed_credentials(stack_tree):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}})
    session = Provisioning.from_path(None, stack_tree.root, PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-gcs"}))
    providers = {"gcp": {"type": "access-token", "token": "ya29.secret-token", "project": "p1"}}
    auth = session.auth(ResolvedComponent(stack="dev", name="vpc", terraform_component="vpc", auth={"providers": providers}))
    creds = auth.require("gcp")
    assert creds == GcpCredentials("access-token", token="ya29.secret-token", project="p1")
    assert auth.terraform_env() == {"GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.secret-token"}
    assert "ya29.secret-token" in auth.secrets() and "ya29.secret-token" not in repr(auth)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in auth.ambient_env
