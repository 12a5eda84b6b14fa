"""The plugin as the system sees it: entry point, lazy imports, selection, the runner, the CLI.

Server (where one is used): gcp-storage-emulator behind the recording proxy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import pytest

from provisioner_backend_gcs.credentials import GcpCredentials
from provisioner_backend_gcs.plugin import SPEC
from provisioner_core import EXIT_PERMISSION, MANUAL_PROVISION, AuthContext, ResolvedComponent, Status
from provisioner_core.plugins import PluginRegistry
from provisioner_core.runner import EventFailed, run_event, select
from support.gcs_helpers import backend_for, raw_bucket
from support.gcs_servers import RecordingProxy
from support.servers import ServerProcess


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    return PluginRegistry(environ={}).load()


def _component(url: str, bucket: str, *, backend_type: str = "gcs", enabled: bool = True, **options: object) -> ResolvedComponent:
    return ResolvedComponent(
        stack="dev", name="vpc", terraform_component="vpc", backend_type=backend_type, backend=backend_for(url, bucket),
        provision={"backend": {"enabled": enabled, "project": "test-project", "location": "US", **options}},
    )  # fmt: skip


def test_entry_point_is_registered_in_the_provisioner_group() -> None:
    (entry,) = [ep for ep in metadata.entry_points(group="provisioner") if ep.name == "backend-gcs"]
    assert entry.value == "provisioner_backend_gcs.plugin:plugin"
    assert entry.dist is not None and entry.dist.name == "provisioner-backend-gcs"


def test_registry_loads_the_spec(registry: PluginRegistry) -> None:
    (rp,) = [rp for rp in registry.provisioners() if rp.spec.name == "backend-gcs"]
    assert rp.spec == SPEC
    assert (rp.spec.type, rp.spec.backend_types) == ("backend", ("gcs",))
    assert set(rp.spec.events) == {"before.terraform.init", "manual.provision"}
    assert rp.distribution == "provisioner-backend-gcs"


def test_listing_plugins_imports_no_cloud_sdk() -> None:
    code = (
        "import sys, provisioner_backend_gcs.plugin\n"
        "from provisioner_core.plugins import PluginRegistry\n"
        "PluginRegistry(environ={}).load()\n"
        "heavy = [m for m in sys.modules if m.startswith(('boto3', 'botocore', 'google.cloud', 'google.auth', 'azure'))]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)


def test_selected_only_for_enabled_gcs_components(registry: PluginRegistry) -> None:
    def chosen(component: ResolvedComponent) -> list[str]:
        return [rp.spec.name for rp in select(registry, MANUAL_PROVISION, component, "backend")]

    assert chosen(_component("http://x", "tf-state-a")) == ["backend-gcs"]
    assert "backend-gcs" not in chosen(_component("http://x", "tf-state-a", backend_type="s3"))
    assert chosen(_component("http://x", "tf-state-a", enabled=False)) == []


def test_runner_calls_the_hook_and_attributes_failures(registry: PluginRegistry, proxy: RecordingProxy, bucket_name: str) -> None:
    auth = AuthContext({"gcp": GcpCredentials("anonymous")})
    (outcome,) = run_event(registry, MANUAL_PROVISION, _component(proxy.url, bucket_name), auth, provisioner_type="backend")
    assert (outcome.provisioner, outcome.result.status) == ("backend-gcs", Status.CREATED)

    proxy.fail("GET", r"^/storage/v1/b/", 403)
    with pytest.raises(EventFailed) as info:
        run_event(registry, MANUAL_PROVISION, _component(proxy.url, bucket_name), auth, provisioner_type="backend")
    assert info.value.exit_code == EXIT_PERMISSION
    assert "backend-gcs" in info.value.message and "provisioner-backend-gcs" in info.value.message


# --- the CLI, on a tiny Atmos-style stack tree ------------------------------------------------


def _stack(url: str, bucket: str, **options: object) -> dict:
    return {
        "vars": {"stage": "dev"},
        "components": {"terraform": {"vpc": {
            "backend_type": "gcs",
            "backend": {"gcs": {"bucket": bucket, "prefix": "vpc", "storage_custom_endpoint": f"{url}/storage/v1/"}},
            "provision": {"backend": {"enabled": True, "project": "test-project", "location": "US", **options}},
            "auth": {"providers": {"gcp": {"type": "access-token", "token": "cli-secret-token"}}},
        }}},
    }  # fmt: skip


@pytest.fixture
def cli(stack_tree):  # type: ignore[no-untyped-def]
    from provisioner_core.testing import CliRunner

    return CliRunner(stack_tree.root, PluginRegistry(environ={}))


def test_cli_dry_run_then_create_then_unchanged(stack_tree, cli, proxy: RecordingProxy, gcs_emulator: ServerProcess, bucket_name: str) -> None:  # type: ignore[no-untyped-def]
    stack_tree.stack("dev", _stack(proxy.url, bucket_name, labels={"team": "platform"}))

    planned = json.loads(cli.run(["backend", "vpc", "-s", "dev", "--dry-run", "-o", "json"]).stdout)
    assert proxy.writes() == []
    created = json.loads(cli.run(["backend", "vpc", "-s", "dev", "-o", "json"]).stdout)
    proxy.clear()
    again = cli.run(["backend", "vpc", "-s", "dev", "-o", "json"])

    def result(summary: dict) -> dict:
        return next(r for r in summary["results"] if r["provisioner"] == "backend-gcs")

    assert result(planned)["status"] == "planned" and [a["verb"] for a in result(planned)["actions"]] == ["create"]
    assert result(created)["status"] == "created"
    assert result(json.loads(again.stdout))["status"] == "unchanged"
    assert proxy.writes() == []
    assert raw_bucket(gcs_emulator.url, bucket_name)["labels"]["team"] == "platform"
    assert "cli-secret-token" not in again.output


def test_cli_missing_location_for_a_new_bucket_is_exit_2(stack_tree, cli, proxy: RecordingProxy, bucket_name: str) -> None:  # type: ignore[no-untyped-def]
    stack = _stack(proxy.url, bucket_name)
    del stack["components"]["terraform"]["vpc"]["provision"]["backend"]["location"]
    stack_tree.stack("dev", stack)

    result = cli.run(["backend", "vpc", "-s", "dev"], exit_code=2)

    assert "provision.backend.location" in result.stderr
    assert proxy.writes() == []
