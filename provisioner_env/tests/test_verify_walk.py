"""env's walks over a config tree (verify's strings, placeholders): iterative, so no depth crashes them."""

from __future__ import annotations

from provisioner_env.placeholders import find_placeholders
from provisioner_env.verify import _strings


def test_the_string_walk_survives_any_depth_without_recursion() -> None:
    deep: dict = {"password": "s3cr3t-value", "note": "REQUIRED: a value"}
    for _ in range(5000):
        deep = {"k": [deep]}

    found = _strings(deep)

    assert sorted(value for _, value in found) == ["REQUIRED: a value", "s3cr3t-value"]
    assert found[0][0].startswith("k[0].k[0]")
    assert find_placeholders(deep) == ["k[0]" + ".k[0]" * 4999 + ".note"]
