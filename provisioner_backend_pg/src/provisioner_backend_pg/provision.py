"""The whole run: connect, inspect, plan, apply through the ChangeRecorder, re-inspect.

* A compliant database costs reads only: catalog SELECTs, no lock, no transaction.
* Writes run in one transaction per pass, behind an advisory lock of this database and schema,
  after a fresh inspection under that lock; so concurrent runs never race each other, and a
  CREATE that still collides with an outsider (``duplicate_*``, a unique violation on a
  catalog) rolls the pass back and starts it again from a new inspection.
* The database, when missing, is created from the maintenance database under a session
  advisory lock there (PostgreSQL has no ``CREATE DATABASE IF NOT EXISTS``).
* After a write pass the objects are inspected again, so privileges that default privileges
  (``ALTER DEFAULT PRIVILEGES``) gave PUBLIC on a new object are revoked too.

psycopg is imported inside the functions that connect: listing plugins must stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from provisioner_backend_pg import inspect as catalog
from provisioner_backend_pg import sql as ddl
from provisioner_backend_pg.config import ConnTarget, PgBackend, PgOptions, connection_target, parse_backend, parse_options
from provisioner_backend_pg.errors import is_missing_database, is_race, translate, translated
from provisioner_backend_pg.plan import Desired, Plan, Statement, plan
from provisioner_core import ChangeRecorder, ConfigError, PermissionDenied, ProvisionerError, ProvisionResult, ResourceConflict

if TYPE_CHECKING:
    import psycopg

    from provisioner_backend_pg.credentials import PostgresCredentials

MAX_PASSES = 5  # waiting for a creator, a write pass, a checking pass, and room for a race with an outsider or two
DOCS_MIGRATING = "docs/backends/pg.md#migrating-a-hand-made-schema"
DOCS_PRIVILEGES = "docs/backends/pg.md#privileges"
# privilege_not_revoked, privilege_not_granted: warnings, not errors, in PostgreSQL.
IGNORED_PRIVILEGE_STATES = frozenset({"01006", "01007"})


class _Race(Exception):
    """A CREATE collided with a concurrent one: roll the pass back and plan again."""


def provision(
    backend_section: Mapping[str, Any] | None, options: Mapping[str, Any] | None, creds: PostgresCredentials | None, *, dry_run: bool
) -> ProvisionResult:
    """Provision terraform's pg backend described by ``backend_section``; ``creds`` from ``auth.providers.postgres`` (optional)."""
    backend, warnings = parse_backend(backend_section)
    opts, option_warnings = parse_options(options, backend)
    warnings += option_warnings
    target = connection_target(backend, creds, warnings)
    desired = Desired(
        database=target.dbname,
        schema=backend.schema_name,
        grant_to=opts.grant_to,
        create_database=opts.create_database,
        revoke_public_connect=opts.revoke_public_connect,
    )
    rec = ChangeRecorder(resource_name(target, backend), dry_run=dry_run, report_only=opts.report_only)
    for warning in warnings:
        rec.warn(warning)
    secrets = (*target.secrets, *(creds.secrets() if creds else ()))
    _Run(target, desired, opts, rec, secrets).run()
    rec.details.update(
        {
            "database": desired.database,
            "schema": desired.schema,
            "connected_as": target.user or "(libpq default)",
            "tls": f"sslmode={target.params.get('sslmode', 'prefer (libpq default)')}"
            + (" (required: the host is not on this machine)" if target.tls_defaulted else ""),
        }
    )
    if desired.grant_to:
        rec.details["grant_to"] = desired.grant_to
    if opts.report_only:
        rec.details["mode"] = "report only: nothing was changed"
    return rec.result()


def resource_name(target: ConnTarget, backend: PgBackend) -> str:
    """``pg://host:port/database/schema``: no user, no password."""
    return f"pg://{target.endpoint}/{target.dbname}/{backend.schema_name}"


class _Run:
    def __init__(self, target: ConnTarget, desired: Desired, options: PgOptions, rec: ChangeRecorder, secrets: tuple[str, ...]) -> None:
        self.target = target
        self.desired = desired
        self.options = options
        self.rec = rec
        self.secrets = secrets
        self.holds_database_lock = False
        self._closing = ExitStack()
        self.created_database = False  # drift against PostgreSQL's defaults on a database made by this run is no drift

    @contextmanager
    def step(self, name: str, privilege: str | None = None) -> Iterator[None]:
        with translated(name, endpoint=self.target.endpoint, user=self.target.user, privilege=privilege, secrets=self.secrets):
            yield

    # --- connections ------------------------------------------------------------------------

    def connect(self, dbname: str) -> psycopg.Connection[Any] | None:
        """A connection to ``dbname`` (autocommit), or None when that database does not exist."""
        import psycopg
        from psycopg.conninfo import make_conninfo

        params = self.target.connect_params(dbname, timeout_s=self.options.connect_timeout_s)
        try:
            return psycopg.connect(make_conninfo("", **params), autocommit=True)
        except psycopg.Error as exc:
            if is_missing_database(exc):
                return None
            mapped = translate(
                exc, step=f"connect to database {dbname}", endpoint=self.target.endpoint, user=self.target.user,
                privilege=f"CONNECT on database {dbname}", secrets=self.secrets,
            )  # fmt: skip
            if mapped is None:
                raise
            raise mapped from None

    def run(self) -> None:
        with ExitStack() as closing:
            self._closing = closing
            conn = self.connect(self.desired.database)
            if conn is None:
                maintenance = self.connect(self.options.maintenance_database)
                if maintenance is None:
                    raise ConfigError(
                        f"database {self.desired.database!r} does not exist, and neither does the maintenance database "
                        f"{self.options.maintenance_database!r} to create it from",
                        hint="Set provision.backend.maintenance_database to a database the provisioning role can connect to (postgres, template1).",
                        context={"key": "provision.backend.maintenance_database"},
                    )
                closing.enter_context(maintenance)
                if not self.create_database(maintenance):
                    return  # a dry run, or report-only: nothing inside can be read yet
                conn = self.connect(self.desired.database)
                if conn is None:
                    raise ProvisionerError(
                        f"database {self.desired.database!r} is still missing after it was created",
                        hint="Something dropped it meanwhile; run the provisioner again.",
                    )
            # A run that created the database still holds its lock: a concurrent run waits until everything inside is done too.
            with conn:
                self.converge(conn)

    # --- the database -----------------------------------------------------------------------

    def create_database(self, conn: psycopg.Connection[Any]) -> bool:
        """From the maintenance database: plan (dry run) or create the database; True when it exists now.

        A writing run takes a session advisory lock for the database name and keeps it until the
        connection closes, after the objects inside are provisioned too.
        """
        with self.step("inspect the server"):
            role = catalog.role(conn, self.desired.grant_to)
            existing = catalog.database(conn, self.desired.database, self.desired.grant_to)
        planned = self.plan(catalog.DatabaseState(existing, role))
        if not self.rec.writing:
            if existing is not None:
                return False  # appeared meanwhile; its objects are for the next run to report
            self.refuse_creation(planned)
            self.record(planned, conn, final=True)
            return False
        self.lock_database(conn)
        with self.step("inspect the server"):
            existing = catalog.database(conn, self.desired.database, self.desired.grant_to)
        if existing is None:
            try:
                self.write(conn, planned.statements[0])
                self.created_database = True
            except _Race:
                pass  # created by a session that does not take our lock: fine, it exists
        return True

    def lock_database(self, conn: psycopg.Connection[Any]) -> None:
        """The session advisory lock for the database name, on a maintenance-database connection, held until the run ends."""
        key = ddl.advisory_lock_key(self.desired.database, "")
        with self.step("wait for the provisioning lock"):
            conn.execute("SELECT pg_catalog.set_config('lock_timeout', %s, false)", [f"{self.options.wait_timeout_s}s"])
            conn.execute("SELECT pg_catalog.pg_advisory_lock(%s, %s)", key)
        self.holds_database_lock = True

    def wait_for_a_creator(self) -> None:
        """Before creating objects in a database that has none yet, wait for a run that may be creating them.

        The run that created the database holds the database-name lock until its objects are done;
        a run that connected right after the CREATE DATABASE would otherwise race it for the
        schema. Best effort: without a usable maintenance database, the in-database lock still
        keeps the runs apart.
        """
        import psycopg

        if self.holds_database_lock:
            return
        self.holds_database_lock = True  # asked once per run
        try:
            maintenance = self.connect(self.options.maintenance_database)
        except ProvisionerError:
            return
        if maintenance is None:
            return
        self._closing.enter_context(maintenance)
        try:
            self.lock_database(maintenance)
        except (ProvisionerError, psycopg.Error):
            return

    # --- inside the database ----------------------------------------------------------------

    def inspect(self, conn: psycopg.Connection[Any]) -> catalog.DatabaseState:
        with self.step(f"inspect database {self.desired.database}"):
            info = catalog.database(conn, self.desired.database, self.desired.grant_to)
            if info is None:
                raise ProvisionerError(f"database {self.desired.database!r} disappeared while it was being provisioned", hint="Run again.")
            return catalog.inside(conn, info, self.desired.schema, self.desired.grant_to)

    def plan(self, state: catalog.DatabaseState) -> Plan:
        planned = plan(self.desired, state)
        if planned.conflicts:
            raise ResourceConflict(
                "; ".join(planned.conflicts),
                hint=f"Nothing was changed. Terraform's pg backend cannot use these objects: fix them by hand ({DOCS_MIGRATING}) or choose another backend.pg.schema_name.",
                context={"database": self.desired.database, "schema": self.desired.schema},
            )
        return planned

    def converge(self, conn: psycopg.Connection[Any]) -> None:
        for _ in range(MAX_PASSES):
            planned = self.plan(self.inspect(conn))
            if not planned.statements:
                self.record(planned, conn, final=True)
                return
            if not self.rec.writing:
                self.refuse_creation(planned)
                self.record(planned, conn, final=True)
                return
            if planned.creates and not self.holds_database_lock:
                self.wait_for_a_creator()
                continue  # read again: a creator may have finished meanwhile
            mark = (len(self.rec.actions), len(self.rec.drift), self.rec.writes, self.rec.created)
            try:
                self.write_pass(conn)
            except _Race:
                # Rolled back: forget what this pass recorded, and plan again from what now exists.
                del self.rec.actions[mark[0] :]
                del self.rec.drift[mark[1] :]
                self.rec.writes, self.rec.created = mark[2], mark[3]
        raise ProvisionerError(
            f"the objects in database {self.desired.database!r} kept changing while they were provisioned ({MAX_PASSES} passes)",
            hint="Another tool is changing the schema at the same time; run again once it is done.",
        )

    def write_pass(self, conn: psycopg.Connection[Any]) -> None:
        key = ddl.advisory_lock_key(self.desired.database, self.desired.schema)
        with conn.transaction():
            with self.step("wait for the provisioning lock"):
                conn.execute("SELECT pg_catalog.set_config('lock_timeout', %s, true)", [f"{self.options.wait_timeout_s}s"])
                conn.execute("SELECT pg_catalog.pg_advisory_xact_lock(%s, %s)", key)
            planned = self.plan(self.inspect(conn))  # again, under the lock: a concurrent run may have done it all
            self.record(planned, conn, final=False)

    def refuse_creation(self, planned: Plan) -> None:
        if self.rec.report_only and planned.creates:
            missing = ", ".join(s.target for s in planned.creates)
            raise ConfigError(
                f"missing: {missing}; provision.backend.report_only is true and never creates anything",
                hint="Create them, or set report_only: false so the provisioner creates them.",
                context={"database": self.desired.database, "schema": self.desired.schema},
            )

    # --- recording --------------------------------------------------------------------------

    def record(self, planned: Plan, conn: psycopg.Connection[Any], *, final: bool) -> None:
        """Record drift and run (or, in a dry run, list) the statements.

        A write pass records the drift it fixes; the final pass records what is kept and the warnings.
        """
        for item in planned.drift:
            if self.created_database and item.setting.startswith(f"pg database {self.desired.database} "):
                continue
            if item.stronger or final:
                self.rec.drifted(item.setting, item.expected, item.actual, stronger=item.stronger, reason=item.reason)
        if final:
            for warning in planned.warnings:
                if warning not in self.rec.warnings:
                    self.rec.warn(warning)
        for statement in planned.statements:
            self.write(conn, statement)

    def write(self, conn: psycopg.Connection[Any], statement: Statement) -> None:
        import psycopg

        text = ddl.render(statement.sql, conn)
        ignored: list[str] = []

        def execute() -> None:
            # A GRANT or REVOKE by a role that may not give the privilege only warns (01007, 01006) and changes nothing.
            def notice(diag: psycopg.errors.Diagnostic) -> None:
                if diag.sqlstate in IGNORED_PRIVILEGE_STATES:
                    ignored.append(diag.message_primary or "no privileges could be changed")

            conn.add_notice_handler(notice)
            try:
                conn.execute(statement.sql)
            finally:
                conn.remove_notice_handler(notice)

        with self.step(f"{statement.verb} {statement.target}", statement.privilege):
            try:
                self.rec.write(statement.verb, statement.target, execute, text, creates=statement.creates)
            except psycopg.Error as exc:
                if statement.creates and is_race(exc):
                    self.rec.amend_last(detail=f"{text} (created meanwhile by a concurrent session)", created=False)
                    raise _Race from None
                raise
        if ignored:
            who = self.target.user or "the provisioning role"
            raise PermissionDenied(
                f"{statement.verb} {statement.target}: permission denied for {who}: needs {statement.privilege} ({ignored[0]})",
                hint=f"Grant {who} {statement.privilege}, or run the provisioner as a role that has it; nothing was changed. See {DOCS_PRIVILEGES}.",
                context={"step": f"{statement.verb} {statement.target}", "endpoint": self.target.endpoint, "user": who, "statement": text},
            )


def read_state_row(backend_section: Mapping[str, Any] | None, creds: PostgresCredentials | None, name: str) -> bytes | None:
    """The ``data`` of the state row called ``name``; None when the database, schema, table or row is missing."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    backend, warnings = parse_backend(backend_section)
    target = connection_target(backend, creds, warnings)
    secrets = (*target.secrets, *(creds.secrets() if creds else ()))
    with translated("read the state row", endpoint=target.endpoint, user=target.user, privilege=f"SELECT on {backend.schema_name}.states", secrets=secrets):
        try:
            conn = psycopg.connect(make_conninfo("", **target.connect_params()), autocommit=True)
        except psycopg.Error as exc:
            if is_missing_database(exc):
                return None
            raise
        with conn:
            query = sql.SQL("SELECT data FROM {}.states WHERE name = %s").format(sql.Identifier(backend.schema_name))
            try:
                row = conn.execute(query, (name,)).fetchone()
            except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
                return None
    return None if row is None or row[0] is None else str(row[0]).encode()
