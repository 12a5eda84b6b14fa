"""The ``gcs`` backend type this distribution registers: Atmos's prefix default, state objects, reading a state."""

from __future__ import annotations

import json

import attrs

from provisioner_backend_gcs.backend_type import GCS_BACKEND, read_state, state_object
from provisioner_core import ClientCache, PluginRegistry, ResolvedComponent, StackRepository, load_project_config
from support.gcs_helpers import ANONYMOUS, backend_for, sdk_client
from support.servers import ServerProcess


def test_prefix_defaults_to_the_component_and_objects_are_terraforms(stack_tree) -> None:  # type: ignore[no-untyped-def]
    registry = PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-gcs"})
    assert registry.backend_types()["gcs"] is GCS_BACKEND
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "backend_type": "gcs", "backend": {"gcs": {"bucket": "b"}},
                             "components": {"terraform": {"vpc": {}, "eks": {"backend": {"gcs": {"prefix": "own"}}}}}})  # fmt: skip
    repo = StackRepository(load_project_config(None, stack_tree.root), backend_types=registry.backend_types())
    assert [repo.component("dev", n).backend["prefix"] for n in ("vpc", "eks")] == ["vpc", "own"]
    assert state_object({"prefix": "vpc/"}, "dev") == "vpc/dev.tfstate"
    assert state_object({}, "default") == "default.tfstate"


def test_read_state_reads_the_workspace_object_or_none(fake_gcs: ServerProcess, bucket_name: str) -> None:
    sdk_client(fake_gcs.url).create_bucket(bucket_name)
    component = attrs.evolve(
        ResolvedComponent(stack="dev", name="vpc", terraform_component="vpc", backend_type="gcs", backend=backend_for(fake_gcs.url, bucket_name, prefix="vpc")),
        workspace="dev",
    )
    assert read_state(component, ANONYMOUS, ClientCache()) is None
    sdk_client(fake_gcs.url).bucket(bucket_name).blob("vpc/dev.tfstate").upload_from_string(json.dumps({"serial": 7}))
    assert json.loads(read_state(component, ANONYMOUS, ClientCache()) or b"") == {"serial": 7}


def test_a_customer_key_goes_to_its_variable_not_the_file() -> None:
    from provisioner_core import backend_config
    from provisioner_core.terraform.files import backend_secret_env

    app = ResolvedComponent(stack="dev", name="app", terraform_component="app", backend_type="gcs",
                            backend={"bucket": "b", "prefix": "p", "encryption_key": "c2VjcmV0LWtleS0zMi1ieXRlcw==", "kms_encryption_key": "projects/x/keys/k"})  # fmt: skip
    assert backend_config(app, {"gcs": GCS_BACKEND})["terraform"] == {"backend": {"gcs": {"bucket": "b", "prefix": "p", "kms_encryption_key": "projects/x/keys/k"}}}
    assert backend_secret_env(app, {"gcs": GCS_BACKEND}) == {"GOOGLE_ENCRYPTION_KEY": "c2VjcmV0LWtleS0zMi1ieXRlcw=="}
