"""The ``postgres`` credential provider: ``auth.providers.postgres`` of a component.

The backend's own ``conn_str`` is enough on its own; these credentials supply or override the
user and password (or the whole connection string) for the provisioner and, unless
``for_terraform: false``, for terraform too. Four types:

* ``conn-string``: ``conn_str`` (URL or key=value); its settings override the backend's.
* ``password``: ``password`` and an optional ``user``.
* ``password-file``: ``password_file`` (a file holding only the password) and an optional ``user``.
* ``env``: the only type that reads the environment: ``PG_CONN_STR`` and libpq's ``PG*``
  variables (``PGPASSWORD`` included), read once, filling in what ``conn_str`` leaves out, as
  terraform does; libpq may then also use ``~/.pgpass``.

Secrets are excluded from ``repr`` and listed by :meth:`PostgresCredentials.secrets`.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

from provisioner_backend_pg.conninfo import passwords_in
from provisioner_core import ConfigError

PROVIDER = "postgres"
WHERE = f"auth.providers.{PROVIDER}"

# Each type and the keys it requires; every type also takes `for_terraform`.
REQUIRED_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"conn-string": ("conn_str",), "password": ("password",), "password-file": ("password_file",), "env": ()}
)
OPTIONAL_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"conn-string": (), "password": ("user",), "password-file": ("user",), "env": ()}
)
COMMON_KEYS = ("type", "for_terraform")

# libpq's environment variables the `env` type reads (PG_CONN_STR is terraform's own).
ENV_VARIABLES: Mapping[str, str] = MappingProxyType(
    {
        "PGHOST": "host", "PGHOSTADDR": "hostaddr", "PGPORT": "port", "PGDATABASE": "dbname", "PGUSER": "user",
        "PGPASSWORD": "password", "PGPASSFILE": "passfile", "PGSSLMODE": "sslmode", "PGSSLROOTCERT": "sslrootcert",
        "PGSSLCERT": "sslcert", "PGSSLKEY": "sslkey", "PGCONNECT_TIMEOUT": "connect_timeout", "PGAPPNAME": "application_name",
    }
)  # fmt: skip
TERRAFORM_CONN_ENV = "PG_CONN_STR"


def _frozen_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@frozen
class PostgresCredentials:
    """Who the provisioner (and by default terraform) connects as."""

    method: str  # conn-string | password | password-file | env
    conn_str: str | None = field(default=None, repr=False)
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    password_file: str | None = None
    # env: the variables read once at build time, as libpq keywords (password among them)
    environment: Mapping[str, str] = field(factory=dict, converter=_frozen_mapping, repr=False)
    for_terraform: bool = True

    def fingerprint(self) -> str:
        """A stable, non-secret identity for cache keys (secrets only enter a one-way digest)."""
        parts = [self.method, self.conn_str or "", self.user or "", self.password or "", self.password_file or ""]
        parts += [f"{k}={v}" for k, v in sorted(self.environment.items())]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction: the password, and the connection string and the password in it."""
        found: list[str] = []
        for text in (self.conn_str, self.environment.get("password"), self.password):
            if text:
                found.append(text)
        if self.conn_str:
            found += passwords_in(self.conn_str)
        return tuple(dict.fromkeys(found))

    def terraform_env(self) -> dict[str, str]:
        """What terraform's pg backend needs from these credentials alone.

        ``conn-string``: ``PG_CONN_STR``; the other types: libpq's ``PGUSER``/``PGPASSWORD``, which
        terraform's driver uses for what its ``conn_str`` leaves out. The complete connection
        string (the backend's merged with these) is :func:`provisioner_backend_pg.plugin.terraform_env`.
        """
        if not self.for_terraform:
            return {}
        if self.method == "conn-string":
            return {TERRAFORM_CONN_ENV: self.conn_str or ""}
        env: dict[str, str] = {}
        user = self.user or (self.environment.get("user") if self.method == "env" else None)
        password = self.password if self.password is not None else self.environment.get("password")
        if user:
            env["PGUSER"] = user
        if password:
            env["PGPASSWORD"] = password
        if self.method == "env" and self.conn_str:
            env[TERRAFORM_CONN_ENV] = self.conn_str
        return env


def build(provider_type: str, settings: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> PostgresCredentials:
    """The credentials for ``auth.providers.postgres`` of ``type: provider_type``; ConfigError (exit 2) if wrong.

    ``environ`` is read only for ``type: env`` (default: the process environment).
    """
    if provider_type not in REQUIRED_KEYS:
        close = difflib.get_close_matches(provider_type, list(REQUIRED_KEYS), n=1)
        raise ConfigError(
            f"{WHERE}: unknown type {provider_type!r}",
            hint=(f"Did you mean {close[0]!r}? " if close else "") + f"Types: {', '.join(REQUIRED_KEYS)}.",
            context={"key": f"{WHERE}.type"},
        )
    known = set(COMMON_KEYS) | set(REQUIRED_KEYS[provider_type]) | set(OPTIONAL_KEYS[provider_type])
    for key in settings:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            raise ConfigError(
                f"{WHERE}.{key} is not a setting of type {provider_type}",
                hint=(f"Did you mean '{close[0]}'? " if close else "")
                + f"Type {provider_type} takes: {', '.join(sorted(known - {'type'}))}.",
                context={"key": f"{WHERE}.{key}"},
            )
    missing = [key for key in REQUIRED_KEYS[provider_type] if settings.get(key) in (None, "")]
    if missing:
        raise ConfigError(
            f"{WHERE} (type {provider_type}) is missing {', '.join(missing)}",
            hint=f"Add {', '.join(f'`{key}: ...`' for key in missing)} under {WHERE}.",
            context={"key": f"{WHERE}.{missing[0]}"},
        )
    text = {key: _text(settings, key) for key in ("conn_str", "user", "password", "password_file")}
    for_terraform = settings.get("for_terraform", True)
    if not isinstance(for_terraform, bool):
        raise ConfigError(
            f"{WHERE}.for_terraform must be true or false, got {for_terraform!r}",
            hint="Write `for_terraform: false` to keep these credentials for the provisioner only.",
            context={"key": f"{WHERE}.for_terraform"},
        )
    if provider_type == "conn-string":
        return PostgresCredentials("conn-string", conn_str=text["conn_str"], for_terraform=for_terraform)
    if provider_type == "password":
        return PostgresCredentials("password", user=text["user"], password=text["password"], for_terraform=for_terraform)
    if provider_type == "password-file":
        path = text["password_file"] or ""
        return PostgresCredentials(
            "password-file", user=text["user"], password=_read_password(path), password_file=path, for_terraform=for_terraform
        )
    environ = os.environ if environ is None else environ
    read = {keyword: environ[name] for name, keyword in ENV_VARIABLES.items() if environ.get(name)}
    conn_str = environ.get(TERRAFORM_CONN_ENV) or None
    return PostgresCredentials("env", conn_str=conn_str, environment=read, for_terraform=for_terraform)


def _text(settings: Mapping[str, Any], key: str) -> str | None:
    value = settings.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigError(
            f"{WHERE}.{key} must be a string, got {type(value).__name__}",
            hint=f'Write `{key}: "..."` under {WHERE}.',
            context={"key": f"{WHERE}.{key}"},
        )
    return str(value)


def _read_password(path: str) -> str:
    file = Path(path).expanduser()
    try:
        content = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(
            f"{WHERE}.password_file {path!r} cannot be read: {reason}",
            hint="Point password_file at a readable file that holds only the password.",
            context={"key": f"{WHERE}.password_file"},
        ) from None
    password = content.rstrip("\r\n")
    if not password or "\n" in password:
        raise ConfigError(
            f"{WHERE}.password_file {path!r} must hold exactly one line: the password",
            hint="Write only the password into the file (a trailing newline is fine).",
            context={"key": f"{WHERE}.password_file"},
        )
    return password
