"""Unit tests (no server): bucket/label naming rules and configuration parsing -> exit 2."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner_backend_gcs.config import DEFAULT_ENDPOINT, normalise_endpoint, parse
from provisioner_backend_gcs.names import bucket_name_problem, check_bucket_name, label_problem
from provisioner_core import EXIT_CONFIG, ConfigError


@pytest.mark.parametrize(
    "name",
    ["abc", "tf-state_01", "a" * 63, "my.bucket.example", ".".join(["a" * 63] * 3) + ".abcd", "0start", "end9"],
)
def test_valid_bucket_names_pass(name: str) -> None:
    assert bucket_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("Upper-case", "lowercase"),
        ("has space", "lowercase"),
        ("-dash-start", "start and end"),
        ("ends-with_", "start and end"),
        ("a..b", "non-empty parts"),
        ("a." + "b" * 64 + ".c", "at most 63"),
        (".".join(["a" * 60] * 4), "222"),
        ("192.168.5.4", "IP address"),
        ("goog-state", "'goog' prefix"),
        ("my-google-bucket", "google"),
        ("my-g00gle-bucket", "google"),
        ("gs://tf-state", "gs://"),
    ],
)
def test_invalid_bucket_names_name_the_rule(name: str, rule: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_bucket_name(name)
    assert info.value.exit_code == EXIT_CONFIG
    assert rule in info.value.message


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=240))
def test_name_validation_never_crashes_and_accepts_only_safe_shapes(name: str) -> None:
    problem = bucket_name_problem(name)
    if problem is None:
        assert name[0].isalnum() and name[-1].isalnum()
        assert 3 <= len(name) <= (222 if "." in name else 63)
        assert "goog" not in name[:4] and "google" not in name


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [("team", "platform", True), ("env", "", True), ("Team", "x", False), ("team", "Platform", False), ("1team", "x", False), ("t", "a" * 64, False), ("équipe", "données", True)],
)
def test_label_rules(key: str, value: str, ok: bool) -> None:
    assert (label_problem(key, value) is None) is ok


def test_endpoint_normalisation_accepts_terraform_form() -> None:
    assert normalise_endpoint("http://127.0.0.1:4443/storage/v1/") == "http://127.0.0.1:4443"
    assert normalise_endpoint("http://127.0.0.1:4443") == "http://127.0.0.1:4443"
    assert normalise_endpoint("https://storage-foo.p.googleapis.com/storage/v1") == "https://storage-foo.p.googleapis.com"
    with pytest.raises(ConfigError):
        normalise_endpoint("127.0.0.1:4443")


def test_default_endpoint_is_explicit_so_environment_cannot_redirect_it() -> None:
    config = parse({"bucket": "tf-state-a"}, {})
    assert config.backend.endpoint == DEFAULT_ENDPOINT
    assert config.backend.custom_endpoint is False


def test_bucket_is_required() -> None:
    with pytest.raises(ConfigError, match="backend.gcs.bucket is required"):
        parse({"prefix": "x"}, {})


def test_kms_and_customer_key_together_is_a_config_error_without_leaking_the_key() -> None:
    secret = "c2VjcmV0LWtleS1ieXRlcy0zMi1sb25nLXNlY3JldCE="
    with pytest.raises(ConfigError) as info:
        parse({"bucket": "tf-state-a", "encryption_key": secret, "kms_encryption_key": "projects/p/locations/eu/keyRings/r/cryptoKeys/k"}, {})
    assert secret not in str(info.value.to_dict())


def test_customer_supplied_key_value_is_never_kept() -> None:
    secret = "c2VjcmV0LWtleS1ieXRlcy0zMi1sb25nLXNlY3JldCE="
    config = parse({"bucket": "tf-state-a", "encryption_key": secret, "access_token": "ya29.secret"}, {})
    assert config.backend.customer_supplied_key is True
    assert secret not in repr(config) and "ya29.secret" not in repr(config)


def test_retention_with_versioning_is_refused_with_a_hint() -> None:
    with pytest.raises(ConfigError) as info:
        parse({"bucket": "tf-state-a"}, {"retention_days": 7})
    assert "versioning" in info.value.message and any("skip: [versioning]" in h for h in info.value.hints)
    config = parse({"bucket": "tf-state-a"}, {"retention_days": 7, "skip": ["versioning"]})
    assert config.options.retention_seconds == 7 * 86400


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"skip": ["versoning"]}, "Did you mean 'versioning'"),
        ({"soft_delete_days": 3}, "between 7 and 90"),
        ({"soft_delete_days": 0}, "between 7 and 90"),
        ({"attempts": 0}, "between 1 and 10"),
        ({"retries": 0}, "between 1 and 10"),  # the deprecated name of attempts, checked the same way
        ({"labels": {"Team": "a"}}, "lowercase"),
        ({"tags": {"Team": "a"}}, "provision.backend.tags.Team"),
        ({"tags": {"team": "a"}, "labels": {"team": "a"}}, "sets both tags and labels"),
        ({"kms_key": "my-key"}, "Cloud KMS key name"),
        ({"report_only": "yes"}, "true or false"),
    ],
)
def test_bad_options_are_config_errors(options: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse({"bucket": "tf-state-a"}, options)
    assert fragment in info.value.message + " ".join(info.value.hints)


def test_tags_and_labels_are_one_option_and_retries_is_the_old_name_of_attempts() -> None:
    by_labels = parse({"bucket": "tf-state-a"}, {"labels": {"team": "a"}, "skip": ["labels"], "retries": 4})
    by_tags = parse({"bucket": "tf-state-a"}, {"tags": {"team": "a"}, "skip": ["tags"], "attempts": 4})
    assert by_labels.options == by_tags.options and by_tags.desired_labels()["team"] == "a" and not by_tags.options.wants("tags")
    assert by_tags.warnings == () and any("retries is deprecated: write `attempts: 4`" in w for w in by_labels.warnings)


def test_unknown_keys_warn_with_the_closest_name() -> None:
    config = parse({"bucket": "tf-state-a", "prefixx": "a"}, {"lables": {"a": "b"}, "enabled": True, "timeout": 30})
    assert any("backend.gcs.prefixx" in w and "'prefix'" in w for w in config.warnings)
    assert any("provision.backend.lables" in w and "'labels'" in w for w in config.warnings)
    assert not any("timeout" in w or "enabled" in w for w in config.warnings)


def test_plain_http_to_a_remote_host_warns() -> None:
    config = parse({"bucket": "tf-state-a", "storage_custom_endpoint": "http://storage.internal:8080/storage/v1/"}, {})
    assert any("unencrypted" in w for w in config.warnings)
    assert not parse({"bucket": "tf-state-a", "storage_custom_endpoint": "http://127.0.0.1:8080/storage/v1/"}, {}).warnings


def test_terraform_object_kms_key_becomes_the_bucket_default_unless_skipped() -> None:
    key = "projects/p/locations/eu/keyRings/r/cryptoKeys/k"
    assert parse({"bucket": "tf-state-a", "kms_encryption_key": key}, {}).bucket_kms_key == key
    assert parse({"bucket": "tf-state-a", "kms_encryption_key": key}, {"skip": ["kms"]}).bucket_kms_key is None
    other = "projects/p/locations/eu/keyRings/r/cryptoKeys/other"
    assert parse({"bucket": "tf-state-a", "kms_encryption_key": key}, {"kms_key": other}).bucket_kms_key == other
