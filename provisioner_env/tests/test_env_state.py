"""The target's state setting always differs from the source's, for every kind of setting (mypy found the local case broken)."""

import pytest

from provisioner_env.state import separated_value


@pytest.mark.parametrize(
    ("setting", "current", "expected"),
    [
        ("path", "state/terraform.tfstate", "state/feature-x.terraform.tfstate"),
        ("path", None, "feature-x.terraform.tfstate"),
        ("prefix", "app", "feature-x/app"),
        ("prefix", None, "feature-x"),
        ("key", "app/terraform.tfstate", "feature-x/app/terraform.tfstate"),
        ("key", None, "feature-x/terraform.tfstate"),
    ],
)
def test_separated_value(setting, current, expected):
    value = separated_value(setting, current, "feature-x")
    assert value != (current or "")
    assert value == expected
