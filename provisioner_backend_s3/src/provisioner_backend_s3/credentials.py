"""AWS credentials (``auth.providers.aws``), registered with core as credential providers.

Types: ``profile`` (a named profile), ``aws-sso`` (its ``identity`` is a profile name),
``static`` (keys), ``env`` (an explicit opt-in to ``AWS_*``, read once). No SDK import here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from provisioner_core import ConfigError, CredentialProvider

AWS = "aws"
EXAMPLE = "auth:\n  providers:\n    aws:\n      type: profile\n      profile: dev-admin"
# What terraform must not inherit from the shell once these credentials are handed to it.
AMBIENT_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def _fingerprint(*parts: str | None) -> str:
    return hashlib.sha256("\0".join(p or "" for p in parts).encode()).hexdigest()[:16]


@frozen
class AwsCredentials:
    """``method``: ``profile`` (a named profile) or ``static`` (keys)."""

    method: str
    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.secret_access_key, self.session_token) if s)

    def fingerprint(self) -> str:
        """A stable, non-secret identity for cache keys."""
        return _fingerprint(self.method, self.profile, self.access_key_id, self.secret_access_key, self.session_token)

    def session_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for a botocore session: never the ambient chain."""
        if self.method == "profile":
            return {"profile_name": self.profile}
        return {"aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key, "aws_session_token": self.session_token}

    def terraform_env(self) -> dict[str, str]:
        if self.method == "profile":
            return {"AWS_PROFILE": self.profile or ""}
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id or "", "AWS_SECRET_ACCESS_KEY": self.secret_access_key or ""}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


def _s(settings: Mapping[str, Any], key: str) -> str | None:
    value = settings.get(key)
    return None if value is None else str(value)


def _profile(settings: Mapping[str, Any]) -> AwsCredentials:
    return AwsCredentials("profile", profile=_s(settings, "profile") or _s(settings, "identity"), region=_s(settings, "region"))


def _static(settings: Mapping[str, Any]) -> AwsCredentials:
    return AwsCredentials(
        "static",
        access_key_id=_s(settings, "access_key_id"),
        secret_access_key=_s(settings, "secret_access_key"),
        session_token=_s(settings, "session_token"),
        region=_s(settings, "region"),
    )


def _from_environment(settings: Mapping[str, Any]) -> AwsCredentials:
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


def _provider(provider_type: str, build: Any, required: tuple[str, ...], description: str) -> CredentialProvider:
    return CredentialProvider(AWS, provider_type, build, required=required, description=description, example=EXAMPLE, ambient_env=AMBIENT_ENV)


CREDENTIAL_PROVIDERS: tuple[CredentialProvider, ...] = (
    _provider("profile", _profile, ("profile",), "a named AWS profile"),
    _provider("aws-sso", _profile, ("identity",), "an AWS SSO identity (its profile name)"),
    _provider("static", _static, ("access_key_id", "secret_access_key"), "access keys (and a session token)"),
    _provider("env", _from_environment, (), "an explicit opt-in to AWS_ACCESS_KEY_ID/AWS_PROFILE, read once"),
)
