"""Tests of the hello provisioner with provisioner-core's pytest kit (fixtures load automatically)."""

import json

from provisioner_hello import plugin


def test_hello_is_listed(provision_cli, register_plugin):
    register_plugin(plugin.plugin, name="hello")
    data = json.loads(provision_cli.run(["plugins", "-o", "json"]).stdout)
    assert any(p["name"] == "hello" and p["status"] == "loaded" for p in data["plugins"])


def test_hello_writes_then_is_idempotent(stack_tree, provision_cli, register_plugin, tmp_path):
    register_plugin(plugin.plugin, name="hello")
    stack_tree.stack("dev", {
        "vars": {"stage": "dev"},
        "components": {"terraform": {"app": {"provision": {"hello": {"enabled": True, "folder": str(tmp_path / "out")}}}}},
    })
    first = json.loads(provision_cli.run(["hello", "app", "-s", "dev", "-o", "json"]).stdout)
    assert first["results"][0]["status"] == "created"
    assert (tmp_path / "out" / "dev-app.txt").read_text() == "Hello, app!\n"
    second = json.loads(provision_cli.run(["hello", "app", "-s", "dev", "-o", "json"]).stdout)
    assert second["results"][0]["status"] == "unchanged"


def test_missing_folder_is_exit_2(stack_tree, provision_cli, register_plugin):
    register_plugin(plugin.plugin, name="hello")
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": {"provision": {"hello": {"enabled": True}}}}}})
    result = provision_cli.run(["hello", "app", "-s", "dev"], exit_code=2)
    assert "provision.hello.folder is required" in result.stderr
