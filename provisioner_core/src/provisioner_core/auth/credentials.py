"""Credentials as plugins register them: a typed value protocol and the provider that builds it.

Core knows no cloud. A distribution that needs credentials (a backend plugin, say) registers
one :class:`CredentialProvider` per ``auth.providers.<name>.type`` it understands; the
values it builds satisfy the :class:`Credentials` protocol, which is all core ever uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import attrs
from attrs import field, frozen

from provisioner_core.errors import ConfigError


@runtime_checkable
class Credentials(Protocol):
    """What core needs from a credentials value (keep secrets out of ``repr``)."""

    def fingerprint(self) -> str:
        """A stable identity without secrets, for cache keys (e.g. a short hash)."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, so every output can mask it."""
        ...

    def terraform_env(self) -> Mapping[str, str]:
        """The environment variables that hand these credentials to a terraform process."""
        ...


_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def _name(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"{attribute.name} must match [a-z][a-z0-9_-]*, got {value!r}")


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(value)


@frozen
class CredentialProvider:
    """Builds credentials for ``auth.providers.<name>`` with ``type: <type>``.

    ``required`` settings are checked by core before ``build`` runs (exit 2 naming the
    missing ones); ``example`` is an auth block shown when a component lacks credentials;
    ``ambient_env`` lists the variables terraform must not inherit when these are used.
    """

    name: str = field(validator=_name)  # the key under auth.providers, e.g. a cloud's name
    type: str = field(validator=_name)  # the `type:` value
    build: Callable[[Mapping[str, Any]], Credentials] = field(repr=False)
    required: tuple[str, ...] = field(default=(), converter=_tuple)
    description: str = ""
    example: str = ""
    ambient_env: tuple[str, ...] = field(default=(), converter=_tuple)

    def create(self, settings: Mapping[str, Any]) -> Credentials:
        """Check the settings, build, and check that the result is a Credentials value."""
        where = f"auth.providers.{self.name}"
        missing = [key for key in self.required if not settings.get(key)]
        if missing:
            raise ConfigError(
                f"{where} (type {self.type}) is missing {', '.join(missing)}",
                hint=f"Add {', '.join(f'`{k}: ...`' for k in missing)} under {where}.",
            )
        for key, value in settings.items():
            if key != "type" and value is not None and not isinstance(value, (str, int, bool, Mapping, list)):
                raise ConfigError(f"{where}.{key} has an unsupported value of type {type(value).__name__}", hint=f'Write `{key}: "..."` under {where}.')
        built = self.build(settings)
        if not isinstance(built, Credentials):
            raise TypeError(f"credential provider {self.name}/{self.type} built {type(built).__name__}, which lacks fingerprint(), secrets() or terraform_env()")
        return built
