"""AuthContext: the credentials a component's provisioners (and terraform) use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from provisioner_core.auth.credentials import AwsCredentials, AzureCredentials, GcpCredentials
from provisioner_core.errors import ConfigError

AUTH_EXAMPLES: Mapping[str, str] = {
    "aws": "auth:\n  providers:\n    aws:\n      type: profile\n      profile: dev-admin",
    "gcp": "auth:\n  providers:\n    gcp:\n      type: service-account-file\n      file: /path/to/key.json",
    "azure": "auth:\n  providers:\n    azure:\n      type: service-principal\n      tenant_id: ...\n      client_id: ...\n      client_secret: ...",
}


def _to_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@frozen
class AuthContext:
    """Credentials per cloud (``aws``, ``gcp``, ``azure`` or a plugin's own), from ``auth.providers``."""

    providers: Mapping[str, Any] = field(factory=dict, converter=_to_dict)

    @property
    def aws(self) -> AwsCredentials | None:
        return self.providers.get("aws")

    @property
    def gcp(self) -> GcpCredentials | None:
        return self.providers.get("gcp")

    @property
    def azure(self) -> AzureCredentials | None:
        return self.providers.get("azure")

    def require(self, cloud: str) -> Any:
        """The credentials for ``cloud``; a configuration error with the block to add if none."""
        creds = self.providers.get(cloud)
        if creds is None:
            example = AUTH_EXAMPLES.get(cloud, f"auth:\n  providers:\n    {cloud}:\n      type: ...")
            raise ConfigError(
                f"no '{cloud}' credentials configured for this component; provisioners never use ambient credentials",
                hint="Add an auth block to the component (or its stack): " + example.replace("\n", " / "),
                context={"cloud": cloud},
            )
        return creds

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction."""
        values: list[str] = []
        for creds in self.providers.values():
            secrets = getattr(creds, "secrets", None)
            if callable(secrets):
                values.extend(secrets())
        return tuple(values)

    def terraform_env(self) -> dict[str, str]:
        """Environment variables that hand these credentials to a terraform process."""
        env: dict[str, str] = {}
        for creds in self.providers.values():
            to_env = getattr(creds, "terraform_env", None)
            if callable(to_env):
                env.update(to_env())
        return env
