"""AuthContext: the credentials a component's provisioners (and terraform) use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from provisioner_core.auth.credentials import Credentials
from provisioner_core.errors import ConfigError


def _to_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


def _to_tuple(value: Any) -> tuple[str, ...]:
    return tuple(value)


@frozen
class AuthContext:
    """Credentials per ``auth.providers`` name, built by the registered credential providers.

    ``ambient_env``: variables terraform must not inherit (the providers in use name them);
    ``examples``: an auth block per provider name, for the error when one is missing.
    """

    providers: Mapping[str, Credentials] = field(factory=dict, converter=_to_dict)
    ambient_env: tuple[str, ...] = field(default=(), converter=_to_tuple)
    examples: Mapping[str, str] = field(factory=dict, converter=_to_dict, repr=False)

    def get(self, name: str) -> Credentials | None:
        return self.providers.get(name)

    def require(self, name: str) -> Credentials:
        """The credentials for ``name``; a configuration error with the block to add if none."""
        creds = self.providers.get(name)
        if creds is None:
            example = self.examples.get(name) or f"auth:\n  providers:\n    {name}:\n      type: ..."
            raise ConfigError(
                f"no '{name}' credentials configured for this component; provisioners never use ambient credentials",
                hint="Add an auth block to the component (or its stack): " + " / ".join(line.strip() for line in example.splitlines()),
                context={"cloud": name},
            )
        return creds

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction."""
        return tuple(secret for creds in self.providers.values() for secret in creds.secrets())

    def terraform_env(self) -> dict[str, str]:
        """Environment variables that hand these credentials to a terraform process."""
        env: dict[str, str] = {}
        for creds in self.providers.values():
            env.update(creds.terraform_env())
        return env
