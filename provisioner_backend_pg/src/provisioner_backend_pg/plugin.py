"""The ``backend-pg`` plugin: the provisioner, the ``pg`` backend type and the ``postgres`` credentials.

The only module that knows the plugin API; everything else in this distribution is the engine
(config, credentials, sql, inspect, plan, provision, errors), which depends only on
``provisioner_core``'s top-level exports. Core names no database: all it knows of ``pg`` comes
from the registrations below.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from provisioner_core import (
    BEFORE_TERRAFORM_INIT,
    MANUAL_PROVISION,
    AuthContext,
    BackendType,
    ClientCache,
    CredentialProvider,
    ProvisionerSpec,
    ProvisionResult,
    ResolvedComponent,
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

    Core's key-name rules do not see a password inside a connection string; core asks for these.
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

    creds = auth.get(CREDENTIAL_PROVIDER)
    return creds if isinstance(creds, PostgresCredentials) else None


def terraform_env(backend_settings: Mapping[str, Any], auth: AuthContext) -> dict[str, str]:
    """The environment terraform's pg backend needs: ``PG_CONN_STR``, merged as the provisioner connects.

    ``backend.conn_str`` with the credentials' overrides (unless ``for_terraform: false``) and
    ``sslmode=require`` for a host off this machine. Core calls it when it writes the backend files.
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


def _builder(provider_type: str) -> Any:
    def build(settings: Mapping[str, Any]) -> Any:
        from provisioner_backend_pg.credentials import build as build_credentials

        return build_credentials(provider_type, settings)

    return build


def read_state(component: ResolvedComponent, auth: AuthContext, clients: ClientCache) -> bytes | None:
    """The component's state row (``<schema>.states`` named after its workspace), or None."""
    from provisioner_backend_pg.provision import read_state_row

    return read_state_row(component.backend, credentials_from(auth), state_object(component.backend, component.workspace))


CREDENTIAL_PROVIDERS: tuple[CredentialProvider, ...] = tuple(
    # Never PGPASSWORD or ~/.pgpass unless `type: env`: the provider reads nothing ambient otherwise.
    CredentialProvider(CREDENTIAL_PROVIDER, provider_type, _builder(provider_type), description=f"postgres credentials ({provider_type})", example=AUTH_EXAMPLE,
                       ambient_env=("PGPASSWORD", "PGPASSFILE", "PGUSER", "PGSERVICE", "PG_CONN_STR"))  # fmt: skip
    for provider_type in CREDENTIAL_TYPES
)
PG_BACKEND = BackendType(
    BACKEND_TYPE,
    scheme=STATE_SCHEME,
    location_keys=STATE_LOCATION_KEYS,
    state_object=state_object,
    secret_env=SECRET_SETTINGS,
    storage=lambda settings: state_address(settings).removeprefix(STATE_SCHEME),
    secret_values=secret_values,
    terraform_env=terraform_env,
    read_state=read_state,
    description="terraform's pg backend: a states table in a PostgreSQL database",
)


# The registered plugin (entry point "...plugin:plugin"): SPEC at each of its events, the pg backend type, the postgres credentials.
plugin = provisioner(SPEC, run, backend_types=(PG_BACKEND,), credential_providers=CREDENTIAL_PROVIDERS)
