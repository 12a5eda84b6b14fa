"""Tests of the hello provisioner with provisioner-core's pytest kit (see tests/conftest.py)."""

import json

from provisioner_hello import plugin

from provisioner_core import MANUAL_PROVISION, Status


def test_hello_is_listed(provisioner_cli, provisioner_register_plugin):
    provisioner_register_plugin(plugin.plugin, name="hello")
    data = json.loads(provisioner_cli.run(["plugins", "-o", "json"]).stdout)
    assert any(p["name"] == "hello" and p["status"] == "loaded" for p in data["plugins"])


def test_hello_writes_then_is_idempotent(provisioner_stack_tree, provisioner_cli, provisioner_register_plugin):
    provisioner_register_plugin(plugin.plugin, name="hello")
    provisioner_stack_tree.stack("dev", {
        "vars": {"stage": "dev"},
        "components": {"terraform": {"app": {"provision": {"hello": {"enabled": True, "folder": "out"}}}}},
    })
    first = json.loads(provisioner_cli.run(["hello", "app", "-s", "dev", "-o", "json"]).stdout)
    assert first["results"][0]["status"] == "created"
    assert (provisioner_stack_tree.root / "out" / "dev-app.txt").read_text() == "Hello, app!\n"  # under the project root
    assert first["results"][0]["messages"] == [{"level": "info", "text": "greeting for dev/app: Hello, app!"}]
    second = json.loads(provisioner_cli.run(["hello", "app", "-s", "dev", "-o", "json"]).stdout)
    assert second["results"][0]["status"] == "unchanged"


def test_dry_run_without_the_cli(provisioner_stack_tree, provisioner_register_plugin, provisioner_run):
    provisioner_register_plugin(plugin.plugin, name="hello")
    provisioner_stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": {"provision": {"hello": {"enabled": True, "folder": "out"}}}}}})
    [outcome] = provisioner_run(MANUAL_PROVISION, "dev", "app", dry_run=True)
    assert outcome.result.status is Status.PLANNED and not (provisioner_stack_tree.root / "out").exists()


def test_bad_options_are_exit_2_with_every_problem(provisioner_stack_tree, provisioner_cli, provisioner_register_plugin):
    provisioner_register_plugin(plugin.plugin, name="hello")
    provisioner_stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": {"provision": {"hello": {"enabled": True, "greting": "Hi"}}}}}})
    result = provisioner_cli.run(["hello", "app", "-s", "dev"], exit_code=2)
    assert "provision.hello.folder: is required" in result.stderr
    assert "unknown option 'greting' (did you mean 'greeting'?)" in result.stderr
