"""Option schemas structure strictly: a string is never a list of characters, unions take the first member that fits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from attrs import frozen

from provisioner_core import ConfigError, option
from provisioner_core.schema import structure_options


@frozen
class Paths:
    included: tuple[str, ...] = option((), description="globs")
    excluded: list[str] = option(factory=list, description="globs")
    kinds: frozenset[str] = option(frozenset(), description="kinds")
    names: Sequence[str] = option((), description="names")


@frozen
class Source:
    source: str | dict[str, Any] = option(description="a URL, or Atmos's uri/version mapping")
    depth: int | None = option(None, description="clone depth")


def test_lists_keep_their_type_and_items() -> None:
    parsed = structure_options(Paths, {"included": ["**/*.tf"], "excluded": ["x"], "kinds": ["a", "a"], "names": ["n"]}, "provision.p")
    assert parsed == Paths(("**/*.tf",), ["x"], frozenset({"a"}), ("n",))


@pytest.mark.parametrize("key", ["included", "excluded", "kinds", "names"])
def test_a_string_where_a_list_belongs_is_refused_not_split_into_characters(key: str) -> None:
    with pytest.raises(ConfigError, match=rf"provision\.p\.{key}: must be a list, got str '\*\*/\*\.tf'"):
        structure_options(Paths, {key: "**/*.tf"}, "provision.p")


def test_a_wrong_item_is_named_by_its_index() -> None:
    with pytest.raises(ConfigError, match=r"provision\.p\.included\[1\]: must be a string, got int 3"):
        structure_options(Paths, {"included": ["a", 3]}, "provision.p")


def test_a_union_takes_the_first_member_that_fits() -> None:
    assert structure_options(Source, {"source": "git::https://x"}, "provision.s").source == "git::https://x"
    assert structure_options(Source, {"source": {"uri": "x", "version": "1"}, "depth": 1}, "provision.s") == Source({"uri": "x", "version": "1"}, 1)
    assert structure_options(Source, {"source": "x", "depth": None}, "provision.s").depth is None


def test_a_value_no_member_fits_is_exit_2_naming_the_members() -> None:
    with pytest.raises(ConfigError, match=r"provision\.s\.source: must be str \| dict\[str, Any\], got list") as caught:
        structure_options(Source, {"source": ["x"]}, "provision.s")
    assert caught.value.exit_code == 2
