"""Parse and validate the component's ``backend.pg`` section and ``provision.backend`` options.

No network: every value that leaves here is typed and checked, and every problem is a
ConfigError (exit 2) raised before a connection is attempted. Connection strings are parsed by
libpq itself (psycopg's ``conninfo_to_dict``), imported only when a run parses one.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from provisioner_backend_pg.conninfo import mask_password, passwords_in, scrub
from provisioner_core import ConfigError, OptionReader

if TYPE_CHECKING:
    from provisioner_backend_pg.credentials import PostgresCredentials

WHERE_BACKEND = "backend"
WHERE_OPTIONS = "provision.backend"

# Terraform's pg backend (internal/backend/remote-state/pg/backend.go).
DEFAULT_SCHEMA = "terraform_remote_state"
TERRAFORM_KEYS = ("conn_str", "schema_name", "skip_schema_creation", "skip_table_creation", "skip_index_creation")
DEFAULT_MAINTENANCE_DATABASE = "postgres"
IDENTIFIER_MAX_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL silently truncates longer names
# A password file that cannot exist: libpq then never falls back to ~/.pgpass (only `env` credentials allow it).
NO_PASSFILE = "/nonexistent/provisioner-backend-pg/no-pgpass"
APPLICATION_NAME = "provisioner-backend-pg"
PLAINTEXT_SSLMODES = frozenset({"disable", "allow", "prefer"})


@frozen
class PgBackend:
    """Terraform's ``backend "pg"`` settings, as terraform reads them."""

    conn_str: str | None = field(default=None, repr=False)  # may hold a password
    schema_name: str = DEFAULT_SCHEMA
    skip_schema_creation: bool = False
    skip_table_creation: bool = False
    skip_index_creation: bool = False


@frozen
class PgOptions:
    """``provision.backend`` for ``backend_type: pg``."""

    report_only: bool = False
    grant_to: str | None = None
    create_database: bool = True
    maintenance_database: str = DEFAULT_MAINTENANCE_DATABASE
    revoke_public_connect: bool = False
    connect_timeout_s: int = 10
    wait_timeout_s: int = 120


def _frozen_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@frozen
class ConnTarget:
    """Where and as whom the provisioner connects: libpq keywords, the password among them."""

    params: Mapping[str, str] = field(converter=_frozen_mapping, repr=False)
    ambient: bool = False  # `env` credentials: libpq may read PG* variables and ~/.pgpass
    tls_defaulted: bool = False  # sslmode=require was added because the host is not on loopback

    @property
    def dbname(self) -> str:
        return self.params["dbname"]

    @property
    def user(self) -> str:
        return self.params.get("user", "")

    @property
    def endpoint(self) -> str:
        """``host:port`` for messages (the socket folder for a local socket)."""
        host = self.params.get("hostaddr") or self.params.get("host") or "local socket"
        return f"{host}:{self.params.get('port') or '5432'}"

    @property
    def secrets(self) -> tuple[str, ...]:
        password = self.params.get("password")
        return (password,) if password else ()

    def connect_params(self, dbname: str | None = None, *, timeout_s: int = 10) -> dict[str, str]:
        """Keywords for ``psycopg.connect``: never PGPASSWORD or ~/.pgpass unless the credentials are ``env``."""
        params = dict(self.params)
        if dbname is not None:
            params["dbname"] = dbname
        params.setdefault("connect_timeout", str(timeout_s))
        params.setdefault("application_name", APPLICATION_NAME)
        if not self.ambient:
            # An explicit value (even empty) stops libpq from reading PGPASSWORD; the passfile stops ~/.pgpass.
            params.setdefault("password", "")
            params.setdefault("passfile", NO_PASSFILE)
        return params

    def conninfo(self) -> str:
        """The connection string (password included) that terraform should use, in key=value form."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo("", **dict(self.params))

    def display(self, dbname: str | None = None) -> str:
        """``postgres://user@host:port/db``: no password, for messages and results."""
        user = self.params.get("user")
        host = self.params.get("hostaddr") or self.params.get("host") or ""
        port = self.params.get("port") or "5432"
        where = f"{host}:{port}" if host and not host.startswith("/") else f"[{host or 'socket'}]:{port}"
        return f"postgres://{user + '@' if user else ''}{where}/{dbname or self.params.get('dbname', '')}"


# --- connection strings -----------------------------------------------------------------


def parse_conninfo(text: str, where: str) -> dict[str, str]:
    """libpq's reading of a URL or key=value connection string; ConfigError without the password if invalid."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        parsed = conninfo_to_dict(text)
    except ProgrammingError as exc:
        reason = scrub(" ".join(str(exc).split()), passwords_in(text))
        raise ConfigError(
            f"{where} is not a valid connection string: {reason}",
            hint="Write it as postgres://user:password@host:5432/dbname?sslmode=require or as host=... port=... dbname=... "
            "(libpq's keywords: https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS).",
            context={"key": where, "conn_str": mask_password(text)},
        ) from None
    params = {str(key): str(value) for key, value in parsed.items() if value is not None}
    for port in params.get("port", "").split(","):
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise ConfigError(
                f"{where} has an invalid port {port!r}",
                hint="Write the port as a number from 1 to 65535, e.g. postgres://user@host:5432/dbname.",
                context={"key": where, "conn_str": mask_password(text)},
            )
    return params


def is_loopback(params: Mapping[str, str]) -> bool:
    """True when every host is a local socket, ``localhost`` or a loopback address."""
    hosts = [h.strip() for h in (params.get("hostaddr") or params.get("host") or "").split(",")]
    for host in hosts:
        if host == "" or host.startswith("/") or host.startswith("@") or host.lower() == "localhost":
            continue
        try:
            if ipaddress.ip_address(host.strip("[]")).is_loopback:
                continue
        except ValueError:
            pass
        return False
    return True


def connection_target(backend: PgBackend, creds: PostgresCredentials | None, warnings: list[str]) -> ConnTarget:
    """Merge ``backend.conn_str`` with the credentials; require a database; TLS off loopback."""
    params = parse_conninfo(backend.conn_str, f"{WHERE_BACKEND}.conn_str") if backend.conn_str else {}
    if creds is not None:
        extra = credential_params(creds)
        if creds.method == "env":
            params = {**extra, **params}  # the environment only fills what conn_str leaves out (terraform's rule)
        else:
            params.update(extra)  # explicit credentials override
    if not params and creds is None:
        raise ConfigError(
            f"{WHERE_BACKEND}.conn_str is required for backend_type pg",
            hint="Add conn_str: postgres://user@host:5432/dbname?sslmode=require under backend.pg (the password may come from auth.providers.postgres).",
            context={"key": f"{WHERE_BACKEND}.conn_str"},
        )
    if not params.get("dbname"):
        raise ConfigError(
            "the connection string names no database",
            hint="Name the state database in backend.pg.conn_str: postgres://user@host:5432/<dbname> or dbname=<dbname>.",
            context={"key": f"{WHERE_BACKEND}.conn_str"},
        )
    _check_identifier(params["dbname"], f"{WHERE_BACKEND}.conn_str (database name)")
    tls_defaulted = False
    sslmode = params.get("sslmode")
    if not is_loopback(params):
        if sslmode is None:
            params["sslmode"] = "require"  # terraform's driver (lib/pq) requires TLS by default too
            tls_defaulted = True
        elif sslmode in PLAINTEXT_SSLMODES:
            warnings.append(
                f"{WHERE_BACKEND}.conn_str sets sslmode={sslmode} for a host that is not on this machine: "
                "the password and the state may cross the network unencrypted; use sslmode=verify-full"
            )
    # Only `env` credentials let libpq use the environment and ~/.pgpass as well.
    return ConnTarget(params, ambient=creds is not None and creds.method == "env", tls_defaulted=tls_defaulted)


def credential_params(creds: PostgresCredentials) -> dict[str, str]:
    """The libpq keywords ``auth.providers.postgres`` sets: its connection string parsed, user, password."""
    from provisioner_backend_pg.credentials import TERRAFORM_CONN_ENV, WHERE

    params: dict[str, str] = {}
    if creds.method == "conn-string" and creds.conn_str:
        params.update(parse_conninfo(creds.conn_str, f"{WHERE}.conn_str"))
    elif creds.method == "env":
        if creds.conn_str:
            params.update(parse_conninfo(creds.conn_str, TERRAFORM_CONN_ENV))
        for key, value in creds.environment.items():
            params.setdefault(key, value)  # libpq: the connection string wins over PG* variables
    if creds.user:
        params["user"] = creds.user
    if creds.password is not None:
        params["password"] = creds.password
    return params


# --- backend and options ----------------------------------------------------------------


def _bool(section: Mapping[str, Any], key: str, where: str) -> bool:
    value = section.get(key)
    if value is None:
        return False
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"  # terraform accepts string booleans from -backend-config
    if not isinstance(value, bool):
        raise ConfigError(
            f"{where}.{key} must be true or false, got {value!r}",
            hint=f"Write `{key}: true`.",
            context={"key": f"{where}.{key}"},
        )
    return value


def _check_identifier(name: str, where: str) -> None:
    if "\x00" in name:
        raise ConfigError(f"{where} must not contain a NUL character", hint="Choose a plain name.", context={"key": where})
    if len(name.encode()) > IDENTIFIER_MAX_BYTES:
        raise ConfigError(
            f"{where} {name!r} is longer than {IDENTIFIER_MAX_BYTES} bytes; PostgreSQL would silently shorten it",
            hint=f"Choose a name of at most {IDENTIFIER_MAX_BYTES} bytes.",
            context={"key": where},
        )


def parse_backend(section: Mapping[str, Any] | None) -> tuple[PgBackend, list[str]]:
    """The typed ``backend.pg`` settings and warnings for keys terraform does not know."""
    if section is not None and not isinstance(section, Mapping):
        raise ConfigError(f"{WHERE_BACKEND} must be a mapping for backend_type pg", hint="Write backend: {pg: {conn_str: ...}}.")
    section = section or {}
    warnings: list[str] = []
    for key in section:
        if key not in TERRAFORM_KEYS:
            close = difflib.get_close_matches(str(key), TERRAFORM_KEYS, n=1)
            warnings.append(
                f"{WHERE_BACKEND}.{key} is not a setting of terraform's pg backend" + (f"; did you mean '{close[0]}'?" if close else "")
            )
    conn_str = section.get("conn_str")
    if conn_str is not None and not isinstance(conn_str, str):
        raise ConfigError(
            f"{WHERE_BACKEND}.conn_str must be a string, got {type(conn_str).__name__}",
            hint='Write conn_str: "postgres://user@host:5432/dbname?sslmode=require".',
            context={"key": f"{WHERE_BACKEND}.conn_str"},
        )
    schema = section.get("schema_name")
    if schema is None or schema == "":
        schema = DEFAULT_SCHEMA
    if not isinstance(schema, str):
        raise ConfigError(
            f"{WHERE_BACKEND}.schema_name must be a string, got {type(schema).__name__}",
            hint=f"Write schema_name: {DEFAULT_SCHEMA}.",
            context={"key": f"{WHERE_BACKEND}.schema_name"},
        )
    _check_identifier(schema, f"{WHERE_BACKEND}.schema_name")
    if schema.lower().startswith("pg_"):
        raise ConfigError(
            f"{WHERE_BACKEND}.schema_name {schema!r} starts with pg_, which PostgreSQL reserves for system schemas",
            hint=f"Choose another name, e.g. {DEFAULT_SCHEMA}.",
            context={"key": f"{WHERE_BACKEND}.schema_name"},
        )
    backend = PgBackend(
        conn_str=conn_str or None,
        schema_name=schema,
        skip_schema_creation=_bool(section, "skip_schema_creation", WHERE_BACKEND),
        skip_table_creation=_bool(section, "skip_table_creation", WHERE_BACKEND),
        skip_index_creation=_bool(section, "skip_index_creation", WHERE_BACKEND),
    )
    if backend.conn_str:
        parse_conninfo(backend.conn_str, f"{WHERE_BACKEND}.conn_str")  # a bad string is exit 2 before anything else
    return backend, warnings


def parse_options(options: Mapping[str, Any] | None, backend: PgBackend) -> tuple[PgOptions, list[str]]:
    """The typed ``provision.backend`` options and warnings for unknown keys."""
    reader = OptionReader(options, WHERE_OPTIONS)
    grant_to = reader.str("grant_to")
    if grant_to is not None:
        _check_identifier(grant_to, f"{WHERE_OPTIONS}.grant_to")
        if grant_to.lower() == "public" or grant_to.lower().startswith("pg_"):
            raise ConfigError(
                f"{WHERE_OPTIONS}.grant_to {grant_to!r} is not a role terraform can log in as",
                hint="Name the login role terraform uses (e.g. tf_runner); PUBLIC and pg_* roles are refused.",
                context={"key": f"{WHERE_OPTIONS}.grant_to"},
            )
    maintenance = reader.str("maintenance_database", DEFAULT_MAINTENANCE_DATABASE) or DEFAULT_MAINTENANCE_DATABASE
    _check_identifier(maintenance, f"{WHERE_OPTIONS}.maintenance_database")
    parsed = PgOptions(
        report_only=reader.bool("report_only", False),
        grant_to=grant_to,
        create_database=reader.bool("create_database", True),
        maintenance_database=maintenance,
        revoke_public_connect=reader.bool("revoke_public_connect", False),
        connect_timeout_s=reader.int("connect_timeout", 10, minimum=1, maximum=300) or 10,
        wait_timeout_s=reader.int("wait_timeout", 120, minimum=1, maximum=3600) or 120,
    )
    warnings = reader.unknown_keys(("enabled", "timeout"))
    if parsed.grant_to:
        # Checked with terraform 1.11: an existing schema costs it only a SELECT, but its CREATE SEQUENCE/TABLE/INDEX
        # IF NOT EXISTS need CREATE on schema public and ownership of the table even when the objects exist.
        creating = [k for k in ("skip_table_creation", "skip_index_creation") if not getattr(backend, k)]
        if creating:
            warnings.append(
                f"grant_to {parsed.grant_to!r} gets only the privileges terraform needs to read and write state, but "
                f"backend.{' and backend.'.join(creating)} {'is' if len(creating) == 1 else 'are'} not true: terraform then runs "
                "CREATE ... IF NOT EXISTS statements that fail with 'permission denied'; set them to true (this provisioner creates everything)"
            )
    return parsed, warnings
