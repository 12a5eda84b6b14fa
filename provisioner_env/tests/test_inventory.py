"""count/for_each of resource blocks, evaluated only where the expression is a constant or a simple use of a var."""

from __future__ import annotations

import pytest

from provisioner_env.inventory import CodeResource, count_of

VARS = {"n": 3, "on": True, "off": False, "names": ["a", "b", "a"], "dbs": {"x": 1, "y": 2}, "tier": "prod"}


@pytest.mark.parametrize(
    ("count", "for_each", "instances"),
    [
        ("2", None, 2), ("var.n", None, 3), ("length(var.names)", None, 2), ("var.on ? 2 : 0", None, 2), ("!var.on ? 2 : 0", None, 0),
        ("var.off ? 1 : 0", None, 0), ('var.tier == "prod" ? 3 : 1', None, 3), ('var.tier != "prod" ? 3 : 1', None, 1),
        ("var.missing", None, None), ("max(var.n, 1)", None, None), ("var.default_two", None, 2),
        (None, "var.dbs", 2), (None, 'toset(["a", "b", "c"])', 3), (None, "toset(var.names)", 2), (None, '{ a = 1 }', 1),
        (None, "{ for k, v in var.dbs : k => v }", None), (None, None, 1),
    ],
)  # fmt: skip
def test_count_of(count, for_each, instances):
    found = count_of(CodeResource("aws_db_instance", "db", "main.tf", 1, count, for_each), VARS, {"default_two": 2}, "dev.tfvars")
    assert found.instances == instances, found.how
