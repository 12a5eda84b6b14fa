"""Built-in auth providers: the ``resolve_credentials`` hook for aws, gcp and azure."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from provisioner_core.auth.credentials import AwsCredentials, AzureCredentials, GcpCredentials
from provisioner_core.errors import ConfigError
from provisioner_core.hookspecs import hookimpl

# Each cloud's provider types and the keys each type needs (the PRD's aws-sso maps to profile).
REQUIRED_KEYS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "aws": {"profile": ("profile",), "aws-sso": ("identity",), "static": ("access_key_id", "secret_access_key"), "env": ()},
    "gcp": {"service-account-file": ("file",), "access-token": ("token",), "anonymous": ()},
    "azure": {
        "connection-string": ("connection_string",),
        "account-key": ("account_name", "account_key"),
        "service-principal": ("tenant_id", "client_id", "client_secret"),
        "sas": ("account_name", "sas_token"),
        "azure-cli": (),
    },
}


def _check(cloud: str, provider_type: str, settings: Mapping[str, Any]) -> None:
    missing = [k for k in REQUIRED_KEYS[cloud][provider_type] if not settings.get(k)]
    if missing:
        raise ConfigError(
            f"auth.providers.{cloud} (type {provider_type}) is missing {', '.join(missing)}",
            hint=f"Add {', '.join(f'`{k}: ...`' for k in missing)} under auth.providers.{cloud}.",
        )
    for key, value in settings.items():
        if key != "type" and value is not None and not isinstance(value, (str, int)):
            raise ConfigError(f"auth.providers.{cloud}.{key} must be a string, got {type(value).__name__}", hint=f"Write `{key}: \"...\"` under auth.providers.{cloud}.")


def _s(settings: Mapping[str, Any], key: str) -> str | None:
    value = settings.get(key)
    return None if value is None else str(value)


@hookimpl(trylast=True)
def resolve_credentials(cloud: str, provider_type: str, settings: Mapping[str, Any]) -> Any:
    if cloud not in REQUIRED_KEYS or provider_type not in REQUIRED_KEYS[cloud]:
        return None
    _check(cloud, provider_type, settings)
    if cloud == "aws":
        if provider_type in ("profile", "aws-sso"):
            return AwsCredentials("profile", profile=_s(settings, "profile") or _s(settings, "identity"), region=_s(settings, "region"))
        if provider_type == "static":
            return AwsCredentials(
                "static",
                access_key_id=_s(settings, "access_key_id"),
                secret_access_key=_s(settings, "secret_access_key"),
                session_token=_s(settings, "session_token"),
                region=_s(settings, "region"),
            )
        # `env` is an explicit opt-in to the AWS_* variables, read once here.
        if not os.environ.get("AWS_ACCESS_KEY_ID") and not os.environ.get("AWS_PROFILE"):
            raise ConfigError(
                "auth.providers.aws type env is set, but neither AWS_ACCESS_KEY_ID nor AWS_PROFILE is in the environment",
                hint="Export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or use type: profile.",
            )
        if os.environ.get("AWS_ACCESS_KEY_ID"):
            return AwsCredentials(
                "static",
                access_key_id=os.environ.get("AWS_ACCESS_KEY_ID"),
                secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
                session_token=os.environ.get("AWS_SESSION_TOKEN"),
                region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
            )
        return AwsCredentials("profile", profile=os.environ["AWS_PROFILE"])
    if cloud == "gcp":
        return GcpCredentials(
            provider_type, file=_s(settings, "file"), token=_s(settings, "token"), project=_s(settings, "project")
        )
    return AzureCredentials(
        provider_type,
        connection_string=_s(settings, "connection_string"),
        account_name=_s(settings, "account_name"),
        account_key=_s(settings, "account_key"),
        tenant_id=_s(settings, "tenant_id"),
        client_id=_s(settings, "client_id"),
        client_secret=_s(settings, "client_secret"),
        sas_token=_s(settings, "sas_token"),
        subscription_id=_s(settings, "subscription_id"),
        blob_endpoint=_s(settings, "blob_endpoint"),
    )
