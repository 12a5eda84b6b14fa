"""The pure rules (no server): naming, configuration parsing and the merge logic that decides "stronger"."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner_backend_s3.config import parse_backend, parse_duration, parse_options
from provisioner_backend_s3.merge import enforces_tls, merge_tags, merge_tls_statement, same_kms_key, tls_statement
from provisioner_backend_s3.names import validate_bucket_name
from provisioner_core import ConfigError

ARN = "arn:aws:s3:::tfstate"


@pytest.mark.parametrize("name", ["abc", "a" * 63, "acme-tfstate-dev", "acme.tfstate", "1-tfstate-2", "my-s3alias-bucket"])
def test_valid_bucket_names_pass(name):
    validate_bucket_name(name)


@given(st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\Z"))
def test_every_hyphen_name_of_legal_shape_passes_unless_reserved(name):
    reserved = name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(("-s3alias", "--ol-s3", "--x-s3", "--table-s3"))
    if reserved:
        with pytest.raises(ConfigError):
            validate_bucket_name(name)
    else:
        assert validate_bucket_name(name) == []


@pytest.mark.parametrize(("text", "seconds"), [("1h", 3600), ("15m", 900), ("1h30m", 5400), ("900s", 900), ("3600", 3600), (7200, 7200)])
def test_durations_in_terraform_syntax(text, seconds):
    assert parse_duration(text, "d") == seconds


@pytest.mark.parametrize("text", ["5m", "13h", "1d", "soon", True])
def test_bad_durations_are_config_errors(text):
    with pytest.raises(ConfigError):
        parse_duration(text, "d")


def test_backend_parsing_reads_terraform_keys():
    backend, warnings = parse_backend(
        {
            "bucket": "acme-tfstate",
            "key": "a/b.tfstate",
            "region": "eu-central-1",
            "encrypt": "true",
            "kms_key_id": "alias/tf",
            "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/tf", "session_name": "ci", "external_id": "x", "duration": "1h"},
            "endpoints": {"s3": "http://127.0.0.1:9000/", "sts": "https://sts.example"},
            "force_path_style": True,
            "insecure": True,
            "max_retries": 3,
            "skip_credentials_validation": True,
            "skip_region_validation": True,
            "skip_metadata_api_check": True,
            "skip_requesting_account_id": True,
            "skip_s3_checksum": True,
        }
    )

    assert backend.encrypt is True and backend.kms_key_id == "alias/tf"
    assert backend.assume_role is not None and backend.assume_role.duration_s == 3600 and backend.assume_role.session_name == "ci"
    assert backend.endpoints.s3 == "http://127.0.0.1:9000" and backend.endpoints.dynamodb is None
    assert backend.path_style is True and backend.verify is False
    assert warnings == ["backend.insecure is true: TLS certificates of the endpoints are not verified"]  # skip_* flags: silent
    options, option_warnings = parse_options({}, backend)
    assert options.retries == 4  # terraform's max_retries counts retries; botocore counts attempts
    assert any("no state locking configured" in w for w in option_warnings)


def test_partition_follows_the_region():
    assert parse_backend({"bucket": "acme-tf", "region": "cn-north-1"})[0].bucket_arn == "arn:aws-cn:s3:::acme-tf"
    assert parse_backend({"bucket": "acme-tf", "region": "us-gov-west-1"})[0].bucket_arn == "arn:aws-us-gov:s3:::acme-tf"


def test_acl_that_bucket_owner_enforced_refuses_is_warned_about():
    backend, _ = parse_backend({"bucket": "acme-tf", "region": "eu-west-1", "acl": "private", "use_lockfile": True})

    _, warnings = parse_options({}, backend)
    _, skipped = parse_options({"skip": ["ownership_controls"]}, backend)

    assert any("backend.acl 'private'" in w for w in warnings)
    assert not any("backend.acl" in w for w in skipped)


# --- the TLS statement ---------------------------------------------------------------------


def test_our_statement_enforces_tls():
    assert enforces_tls(tls_statement("DenyInsecureTransport", ARN), ARN)


@pytest.mark.parametrize(
    "change",
    [
        {"Effect": "Allow"},
        {"Action": "s3:GetObject"},
        {"Resource": ARN + "/*"},
        {"Principal": {"AWS": "arn:aws:iam::123456789012:root"}},
        {"Condition": {"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:PrincipalAccount": "1"}}},
        {"Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    ],
)
def test_a_narrower_statement_does_not_count(change):
    assert not enforces_tls({**tls_statement("x", ARN), **change}, ARN)


def test_merge_adds_once_and_keeps_everything_else():
    user = {"Sid": "Mine", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": ARN + "/*"}
    policy = {"Version": "2012-10-17", "Id": "p", "Statement": user}  # a single statement, not a list: valid IAM JSON

    merged, how = merge_tls_statement(policy, "DenyInsecureTransport", ARN)

    assert merged is not None and how == "add statement DenyInsecureTransport"
    assert merged["Id"] == "p" and merged["Statement"][0] is user and len(merged["Statement"]) == 2
    again, how_again = merge_tls_statement(merged, "DenyInsecureTransport", ARN)
    assert again is None and how_again == "enforced by statement DenyInsecureTransport"


# --- tags and keys -------------------------------------------------------------------------


@given(
    st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=5), max_size=6),
    st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=5), max_size=6),
)
def test_merged_tags_never_drop_a_key_and_user_values_win(existing, user):
    merged, _ = merge_tags(existing, {"ManagedBy": "provisioner", "Purpose": "terraform-state"}, user)

    assert set(existing) <= set(merged)
    assert all(merged[k] == v for k, v in user.items())
    assert all(merged[k] == v for k, v in existing.items() if k not in user)


@pytest.mark.parametrize(
    ("actual", "desired", "same"),
    [
        ("arn:aws:kms:eu-west-1:123456789012:key/abc", "abc", True),
        ("abc", "arn:aws:kms:eu-west-1:123456789012:key/abc", True),
        ("arn:aws:kms:eu-west-1:123456789012:alias/tf", "alias/tf", True),
        ("arn:aws:kms:eu-west-1:123456789012:key/abc", "def", False),
        ("arn:aws:kms:eu-west-1:123456789012:key/tf", "alias/tf", False),
    ],
)
def test_kms_keys_compare_by_id_arn_or_alias(actual, desired, same):
    assert same_kms_key(actual, desired) is same


# --- a case no local server can show: aws: system tags (moto refuses to store them) -----------


class _FakeS3:
    """Answers the reads of an otherwise compliant bucket whose tags include CloudFormation's."""

    def __init__(self, tags: dict[str, str]) -> None:
        self.tags = tags
        self.writes: list[str] = []

    def get_bucket_tagging(self, Bucket: str) -> dict:  # noqa: N803 - boto3's parameter name
        return {"TagSet": [{"Key": k, "Value": v} for k, v in self.tags.items()]}

    def put_bucket_tagging(self, **kwargs: object) -> None:
        self.writes.append("put-bucket-tagging")


class _FakeClients:
    def __init__(self, s3: _FakeS3) -> None:
        self._s3 = s3

    def s3(self) -> _FakeS3:
        return self._s3

    def describe_endpoint(self, service: str) -> str:
        return "fake"


def test_a_bucket_with_aws_system_tags_is_reported_not_retagged():
    from provisioner_backend_s3.bucket import BucketProvisioner
    from provisioner_core import ChangeRecorder, Resolution

    backend, _ = parse_backend({"bucket": "acme-cfn-bucket", "region": "eu-west-1", "use_lockfile": True})
    options, _ = parse_options({"tags": {"Team": "platform"}}, backend)
    fake = _FakeS3({"aws:cloudformation:stack-name": "state", "Owner": "team-a"})
    rec = ChangeRecorder("s3://acme-cfn-bucket")

    BucketProvisioner(_FakeClients(fake), backend, options, rec).tags(fresh=False)  # type: ignore[arg-type]

    assert fake.writes == []
    assert {d.setting for d in rec.drift} == {"tags.ManagedBy", "tags.Purpose", "tags.Team"}
    assert all(d.resolution is Resolution.KEPT and "aws: system tags" in d.reason for d in rec.drift)
    assert rec.details["tags"] == "aws:cloudformation:stack-name=state, Owner=team-a"
