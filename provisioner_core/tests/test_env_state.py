"""The target's state location always differs from the source's, for every backend type (mypy found the local case broken)."""

import pytest

from provisioner_core.env.state import separated_value


@pytest.mark.parametrize(
    ("backend_type", "current", "expected"),
    [
        ("local", "state/terraform.tfstate", "state/feature-x.terraform.tfstate"),
        ("local", None, "feature-x.terraform.tfstate"),
        ("gcs", "app", "feature-x/app"),
    ],
)
def test_separated_value(backend_type, current, expected):
    value = separated_value(backend_type, current, "feature-x")
    assert value != (current or "")
    assert value == expected
