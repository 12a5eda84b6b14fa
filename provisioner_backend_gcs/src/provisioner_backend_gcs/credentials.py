"""GCP credentials (``auth.providers.gcp``), registered with core as credential providers.

Types: ``service-account-file``, ``access-token``, ``anonymous`` (emulators). No SDK import here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from provisioner_core import CredentialProvider

GCP = "gcp"
EXAMPLE = "auth:\n  providers:\n    gcp:\n      type: service-account-file\n      file: /path/to/key.json"
# What terraform must not inherit from the shell once these credentials are handed to it.
AMBIENT_ENV = ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CREDENTIALS", "GOOGLE_OAUTH_ACCESS_TOKEN", "GOOGLE_BACKEND_CREDENTIALS", "GOOGLE_IMPERSONATE_SERVICE_ACCOUNT")


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
        return hashlib.sha256("\0".join(p or "" for p in (self.method, self.file, self.token)).encode()).hexdigest()[:16]

    def terraform_env(self) -> dict[str, str]:
        if self.method == "service-account-file":
            return {"GOOGLE_APPLICATION_CREDENTIALS": self.file or "", "GOOGLE_CREDENTIALS": ""}
        if self.method == "access-token":
            return {"GOOGLE_OAUTH_ACCESS_TOKEN": self.token or ""}
        return {}


def _builder(method: str) -> Any:
    def build(settings: Mapping[str, Any]) -> GcpCredentials:
        get = lambda key: None if settings.get(key) is None else str(settings[key])  # noqa: E731 - a short local reader
        return GcpCredentials(method, file=get("file"), token=get("token"), project=get("project"))

    return build


CREDENTIAL_PROVIDERS: tuple[CredentialProvider, ...] = tuple(
    CredentialProvider(GCP, method, _builder(method), required=required, description=description, example=EXAMPLE, ambient_env=AMBIENT_ENV)
    for method, required, description in (
        ("service-account-file", ("file",), "a service account JSON key file"),
        ("access-token", ("token",), "an OAuth access token"),
        ("anonymous", (), "no credentials (emulators)"),
    )
)
