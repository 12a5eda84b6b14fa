"""Local validation of Azure names, so a bad name fails fast (exit 2) naming the rule it breaks.

The rules are Azure's documented naming rules; checking them here saves a round trip and
gives a clearer message than the service's ``InvalidResourceName``/``OutOfRangeInput``.
"""

from __future__ import annotations

import re

from provisioner_core import ConfigError

_ACCOUNT_CHARS = re.compile(r"^[a-z0-9]+$")
_CONTAINER_CHARS = re.compile(r"^[a-z0-9-]+$")
_RESOURCE_GROUP_CHARS = re.compile(r"^[-\w.()]+$")  # \w is Unicode letters/digits and underscore, as ARM allows
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TAG_FORBIDDEN = set('<>%&\\?/')

ACCOUNT_RULE = "storage account names are 3-24 characters of lowercase letters and digits only"
CONTAINER_RULE = (
    "container names are 3-63 characters of lowercase letters, digits and hyphens, start with a letter or digit, "
    "and have no two hyphens in a row and no trailing hyphen"
)


def _invalid(what: str, key: str, value: str, rule: str, problem: str) -> ConfigError:
    return ConfigError(
        f"{key} {value!r} is not a valid {what}: {problem}",
        hint=f"Azure's rule: {rule}.",
        context={"key": key},
    )


def check_account_name(name: str, key: str = "backend.storage_account_name") -> str:
    """A storage account name: 3-24 lowercase letters and digits (it becomes a DNS label)."""
    if not 3 <= len(name) <= 24:
        raise _invalid("storage account name", key, name, ACCOUNT_RULE, f"it is {len(name)} characters long")
    if not _ACCOUNT_CHARS.match(name):
        bad = sorted({c for c in name if not ("a" <= c <= "z" or "0" <= c <= "9")})
        raise _invalid("storage account name", key, name, ACCOUNT_RULE, f"it contains {''.join(bad)!r}")
    return name


def check_container_name(name: str, key: str = "backend.container_name") -> str:
    """A blob container name (Azure: 3-63 chars, lowercase/digits/hyphen, no ``--``, alnum at both ends)."""
    if not 3 <= len(name) <= 63:
        raise _invalid("container name", key, name, CONTAINER_RULE, f"it is {len(name)} characters long")
    if not _CONTAINER_CHARS.match(name):
        bad = sorted({c for c in name if not ("a" <= c <= "z" or "0" <= c <= "9" or c == "-")})
        raise _invalid("container name", key, name, CONTAINER_RULE, f"it contains {''.join(bad)!r}")
    if name[0] == "-":
        raise _invalid("container name", key, name, CONTAINER_RULE, "it starts with a hyphen")
    if name[-1] == "-":
        raise _invalid("container name", key, name, CONTAINER_RULE, "it ends with a hyphen")
    if "--" in name:
        raise _invalid("container name", key, name, CONTAINER_RULE, "it has two hyphens in a row")
    return name


def check_resource_group_name(name: str, key: str = "backend.resource_group_name") -> str:
    """A resource group name: 1-90 chars of letters, digits, ``_-.()``, not ending with a period."""
    rule = "resource group names are 1-90 characters of letters, digits, underscores, hyphens, periods and parentheses, not ending with a period"
    if not 1 <= len(name) <= 90:
        raise _invalid("resource group name", key, name, rule, f"it is {len(name)} characters long")
    if not _RESOURCE_GROUP_CHARS.match(name):
        raise _invalid("resource group name", key, name, rule, "it contains a character that is not allowed")
    if name.endswith("."):
        raise _invalid("resource group name", key, name, rule, "it ends with a period")
    return name


def check_guid(value: str, key: str) -> str:
    """A subscription or tenant id: a GUID."""
    if not _GUID.match(value):
        raise _invalid("GUID", key, value, "subscription ids are GUIDs like 00000000-0000-0000-0000-000000000000", "it is not a GUID")
    return value


def check_blob_name(name: str, key: str = "backend.key") -> str:
    """The state blob's name: 1-1024 characters."""
    if not 1 <= len(name) <= 1024:
        raise _invalid("blob name", key, name[:40], "blob names are 1-1024 characters", f"it is {len(name)} characters long")
    return name


def check_metadata_key(name: str, key: str) -> str:
    """Container metadata names must be C# identifiers (the service answers InvalidMetadata otherwise)."""
    if not _IDENTIFIER.match(name):
        raise _invalid(
            "metadata name",
            key,
            name,
            "metadata names are C# identifiers: letters, digits and underscores, not starting with a digit (no hyphens)",
            "it is not an identifier",
        )
    return name


def check_tag(name: str, value: str, key: str) -> None:
    """An ARM tag: name 1-512 characters without ``<>%&\\?/``, value up to 256 characters."""
    rule = "tag names are 1-512 characters without < > % & \\ ? /, and tag values are at most 256 characters"
    if not 1 <= len(name) <= 512:
        raise _invalid("tag name", key, name, rule, f"it is {len(name)} characters long")
    bad = sorted(_TAG_FORBIDDEN & set(name))
    if bad:
        raise _invalid("tag name", key, name, rule, f"it contains {''.join(bad)!r}")
    if len(value) > 256:
        raise _invalid("tag value", key, name, rule, f"its value is {len(value)} characters long")
