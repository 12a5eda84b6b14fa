"""The provision CLI: commands, output formats, errors and exit codes, redaction."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from attrs import field, frozen

from provisioner_core import CredentialProvider, ProvisionerSpec, ProvisionResult, Status, hookimpl

SECRET = "planted-Secret-9f8e7d"


@frozen
class KeyCredentials:
    key_id: str
    secret: str = field(repr=False)

    def fingerprint(self) -> str:
        return self.key_id

    def secrets(self) -> tuple[str, ...]:
        return (self.secret,)

    def terraform_env(self) -> dict[str, str]:
        return {}


class KeysPlugin:
    """A credential provider of the test's own (core knows no cloud)."""

    @staticmethod
    @hookimpl
    def register_credential_providers():
        return (CredentialProvider("keys", "static", lambda s: KeyCredentials(s["access_key_id"], s["secret_access_key"]), required=("access_key_id",)),)


@pytest.fixture
def project(stack_tree, register_plugin):
    register_plugin(KeysPlugin, name="keys")
    stack_tree.stack("catalog/base", {"components": {"terraform": {"base": {"metadata": {"type": "abstract"}, "provision": {"example": {"enabled": True}}}}}})
    stack_tree.stack("dev", {
        "import": ["catalog/base"],
        "vars": {"stage": "dev"},
        "components": {"terraform": {
            "app": {
                "metadata": {"inherits": ["base"]},
                "provision": {"example": {"path": str(stack_tree.root / "out" / "marker.txt")}},
                "auth": {"providers": {"keys": {"type": "static", "access_key_id": "AKIA1", "secret_access_key": SECRET}}},
                "vars": {"db_password": "hunter2-pass"},
            },
            "plain": {},
            "s3thing": {"backend_type": "s3", "provision": {"backend": {"enabled": True}}},
        }},
    })
    return stack_tree


def test_provision_runs_and_is_idempotent(project, provision_cli):
    first = provision_cli.run(["example", "app", "-s", "dev"])
    assert "created" in first.stdout
    assert (project.root / "out" / "marker.txt").read_text() == "provisioned dev/app\n"
    second = provision_cli.run(["example", "app", "-s", "dev", "-o", "json"])
    data = json.loads(second.stdout)
    assert data["ok"] is True and data["results"][0]["status"] == "unchanged"
    assert second.stderr == ""  # -o json: no status lines


def test_dry_run_writes_nothing(project, provision_cli):
    result = provision_cli.run(["example", "app", "-s", "dev", "--dry-run"])
    assert "planned" in result.stdout and "Would make these calls" in result.stdout
    assert not (project.root / "out").exists()


def test_not_enabled_exits_2_with_the_block_to_add(project, provision_cli):
    result = provision_cli.run(["example", "plain", "-s", "dev"], exit_code=2)
    assert "Error: provisioner 'example' is not enabled for component 'plain'" in result.stderr
    assert "provision: {example: {enabled: true}}" in result.stderr
    assert "Traceback" not in result.output


def test_abstract_component_exits_2(project, provision_cli):
    assert "is abstract" in provision_cli.run(["example", "base", "-s", "dev"], exit_code=2).stderr


def test_unknown_type_lists_close_match(project, provision_cli):
    result = provision_cli.run(["exampel", "app", "-s", "dev"], exit_code=2)
    assert "unknown provisioner type 'exampel'; did you mean 'example'?" in result.stderr


def test_backend_type_without_plugin_names_the_distribution(project, provision_cli, register_plugin):
    class Gcs:
        @staticmethod
        @hookimpl
        def register_provisioner():
            return ProvisionerSpec(name="backend-gcs", type="backend", events=("manual.provision",), description="gcs", backend_types=("gcs",))

        @staticmethod
        @hookimpl
        def manual_provision():
            return None

    register_plugin(Gcs)
    result = provision_cli.run(["backend", "s3thing", "-s", "dev"], exit_code=2)
    assert "no installed backend provisioner serves backend_type 's3'" in result.stderr
    assert "pip install provisioner-backend-s3" in result.stderr


def test_plugin_exit_code_and_attribution(project, provision_cli, register_plugin):
    from provisioner_core import ResourceConflict

    class Taken:
        @staticmethod
        @hookimpl
        def register_provisioner():
            return ProvisionerSpec(name="taken", type="taken", events=("manual.provision",), description="always conflicts")

        @staticmethod
        @hookimpl
        def manual_provision():
            raise ResourceConflict("bucket name taken", hint="pick another name", context={"bucket": "x"})

    register_plugin(Taken, distribution="acme-taken")
    project.stack("dev2", {"vars": {"stage": "dev2"}, "components": {"terraform": {"c": {"provision": {"taken": {"enabled": True}}}}}})
    result = provision_cli.run(["taken", "c", "-s", "dev2"], exit_code=4)
    lines = result.stderr.strip().splitlines()
    assert lines[1].startswith("Error: provisioner 'taken' (taken, from acme-taken) failed at manual.provision: bucket name taken")
    assert "Hint: pick another name" in lines
    assert any(line.startswith("Context: ") and "bucket=x" in line for line in lines)


def test_unexpected_error_exit_1_and_debug_traceback(project, provision_cli, register_plugin):
    class Buggy:
        @staticmethod
        @hookimpl
        def register_provisioner():
            return ProvisionerSpec(name="buggy", type="buggy", events=("manual.provision",), description="raises")

        @staticmethod
        @hookimpl
        def manual_provision():
            return {}["missing"]

    register_plugin(Buggy, distribution="acme-buggy")
    project.stack("dev3", {"vars": {"stage": "dev3"}, "components": {"terraform": {"c": {"provision": {"buggy": {"enabled": True}}}}}})
    quiet = provision_cli.run(["buggy", "c", "-s", "dev3"], exit_code=1)
    assert "acme-buggy" in quiet.stderr and "Traceback" not in quiet.stderr
    loud = provision_cli.run(["--debug", "buggy", "c", "-s", "dev3"], exit_code=1)
    assert "Traceback" in loud.stderr


def test_describe_redacts_secrets_in_yaml_and_json(project, provision_cli):
    for fmt in ("yaml", "json"):
        result = provision_cli.run(["describe", "app", "-s", "dev", "-o", fmt])
        assert SECRET not in result.output and "hunter2-pass" not in result.output
        assert "AKIA1" in result.stdout  # key ids are not secrets
    data = json.loads(provision_cli.run(["describe", "app", "-s", "dev", "-o", "json"]).stdout)
    assert data["auth"]["providers"]["keys"]["secret_access_key"] == "***"
    assert data["metadata"]["inherits"] == ["base"]


def test_list_stacks_and_components(project, provision_cli):
    assert provision_cli.run(["list", "stacks"]).stdout.split() == ["dev"]
    rows = json.loads(provision_cli.run(["list", "components", "-s", "dev", "-o", "json"]).stdout)["components"]
    by_name = {r["component"]: r for r in rows}
    assert by_name["app"]["provision"] == ["example"] and by_name["base"]["abstract"] is True


def test_plugins_json_lists_status_and_events(provision_cli):
    data = json.loads(provision_cli.run(["plugins", "-o", "json"]).stdout)
    example = next(p for p in data["plugins"] if p["name"] == "example")
    assert example["status"] == "loaded" and example["provisioners"][0]["events"] == ["before.terraform.init", "manual.provision"]
    assert "before.terraform.init" in data["events"]


def test_usage_errors_exit_2(project, provision_cli):
    assert "Missing option" in provision_cli.run(["describe", "app"], exit_code=2).stderr
    assert "give exactly one -s/--stack" in provision_cli.run(["example", "app"], exit_code=2).stderr


def test_unknown_stack_error_is_one_line_each(project, provision_cli):
    result = provision_cli.run(["example", "app", "-s", "prod"], exit_code=2)
    assert [line.split(":")[0] for line in result.stderr.strip().splitlines()[1:]] == ["Error", "Hint", "Context"]


def test_listing_commands_import_no_cloud_sdk(project):
    """help, plugins, list and describe load every installed plugin but import no cloud SDK (subprocess)."""
    tmp_path = project.root
    code = (
        "import sys\n"
        "from provisioner_core.cli.main import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'google', 'azure'))\n"
        "print('CLOUD', bad, file=sys.stderr)\n"
    )
    for args in (["--help"], ["plugins"], ["plugins", "-o", "json"], ["list", "stacks"], ["list", "components"], ["describe", "app", "-s", "dev"], ["backend", "--help"]):
        run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path)
        assert "CLOUD []" in run.stderr, (args, run.stderr)


def test_explicit_provision_result_shapes(project, provision_cli, register_plugin):
    class Planner:
        @staticmethod
        @hookimpl
        def register_provisioner():
            return ProvisionerSpec(name="planner", type="planner", events=("manual.provision",), description="plans")

        @staticmethod
        @hookimpl
        def manual_provision(dry_run):
            return ProvisionResult(status=Status.PLANNED if dry_run else Status.CREATED, resource="thing")

    register_plugin(Planner)
    project.stack("dev4", {"vars": {"stage": "dev4"}, "components": {"terraform": {"c": {"provision": {"planner": {"enabled": True}}}}}})
    data = json.loads(provision_cli.run(["planner", "c", "-s", "dev4", "--dry-run", "-o", "json"]).stdout)
    assert data["dry_run"] is True and data["results"][0]["status"] == "planned"


def test_an_env_reference_in_a_secret_field_is_warned_about_once_naming_key_and_file(stack_tree, provision_cli):
    shared = {"vars": {"db_password": "${DB_PASSWORD}", "region": "${REGION}"}}
    stack_tree.file("stacks/catalog/db.yaml", {"components": {"terraform": {"db": shared, "db2": shared}}})
    stack_tree.stack("dev", {"import": ["catalog/db"], "vars": {"stage": "dev"}})
    result = provision_cli.run(["list", "components"])
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        "Warning: vars.db_password of dev/db (dev.yaml) refers to DB_PASSWORD as ${...}, which is not expanded: the value is used as written"
    ]  # once for the run, and never for a field that is not a secret
    assert "${DB_PASSWORD}" not in result.output
