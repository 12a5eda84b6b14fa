"""Redaction of URLs with credentials (issue 16, item 10), backend-type secrets in structures (item 9), and the
warning about ``${VAR}`` in a secret field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner_core.redaction import (
    MASK,
    Redactor,
    literal_env_references,
    mask_url_credentials,
    masker,
    redact_mapping,
    secret_values,
    url_credentials,
)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("http://user:pass@host:9000/x", "http://user:***@host:9000/x"),
        ("Could not connect to the endpoint URL: \"https://ci:S3cr%40t@s3.example/b?x=1\"", "Could not connect to the endpoint URL: \"https://ci:***@s3.example/b?x=1\""),
        ("clone https://ghp_t0kenvalue@github.com/o/r", "clone https://***@github.com/o/r"),  # a lone userinfo is usually a token
        ("http://u:p@ss@host/path?mail=a@b", "http://u:***@host/path?mail=a@b"),  # the last @ before the path ends it
        ("postgresql://admin:pw@db:5432/app and redis://:secret@cache:6379", "postgresql://admin:***@db:5432/app and redis://:***@cache:6379"),
        ("http://host:8080/a@b and user:pass@host", "http://host:8080/a@b and user:pass@host"),  # no userinfo: unchanged
    ],
)
def test_url_credentials_are_masked_in_text(text, masked):
    assert mask_url_credentials(text) == masked
    assert Redactor()(text) == masked


def test_url_passwords_join_the_secrets_decoded_too():
    found = secret_values({"backend": {"endpoints": {"s3": "http://u:S3cr%40t-1@h"}}, "vars": ["x", "https://tok3n-abc@git.example/r"]})
    assert found == {"S3cr%40t-1", "S3cr@t-1", "tok3n-abc"}
    assert Redactor(found)("the server said: bad password S3cr@t-1") == "the server said: bad password ***"
    assert list(url_credentials("no url")) == []


def test_a_secret_added_after_masking_is_masked_next_time_and_the_longest_goes_first():
    redact = Redactor(["abcd"])
    assert redact("x abcdefgh y") == "x ***efgh y"
    redact.add(["abcdefgh", "ab"])  # "ab" is too short to mask in free text
    assert redact("x abcdefgh y abcd ab") == "x *** y *** ab"  # no "***efgh": the longer secret masked first
    redact.add(["abcd"])  # nothing new: the order is kept
    assert redact("abcdefgh") == "***" and bool(redact)


def test_structures_mask_urls_in_every_key_and_exact_values_of_any_length():
    data = {"endpoints": {"s3": "http://a:bcde@h", "sts": "http://h"}, "list": ["x://t0ken@y"], "assume_role": {"external_id": "ab", "role_arn": "arn"}}
    hide = masker(["ab"])
    assert redact_mapping(data, hide) == {
        "endpoints": {"s3": "http://a:***@h", "sts": "http://h"},
        "list": ["x://***@y"],
        "assume_role": {"external_id": MASK, "role_arn": "arn"},
    }
    assert redact_mapping("http://u:p@h") == "http://u:***@h"


@given(st.text(alphabet="ab:/@.%x ", max_size=60), st.text(alphabet="abcdefgh0123456789!$&'()*+,;=", min_size=1, max_size=20))
def test_a_password_in_a_url_never_survives_masking(prefix, password):
    text = f"{prefix} https://user:{password}@host/path"
    assert f"user:{password}@" not in mask_url_credentials(text)


def test_env_references_in_secret_fields_are_found_with_their_names():
    shared = {"password": "${DB_PASSWORD}"}
    sections = {
        "auth": {"providers": {"aws": {"secret_access_key": "${AWS_SECRET}-${SUFFIX}", "access_key_id": "${AKID}"}}},
        "vars": {"db": shared, "again": shared, "note": "${NOT_A_SECRET}", "token": "plain", "api_token": "$HOME"},
    }
    found = sorted(literal_env_references(sections))
    assert found == [("auth.providers.aws.secret_access_key", ("AWS_SECRET", "SUFFIX")), ("vars.again.password", ("DB_PASSWORD",))] or found == [
        ("auth.providers.aws.secret_access_key", ("AWS_SECRET", "SUFFIX")),
        ("vars.db.password", ("DB_PASSWORD",)),
    ]
