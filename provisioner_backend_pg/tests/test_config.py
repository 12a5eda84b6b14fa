"""Configuration, credentials and connection strings (no server): exit 2 before any connection, no password in any text."""

from __future__ import annotations

import os
import stat

import pytest

from provisioner_backend_pg.config import NO_PASSFILE, PgBackend, connection_target, parse_backend, parse_options
from provisioner_backend_pg.conninfo import mask_password, passwords_in, scrub
from provisioner_backend_pg.credentials import PostgresCredentials, build
from provisioner_core import ConfigError

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("conn_str", "expected"),
    [
        (
            f"postgres://admin:{SECRET}@db.internal:6432/tfstate?sslmode=verify-full",
            {"host": "db.internal", "port": "6432", "dbname": "tfstate", "user": "admin", "sslmode": "verify-full"},
        ),
        (
            "postgresql://admin:s3cr3t%2FPa55@10.1.2.3/tfstate",
            {"host": "10.1.2.3", "dbname": "tfstate", "user": "admin", "password": "s3cr3t/Pa55"},
        ),
        (
            f"host=db.internal port=6432 dbname=tfstate user=admin password='{SECRET}' sslmode=require",
            {"host": "db.internal", "port": "6432", "password": SECRET},
        ),
    ],
)
def test_both_connection_string_forms_are_read_by_libpq(conn_str, expected):
    backend, warnings = parse_backend({"conn_str": conn_str})
    target = connection_target(backend, None, warnings)

    assert {k: target.params[k] for k in expected} == expected
    assert warnings == []
    assert "s3cr3t" not in repr(backend) + repr(target) + target.display()


@pytest.mark.parametrize(
    ("conn_str", "fragment"),
    [
        (f"postgres://admin:{SECRET}@db/tfstate?sslmod=require", "sslmod"),
        (f"host=db dbname=tfstate password={SECRET} bogus=1", "bogus"),
        (f"host=db dbname=tfstate password='{SECRET}", "unterminated"),
        ("postgres://admin@db:notaport/tfstate", "port"),
    ],
)
def test_a_bad_connection_string_is_exit_2_without_its_password(conn_str, fragment):
    with pytest.raises(ConfigError) as caught:
        parse_backend({"conn_str": conn_str})

    error = caught.value
    assert error.exit_code == 2 and fragment in error.message.lower()
    assert SECRET not in error.message + " ".join(error.hints) + repr(error.context)
    assert error.hints


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"conn_str": 5432}, "conn_str must be a string"),
        ({"conn_str": "host=db dbname=x", "schema_name": ["a"]}, "schema_name must be a string"),
        ({"conn_str": "host=db dbname=x", "schema_name": "pg_state"}, "reserves for system schemas"),
        ({"conn_str": "host=db dbname=x", "schema_name": "s" * 64}, "longer than 63 bytes"),
        ({"conn_str": "host=db dbname=x", "skip_table_creation": "yes"}, "skip_table_creation must be true or false"),
        ({"conn_str": "host=db dbname=x", "skip_index_creation": 1}, "skip_index_creation must be true or false"),
    ],
)
def test_wrong_types_and_names_are_exit_2(section, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_backend(section)


def test_terraform_string_booleans_and_defaults():
    backend, warnings = parse_backend({"conn_str": "host=db dbname=x", "skip_schema_creation": "true", "skip_tabel_creation": True})

    assert backend == PgBackend(conn_str="host=db dbname=x", schema_name="terraform_remote_state", skip_schema_creation=True)
    assert warnings == ["backend.skip_tabel_creation is not a setting of terraform's pg backend; did you mean 'skip_table_creation'?"]


def test_options_are_typed_and_unknown_keys_are_warned():
    backend = PgBackend(conn_str="host=db dbname=x", skip_table_creation=True, skip_index_creation=True)

    options, warnings = parse_options({"grant_to": "tf_runner", "revoke_public_conect": True, "connect_timeout": 3}, backend)

    assert options.grant_to == "tf_runner" and options.connect_timeout_s == 3 and not options.revoke_public_connect
    assert warnings == [
        "provision.backend.revoke_public_conect is not a known option and was ignored; did you mean 'revoke_public_connect'?"
    ]
    with pytest.raises(ConfigError, match="grant_to must be a string"):
        parse_options({"grant_to": ["a"]}, backend)
    with pytest.raises(ConfigError, match="connect_timeout must be an integer"):
        parse_options({"connect_timeout": "10s"}, backend)
    with pytest.raises(ConfigError, match="not a role terraform can log in as"):
        parse_options({"grant_to": "PUBLIC"}, backend)


def test_grant_to_with_terraform_creating_tables_is_warned():
    _, warnings = parse_options({"grant_to": "tf_runner"}, PgBackend(conn_str="host=db dbname=x"))

    assert len(warnings) == 1 and "skip_table_creation and backend.skip_index_creation are not true" in warnings[0]


def test_tls_is_required_off_loopback_and_plaintext_is_warned():
    remote, _ = parse_backend({"conn_str": "postgres://u@db.example.com/tfstate"})
    local, _ = parse_backend({"conn_str": "postgres://u@127.0.0.1/tfstate?sslmode=disable"})
    insecure, _ = parse_backend({"conn_str": "postgres://u@db.example.com/tfstate?sslmode=disable"})
    warnings: list[str] = []

    assert connection_target(remote, None, warnings).params["sslmode"] == "require"
    assert connection_target(local, None, warnings).params["sslmode"] == "disable"
    assert warnings == []
    assert connection_target(insecure, None, warnings).params["sslmode"] == "disable"
    assert len(warnings) == 1 and "sslmode=disable" in warnings[0] and "unencrypted" in warnings[0]


def test_a_connection_string_without_database_or_at_all_is_exit_2():
    with pytest.raises(ConfigError, match="names no database"):
        connection_target(parse_backend({"conn_str": "host=db user=u"})[0], None, [])
    with pytest.raises(ConfigError, match="conn_str is required"):
        connection_target(parse_backend({})[0], None, [])


def test_libpq_never_reads_pgpassword_or_pgpass_unless_the_credentials_are_env():
    backend, _ = parse_backend({"conn_str": "host=db dbname=x user=u"})

    plain = connection_target(backend, None, []).connect_params()
    env = connection_target(backend, build("env", {"type": "env"}, environ={"PGPASSWORD": SECRET}), []).connect_params()

    assert plain["password"] == "" and plain["passfile"] == NO_PASSFILE
    assert env["password"] == SECRET and "passfile" not in env


# --- credentials --------------------------------------------------------------------------


def test_credentials_override_the_backend_user_and_password():
    backend, _ = parse_backend({"conn_str": "postgres://tf_runner:runner-pw@db.internal/tfstate"})

    target = connection_target(backend, build("password", {"type": "password", "user": "admin", "password": SECRET}), [])
    by_string = connection_target(backend, build("conn-string", {"type": "conn-string", "conn_str": f"user=admin password={SECRET}"}), [])

    for t in (target, by_string):
        assert (t.params["user"], t.params["password"], t.params["host"], t.dbname) == ("admin", SECRET, "db.internal", "tfstate")


def test_env_credentials_only_fill_what_the_connection_string_leaves_out():
    backend, _ = parse_backend({"conn_str": "postgres://tf_runner@db.internal/tfstate"})
    creds = build("env", {"type": "env"}, environ={"PGUSER": "other", "PGPASSWORD": SECRET, "PGPORT": "6543", "HOME": "/x"})

    target = connection_target(backend, creds, [])

    assert (target.params["user"], target.params["password"], target.params["port"]) == ("tf_runner", SECRET, "6543")
    assert target.ambient


def test_password_file_credentials(tmp_path):
    secret_file = tmp_path / "pw"
    secret_file.write_text(SECRET + "\n")
    os.chmod(secret_file, stat.S_IRUSR)

    creds = build("password-file", {"type": "password-file", "password_file": str(secret_file), "user": "admin"})

    assert creds.password == SECRET and creds.user == "admin"
    with pytest.raises(ConfigError, match="cannot be read"):
        build("password-file", {"type": "password-file", "password_file": str(tmp_path / "missing")})
    (tmp_path / "two").write_text("a\nb\n")
    with pytest.raises(ConfigError, match="exactly one line"):
        build("password-file", {"type": "password-file", "password_file": str(tmp_path / "two")})


@pytest.mark.parametrize(
    ("provider_type", "settings", "fragment"),
    [
        ("passwd", {}, "Did you mean 'password'?"),
        ("password", {"user": "u"}, "missing password"),
        ("password", {"password": "x", "usr": "u"}, "Did you mean 'user'?"),
        ("conn-string", {"conn_str": ["x"]}, "conn_str must be a string"),
        ("password", {"password": "x", "for_terraform": "no"}, "for_terraform must be true or false"),
    ],
)
def test_bad_credential_settings_are_exit_2(provider_type, settings, fragment):
    with pytest.raises(ConfigError) as caught:
        build(provider_type, {"type": provider_type, **settings})

    assert fragment in caught.value.message + " ".join(caught.value.hints)


def test_credentials_hide_secrets_and_fingerprint_without_them():
    creds = build("conn-string", {"type": "conn-string", "conn_str": f"postgres://admin:{SECRET}@db/tfstate"})
    other = build("conn-string", {"type": "conn-string", "conn_str": "postgres://admin:another@db/tfstate"})

    assert SECRET not in repr(creds)
    assert SECRET in creds.secrets() and creds.conn_str in creds.secrets()
    assert creds.fingerprint() == build("conn-string", {"type": "conn-string", "conn_str": creds.conn_str}).fingerprint()
    assert creds.fingerprint() != other.fingerprint() and SECRET not in creds.fingerprint()
    assert creds.terraform_env() == {"PG_CONN_STR": creds.conn_str}


def test_terraform_env_of_each_type():
    password = build("password", {"type": "password", "user": "admin", "password": SECRET})
    private = build("password", {"type": "password", "password": SECRET, "for_terraform": False})

    assert password.terraform_env() == {"PGUSER": "admin", "PGPASSWORD": SECRET}
    assert private.terraform_env() == {}
    assert isinstance(password, PostgresCredentials)


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgres://admin:pa%40ss@db:5432/x?sslmode=require", "postgres://admin:***@db:5432/x?sslmode=require"),
        ("postgres://db/x?user=a&password=pa55&sslmode=require", "postgres://db/x?user=a&password=***&sslmode=require"),
        ("host=db password='it''s secret' dbname=x", "host=db password=*** dbname=x"),
        ("host=db password = 'with \\' quote' dbname=x", "host=db password = *** dbname=x"),
        ("host=db PASSWORD=plain dbname=x", "host=db PASSWORD=*** dbname=x"),
        ("postgres://admin@db/x", "postgres://admin@db/x"),
    ],
)
def test_passwords_are_masked_in_both_forms(text, masked):
    assert mask_password(text) == masked


def test_passwords_in_finds_the_decoded_forms():
    assert "pa@ss" in passwords_in("postgres://admin:pa%40ss@db/x")
    assert "with ' quote" in passwords_in("host=db password='with \\' quote'")
    assert scrub("said pa55 twice: pa55", ["pa55"]) == "said *** twice: ***"
