"""Translate psycopg errors into core's errors, naming the step, the endpoint and the privilege.

Exit codes: authentication failure and insufficient privilege 3 (the privilege named), an
unreachable or overloaded server 5 (host:port named), a configuration the server rejects 2,
an object terraform cannot use 4. libpq reports connection failures without an SQLSTATE, so
those are recognised by libpq's message text. No message carries a password: every text is
scrubbed of connection-string passwords and of the run's known secrets.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from provisioner_backend_pg.conninfo import scrub
from provisioner_core import ConfigError, NetworkError, PermissionDenied, ProvisionerError, ResourceConflict

DOCS = "docs/backends/pg.md#privileges"

# SQLSTATEs a concurrent provisioner (or terraform) produces when it created the object first.
RACE_STATES = frozenset({"42P04", "42P06", "42P07", "42710", "23505"})
MISSING_DATABASE = "3D000"

_AUTH_TEXT = (
    "password authentication failed", "no password supplied", "pg_hba.conf", "peer authentication failed",
    "ident authentication failed", "authentication failed", "scram", "gssapi", "sspi", "certificate authentication failed",
)  # fmt: skip
_NETWORK_TEXT = (
    "connection refused", "timeout expired", "timed out", "failed to resolve host", "could not translate host name",
    "no route to host", "network is unreachable", "server closed the connection", "could not connect", "no such file or directory",
    "connection reset", "terminating connection", "the database system is starting up", "the database system is shutting down",
    "too many clients", "too many connections", "remaining connection slots", "consuming input failed", "the connection is lost",
    "connection is closed", "ssl syscall error", "host is down",
)  # fmt: skip
_TLS_CONFIG_TEXT = ("server does not support ssl", "sslmode value", "root certificate file", "certificate verify failed", "invalid sslmode")


def sqlstate(exc: BaseException) -> str | None:
    return getattr(exc, "sqlstate", None)


def server_message(exc: BaseException, secrets: Sequence[str] = ()) -> str:
    """libpq's or the server's message in one line, without the "connection failed:" boilerplate or secrets."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(exc)
    text = " ".join(text.replace("\t", " ").split())
    for prefix in ("connection failed: ",):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    # libpq: 'connection to server at "h", port p failed: FATAL:  <message>': keep the message.
    if " failed: " in text and text.startswith("connection to server"):
        text = text.split(" failed: ", 1)[1]
    text = text.removeprefix("FATAL: ").strip()
    return scrub(text, secrets)[:300]


def is_missing_database(exc: BaseException) -> bool:
    if sqlstate(exc) == MISSING_DATABASE:
        return True
    text = str(exc).lower()
    return "database" in text and "does not exist" in text and "fatal" in text


def is_race(exc: BaseException) -> bool:
    """Another session created the object between our read and our CREATE."""
    return sqlstate(exc) in RACE_STATES


def translate(
    exc: BaseException, *, step: str, endpoint: str, user: str, privilege: str | None = None, secrets: Sequence[str] = ()
) -> ProvisionerError | None:
    """The core error for a psycopg error raised during ``step`` (None for anything else)."""
    import psycopg

    if not isinstance(exc, psycopg.Error):
        return None
    state = sqlstate(exc)
    message = server_message(exc, secrets)
    lower = message.lower()
    context: dict[str, Any] = {"step": step, "endpoint": endpoint, "user": user}
    if state:
        context["sqlstate"] = state
    if state == "42501" or (state is None and "permission denied for database" in lower):
        needed = privilege or ("CONNECT on the database" if "database" in lower else "the privilege named above")
        return PermissionDenied(
            f"{step}: permission denied for {user or 'the provisioning role'}: needs {needed} ({message})",
            hint=f"Grant {user or 'the provisioning role'} {needed}, or run the provisioner as a role that has it; the list is in {DOCS}.",
            context=context,
        )
    if (state or "").startswith("28") or (state is None and any(t in lower for t in _AUTH_TEXT)):
        hint = (
            "No password was sent: put it in backend.pg.conn_str or auth.providers.postgres "
            "(PGPASSWORD and ~/.pgpass are read only with auth.providers.postgres.type: env)."
            if "no password supplied" in lower
            else f"Check the user and password for {endpoint} (backend.pg.conn_str or auth.providers.postgres) and the server's pg_hba.conf."
        )
        return PermissionDenied(
            f"{step}: the server at {endpoint} refused the login of {user or 'the connecting role'}: {message}", hint=hint, context=context
        )
    if state is None and any(t in lower for t in _TLS_CONFIG_TEXT):
        return ConfigError(
            f"{step}: TLS to {endpoint} failed: {message}",
            hint="Match sslmode in backend.pg.conn_str to the server: verify-full with sslrootcert for a TLS server; "
            "sslmode=disable only for a server on this machine without TLS.",
            context=context,
        )
    if (
        (state or "").startswith("08")
        or state in ("57P01", "57P02", "57P03", "53300")
        or (state is None and any(t in lower for t in _NETWORK_TEXT))
    ):
        return NetworkError(
            f"{step}: could not reach PostgreSQL at {endpoint}: {message}",
            hint=f"Check that the server at {endpoint} is running and reachable from here (host, port, firewall); "
            "raise provision.backend.connect_timeout for a slow network.",
            context=context,
        )
    if state == "55P03":
        return NetworkError(
            f"{step}: timed out waiting for another provisioner run on {endpoint}: {message}",
            hint="Another run holds the provisioning lock of this schema; retry, or raise provision.backend.wait_timeout.",
            context=context,
        )
    if state == "3F000":
        return ResourceConflict(
            f"{step}: {message}",
            hint="terraform's pg backend puts its id sequence in schema public; create that schema (or restore it) in the state database.",
            context=context,
        )
    if state in ("22023", "42602", "42939", "42704") or isinstance(exc, psycopg.ProgrammingError) and state is None:
        return ConfigError(
            f"{step}: the server rejected a value: {message}", hint="Check the names in backend.pg and provision.backend.", context=context
        )
    return ProvisionerError(
        f"{step}: PostgreSQL error {state or type(exc).__name__}: {message}",
        hint="See the PostgreSQL error above; run again with --debug for the full error.",
        context=context,
    )


@contextmanager
def translated(step: str, *, endpoint: str, user: str, privilege: str | None = None, secrets: Sequence[str] = ()) -> Iterator[None]:
    """Run one step; turn its psycopg errors into core errors naming the step."""
    try:
        yield
    except ProvisionerError:
        raise
    except Exception as exc:  # noqa: BLE001 - translated below, or re-raised untouched
        mapped = translate(exc, step=step, endpoint=endpoint, user=user, privilege=privilege, secrets=secrets)
        if mapped is None:
            raise
        raise mapped from None
