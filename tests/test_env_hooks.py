"""The environment lifecycle hooks: called with the plan/results, all implementations run, failures name the plugin."""

from __future__ import annotations

import pytest

from provisioner_core import hookimpl
from provisioner_core.testing import StackTree

STACK = ("vars: {stage: dev}\nbackend_type: s3\nbackend: {s3: {bucket: acme-dev-tfstate, key: app.tfstate}}\n"
         "components: {terraform: {app: {vars: {name: app-dev, api_token: dev-token-1234}}}}\n")


@pytest.fixture
def project(stack_tree: StackTree) -> StackTree:
    stack_tree.config["environments"] = {"secrets": {"yaml": "placeholder"}}  # placeholders are what before_env_create is handed
    stack_tree.write_config()
    stack_tree.component("app")
    stack_tree.file("stacks/dev.yaml", STACK)
    return stack_tree


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[str, dict]] = []

    @hookimpl
    def before_env_create(self, plan, config):
        assert not (config.root / "stacks" / "feature-x.yaml").exists(), "called before any write"
        self.calls.append(("before_env_create", {"target": plan.target, "placeholders": [p.key for p in plan.placeholders]}))

    @hookimpl
    def after_env_create(self, plan, config, written, outcomes):
        assert (config.root / "stacks" / "feature-x.yaml").exists()
        self.calls.append(("after_env_create", {"written": list(written), "outcomes": list(outcomes)}))

    @hookimpl
    def before_env_destroy(self, target, files, components):
        self.calls.append(("before_env_destroy", {"target": target, "files": list(files), "components": list(components)}))

    @hookimpl
    def after_env_destroy(self, target, removed, leftovers):
        self.calls.append(("after_env_destroy", {"removed": list(removed), "leftovers": len(leftovers)}))


def test_hooks_are_called_in_order_and_all_implementations_run(project, provision_cli, register_plugin):
    first, second = Recorder("first"), Recorder("second")
    register_plugin(first, name="first")
    register_plugin(second, name="second")
    provision_cli.run(["env", "create", "feature-x", "--dry-run"])
    assert first.calls == [] and second.calls == []  # never for a dry run
    provision_cli.run(["env", "create", "feature-x"])
    for recorder in (first, second):
        assert recorder.calls == [
            ("before_env_create", {"target": "feature-x", "placeholders": ["api_token"]}),
            ("after_env_create", {"written": ["stacks/feature-x.yaml"], "outcomes": []}),
        ]
    # Destroy: the component has no state backend provisioner, so terraform would run; remove the
    # component first so this test needs no terraform (destroy with real terraform is in the e2e tests).
    (project.root / "stacks" / "feature-x.yaml").write_text((project.root / "stacks" / "feature-x.yaml").read_text().replace("app: {", "app_off: {metadata: {type: abstract}, "))
    provision_cli.run(["env", "destroy", "feature-x"], exit_code=2)
    assert len(first.calls) == 2  # without --force: nothing, not even the hooks
    provision_cli.run(["env", "destroy", "feature-x", "--force"])
    assert first.calls[2:] == [
        ("before_env_destroy", {"target": "feature-x", "files": ["stacks/feature-x.yaml"], "components": []}),
        ("after_env_destroy", {"removed": ["stacks/feature-x.yaml"], "leftovers": 0}),
    ]
    assert second.calls == first.calls


def test_a_failing_before_hook_stops_create_and_names_the_plugin(project, provision_cli, register_plugin):
    class Tickets:
        @hookimpl
        def before_env_create(self, plan):
            raise RuntimeError("ticket system unreachable")

    register_plugin(Tickets(), name="tickets", distribution="acme-tickets")
    result = provision_cli.run(["env", "create", "feature-x"], exit_code=1)
    assert "Error: plugin 'tickets' (from acme-tickets) failed in before_env_create: RuntimeError: ticket system unreachable" in result.stderr
    assert "please report it to the plugin's authors" in result.stderr
    assert not (project.root / "stacks" / "feature-x.yaml").exists()
    assert not list(project.root.glob(".provision-env.*.lock"))  # the lock is released


def test_a_provisioner_error_in_a_hook_keeps_its_exit_code(project, provision_cli, register_plugin):
    from provisioner_core import ConfigError

    class Secrets:
        @hookimpl
        def before_env_destroy(self, target):
            raise ConfigError(f"{target} still has open secrets", hint="Revoke them first.")

    register_plugin(Secrets(), name="vault-sync")
    provision_cli.run(["env", "create", "feature-x"])
    result = provision_cli.run(["env", "destroy", "feature-x", "--force"], exit_code=2)
    assert "plugin 'vault-sync' (from test-plugin) failed in before_env_destroy: feature-x still has open secrets" in result.stderr
    assert "Hint: Revoke them first." in result.stderr
    assert (project.root / "stacks" / "feature-x.yaml").exists(), "nothing destroyed or removed"


def test_the_failing_plugin_is_named_among_several(project, provision_cli, register_plugin):
    class Quiet:
        @hookimpl
        def before_env_create(self, plan):
            return None

    class Broken:
        @hookimpl
        def before_env_create(self, plan):
            def nested():
                raise KeyError("missing field")
            nested()

    class First:
        @hookimpl(tryfirst=True)
        def before_env_create(self, plan):
            return None

    register_plugin(Quiet(), name="quiet", distribution="dist-quiet")
    register_plugin(Broken(), name="broken", distribution="dist-broken")
    register_plugin(First(), name="first", distribution="dist-first")
    result = provision_cli.run(["env", "create", "feature-x"], exit_code=1)
    assert "plugin 'broken' (from dist-broken) failed in before_env_create: KeyError: 'missing field'" in result.stderr
