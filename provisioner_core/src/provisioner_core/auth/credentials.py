"""Per-cloud credentials built from a component's ``auth`` section.

Secret fields are excluded from ``repr`` and listed by ``secrets()`` so every output can
redact them. Cloud SDKs are never imported here.
"""

from __future__ import annotations

import hashlib
from typing import Any

from attrs import field, frozen


def _fingerprint(*parts: str | None) -> str:
    digest = hashlib.sha256("\0".join(p or "" for p in parts).encode()).hexdigest()
    return digest[:16]


@frozen
class AwsCredentials:
    """``method``: ``profile`` (a named profile), ``static`` (keys) or ``env`` (``AWS_*`` read once, explicitly)."""

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
        """Keyword arguments for ``boto3.session.Session``: never the ambient chain."""
        if self.method == "profile":
            return {"profile_name": self.profile}
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_session_token": self.session_token,
        }

    def terraform_env(self) -> dict[str, str]:
        if self.method == "profile":
            return {"AWS_PROFILE": self.profile or ""}
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id or "", "AWS_SECRET_ACCESS_KEY": self.secret_access_key or ""}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


@frozen
class GcpCredentials:
    """``method``: ``service-account-file``, ``access-token`` or ``anonymous`` (emulators)."""

    method: str
    file: str | None = None
    token: str | None = field(default=None, repr=False)
    project: str | None = None

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.token,) if s)

    def fingerprint(self) -> str:
        return _fingerprint(self.method, self.file, self.token)

    def terraform_env(self) -> dict[str, str]:
        if self.method == "service-account-file":
            return {"GOOGLE_APPLICATION_CREDENTIALS": self.file or "", "GOOGLE_CREDENTIALS": ""}
        if self.method == "access-token":
            return {"GOOGLE_OAUTH_ACCESS_TOKEN": self.token or ""}
        return {}


@frozen
class AzureCredentials:
    """``method``: ``connection-string``, ``account-key``, ``service-principal``, ``sas`` or ``azure-cli``."""

    method: str
    connection_string: str | None = field(default=None, repr=False)
    account_name: str | None = None
    account_key: str | None = field(default=None, repr=False)
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    sas_token: str | None = field(default=None, repr=False)
    subscription_id: str | None = None
    blob_endpoint: str | None = None  # for account-key/sas against Azurite or a private endpoint

    def secrets(self) -> tuple[str, ...]:
        found = [s for s in (self.connection_string, self.account_key, self.client_secret, self.sas_token) if s]
        # The key inside a connection string is a secret on its own too.
        for part in (self.connection_string or "").split(";"):
            name, _, value = part.partition("=")
            if name.strip().lower() in {"accountkey", "sharedaccesssignature"} and value:
                found.append(value)
        return tuple(found)

    def fingerprint(self) -> str:
        return _fingerprint(self.method, self.connection_string, self.account_name, self.account_key, self.client_id, self.client_secret, self.sas_token)

    def terraform_env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        if self.subscription_id:
            env["ARM_SUBSCRIPTION_ID"] = self.subscription_id
        if self.method == "service-principal":
            env.update(ARM_TENANT_ID=self.tenant_id or "", ARM_CLIENT_ID=self.client_id or "", ARM_CLIENT_SECRET=self.client_secret or "")
        elif self.method == "account-key":
            env["ARM_ACCESS_KEY"] = self.account_key or ""
        elif self.method == "connection-string":
            key = self.connection_setting("AccountKey")
            sas = self.connection_setting("SharedAccessSignature")
            if key:
                env["ARM_ACCESS_KEY"] = key
            elif sas:
                env["ARM_SAS_TOKEN"] = sas
        elif self.method == "sas":
            env["ARM_SAS_TOKEN"] = self.sas_token or ""
        elif self.method == "azure-cli":
            env["ARM_USE_CLI"] = "true"
        return env

    def connection_setting(self, name: str) -> str | None:
        """One ``Name=value`` setting of the connection string, e.g. ``BlobEndpoint``.

        ``BlobEndpoint`` falls back to ``blob_endpoint`` so account-key and sas credentials can
        reach Azurite or a private endpoint too.
        """
        for part in (self.connection_string or "").split(";"):
            key, _, value = part.partition("=")
            if key.strip().lower() == name.lower():
                return value.strip()
        if name.lower() == "blobendpoint":
            return self.blob_endpoint
        return None
