"""The ``backend-pg`` provisioner: its declaration, and the only module that knows the plugin API.

Everything else in this distribution is the engine (config, credentials, sql, inspect, plan,
provision, errors) and depends only on ``provisioner_core``'s top-level exports. The data
below is what core's backend-type and credential-provider registrations will need; until they
exist, credentials are resolved through today's ``resolve_credentials`` hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from provisioner_core import (
    BEFORE_TERRAFORM_INIT,
    MANUAL_PROVISION,
    AuthContext,
    ProvisionerSpec,
    ProvisionResult,
    ResolvedComponent,
    hookimpl,
    provisioner,
)

BACKEND_TYPE = "pg"
DISTRIBUTION = "provisioner-backend-pg"

SPEC = ProvisionerSpec(
    name="backend-pg",
    type="backend",
    events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION),
    description="Creates terraform's pg backend objects (database, schema, states table, sequence, index) with least-privilege grants; never weakens what exists",
    backend_types=(BACKEND_TYPE,),
)

# --- for core's credential-provider registration -------------------------------------------
CREDENTIAL_PROVIDER = "postgres"  # auth.providers.postgres
CREDENTIAL_TYPES: tuple[str, ...] = ("conn-string", "password", "password-file", "env")
AUTH_EXAMPLE = "auth:\n  providers:\n    postgres:\n      type: password\n      user: provisioner\n      password: ..."

# --- for core's backend-type registration --------------------------------------------------
# Backend settings that are secrets: kept out of backend.tf.json and handed to terraform in this
# variable (terraform's pg backend reads PG_CONN_STR when conn_str is not configured).
SECRET_SETTINGS: Mapping[str, str] = MappingProxyType({"conn_str": "PG_CONN_STR"})
# Where a component's state lives: one row of <schema_name>.states named after the workspace, in
# the database conn_str names. The address uses the host, port and database parsed out of conn_str
# (never its user or password) and schema_name.
STATE_SCHEME = "pg://"
STATE_LOCATION_KEYS: tuple[str, ...] = ("schema_name",)


def state_address(settings: Mapping[str, Any]) -> str:
    """``pg://host:port/database/schema``: the storage a component's state row lives in (no secret)."""
    from provisioner_backend_pg.config import DEFAULT_SCHEMA, parse_conninfo

    conn_str = settings.get("conn_str")
    params = parse_conninfo(conn_str, "backend.conn_str") if isinstance(conn_str, str) and conn_str else {}
    host = params.get("hostaddr") or params.get("host") or ""
    schema = settings.get("schema_name") or DEFAULT_SCHEMA
    return f"{STATE_SCHEME}{host}:{params.get('port') or '5432'}/{params.get('dbname', '')}/{schema}"


def state_object(settings: Mapping[str, Any], workspace: str) -> str:
    """The state row's name: terraform's pg backend names it after the workspace (``default`` included)."""
    return workspace


def secret_values(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """Every secret in a ``backend.pg`` section (the password inside ``conn_str``, as written and decoded), for redaction.

    Core's key-name rules do not see a password inside a connection string: until core asks
    backend types for their secrets, ``provision describe`` prints it.
    """
    from provisioner_backend_pg.conninfo import passwords_in

    conn_str = settings.get("conn_str")
    return tuple(passwords_in(conn_str)) if isinstance(conn_str, str) else ()


def masked_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A ``backend.pg`` section fit to print: the password in ``conn_str`` masked, in either form."""
    from provisioner_backend_pg.conninfo import mask_password

    return {key: mask_password(value) if key == "conn_str" and isinstance(value, str) else value for key, value in settings.items()}


def credentials_from(auth: AuthContext) -> Any:
    """This distribution's credentials from ``auth.providers.postgres``, if that is where they came from."""
    from provisioner_backend_pg.credentials import PostgresCredentials

    creds = auth.providers.get(CREDENTIAL_PROVIDER)
    return creds if isinstance(creds, PostgresCredentials) else None


def terraform_env(backend_settings: Mapping[str, Any], auth: AuthContext) -> dict[str, str]:
    """The environment terraform's pg backend needs: ``PG_CONN_STR``, merged as the provisioner connects.

    ``backend.conn_str`` with the credentials' overrides (unless ``for_terraform: false``) and
    ``sslmode=require`` for a host off this machine. Core should use this instead of moving
    ``conn_str`` to ``PG_CONN_STR`` as it stands, when the component has postgres credentials.
    """
    from provisioner_backend_pg.config import connection_target, parse_backend

    backend, _ = parse_backend(backend_settings)
    creds = credentials_from(auth)
    if creds is not None and not creds.for_terraform:
        creds = None
    if backend.conn_str is None and creds is None:
        return {}
    return {SECRET_SETTINGS["conn_str"]: connection_target(backend, creds, []).conninfo()}


def run(component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool) -> ProvisionResult:
    # Imported here: provision pulls in the engine, which plugin listing must not pay for.
    from provisioner_backend_pg.config import parse_backend
    from provisioner_backend_pg.provision import provision

    parse_backend(component.backend)  # configuration errors first, before credentials are used
    return provision(component.backend, options, credentials_from(auth), dry_run=dry_run)


def resolve_credentials(cloud: str, provider_type: str, settings: Mapping[str, Any]) -> Any:
    """Today's selection hook: build ``auth.providers.postgres``; None for every other provider."""
    if cloud != CREDENTIAL_PROVIDER:
        return None
    from provisioner_backend_pg.credentials import build

    return build(provider_type, settings)


# The registered plugin (entry point "...plugin:plugin"): SPEC, with run at each of its events,
# plus the credential provider through today's resolve_credentials hook.
_base = provisioner(SPEC, run)
plugin = type(type(_base).__name__, (type(_base),), {"resolve_credentials": staticmethod(hookimpl(resolve_credentials))})()
