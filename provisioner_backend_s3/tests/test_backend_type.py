"""The ``s3`` backend type this distribution registers: Atmos's defaults, state objects, reading a state."""

from __future__ import annotations

import json

import attrs
import pytest

from provisioner_backend_s3.backend_type import S3_BACKEND, read_state, state_object
from provisioner_core import ClientCache, PluginRegistry, StackRepository, load_project_config
from support.s3_helpers import aws_auth, component


def repo(tree) -> StackRepository:  # type: ignore[no-untyped-def]
    registry = PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-s3"})
    return StackRepository(load_project_config(None, tree.root), backend_types=registry.backend_types())


def test_the_plugin_registers_the_type():
    assert PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-s3"}).backend_types()["s3"] is S3_BACKEND


def test_workspace_key_prefix_defaults_follow_atmos(stack_tree):  # type: ignore[no-untyped-def]
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "backend_type": "s3", "backend": {"s3": {"bucket": "b", "key": "terraform.tfstate"}},
                             "components": {"terraform": {"vpc": {}, "vpc-2": {"metadata": {"component": "vpc"}},
                                                          "named": {"metadata": {"name": "net", "component": "vpc"}},
                                                          "own": {"backend": {"s3": {"workspace_key_prefix": "mine"}}}, "net/eks": {}}}})  # fmt: skip
    r = repo(stack_tree)
    assert [r.component("dev", n).backend["workspace_key_prefix"] for n in ("vpc", "vpc-2", "named", "own", "net/eks")] == ["vpc", "vpc", "net", "mine", "net-eks"]


@pytest.mark.parametrize(
    ("backend", "workspace", "key"),
    [
        ({"key": "terraform.tfstate", "workspace_key_prefix": "vpc"}, "dev", "vpc/dev/terraform.tfstate"),
        ({"key": "terraform.tfstate"}, "dev", "env:/dev/terraform.tfstate"),
        ({"key": "terraform.tfstate", "workspace_key_prefix": "vpc"}, "default", "terraform.tfstate"),
    ],
)
def test_state_objects_are_terraforms(backend, workspace, key):  # type: ignore[no-untyped-def]
    assert state_object(backend, workspace) == key


def test_read_state_reads_the_workspace_object_or_none(admin, bucket, backend_for):  # type: ignore[no-untyped-def]
    admin().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    section = {**backend_for(bucket), "key": "terraform.tfstate", "workspace_key_prefix": "vpc"}
    dev = attrs.evolve(component(section), workspace="dev")
    assert read_state(dev, aws_auth(), ClientCache()) is None
    admin().put_object(Bucket=bucket, Key="vpc/dev/terraform.tfstate", Body=json.dumps({"serial": 3}).encode())
    assert json.loads(read_state(dev, aws_auth(), ClientCache()) or b"") == {"serial": 3}


def test_keys_written_in_the_backend_section_go_to_terraforms_variables_not_the_file():
    from provisioner_core import backend_config
    from provisioner_core.terraform.files import backend_secret_env

    app = component({"bucket": "b", "key": "k", "secret_key": "S3CRET-value", "access_key": "AKIA", "token": "tok-1234"})
    assert backend_config(app, {"s3": S3_BACKEND})["terraform"] == {"backend": {"s3": {"bucket": "b", "key": "k"}}}
    assert backend_secret_env(app, {"s3": S3_BACKEND}) == {"AWS_SECRET_ACCESS_KEY": "S3CRET-value", "AWS_ACCESS_KEY_ID": "AKIA", "AWS_SESSION_TOKEN": "tok-1234"}
