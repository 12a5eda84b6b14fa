"""What core must know about ``backend_type: gcs``, registered as a :class:`BackendType`.

terraform's gcs backend keeps a workspace's state at ``<prefix>/<workspace>.tfstate`` (the
default workspace included); Atmos fills ``prefix`` from the component's name.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, MutableMapping
from typing import Any

from provisioner_core import AuthContext, BackendType, ClientCache, DefaultsContext, NameRule, ResolvedComponent


def _defaults(backend: MutableMapping[str, Any], ctx: DefaultsContext) -> None:
    if not isinstance(backend.get("prefix"), str) or not backend["prefix"]:
        backend["prefix"] = ctx.prefix


def state_object(backend: Mapping[str, Any], workspace: str) -> str:
    # terraform: path.Join(prefix, workspace + ".tfstate").
    return posixpath.normpath(posixpath.join(str(backend.get("prefix") or ""), f"{workspace}.tfstate")).lstrip("/")


def read_state(component: ResolvedComponent, auth: AuthContext, clients: ClientCache) -> bytes | None:
    """The component's state object, read with the AuthContext's credentials (None: no object)."""
    from provisioner_backend_gcs.provision import read_object

    return read_object(component.backend, auth, state_object(component.backend, component.workspace), clients)


def auth_from_settings(backend: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``backend.gcs``'s own credentials as a ``gcp`` provider: an access token, else a key file's path.

    ``credentials`` holding the key's JSON itself (not a path) is left to terraform: the
    provisioner's providers read key files only.
    """
    token = backend.get("access_token")
    if isinstance(token, str) and token:
        return {"gcp": {"type": "access-token", "token": token}}
    credentials = backend.get("credentials")
    if isinstance(credentials, str) and credentials and not credentials.lstrip().startswith("{"):
        return {"gcp": {"type": "service-account-file", "file": credentials}}
    return {}


GCS_BACKEND = BackendType(
    "gcs",
    scheme="gs://",
    address_keys=("bucket",),
    identity_keys=("bucket", "storage_custom_endpoint"),
    location_keys=("prefix",),
    state_object=state_object,
    apply_defaults=_defaults,
    # Credentials written in the backend section reach terraform through its environment, never the file.
    secret_env={"encryption_key": "GOOGLE_ENCRYPTION_KEY", "access_token": "GOOGLE_OAUTH_ACCESS_TOKEN", "credentials": "GOOGLE_BACKEND_CREDENTIALS"},
    name_rules={"bucket": NameRule(63, 3, r"[a-z0-9][a-z0-9_.-]*[a-z0-9]", "lowercase letters, digits, dots, hyphens and underscores", "google_storage_bucket")},
    read_state=read_state,
    description="terraform's gcs backend: a Cloud Storage bucket",
    auth_from_settings=lambda backend: auth_from_settings(backend),
)
