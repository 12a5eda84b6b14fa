"""The pure rules (no server): naming, configuration parsing and the merge logic that decides "stronger"."""

from __future__ import annotations

import json

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
    assert options.attempts == 4  # terraform's max_retries counts retries; attempts include the first call
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

    merge = merge_tls_statement(policy, "DenyInsecureTransport", ARN)

    assert merge.policy is not None and merge.how == "add statement DenyInsecureTransport"
    assert merge.policy["Id"] == "p" and merge.policy["Statement"][0] is user and len(merge.policy["Statement"]) == 2
    again = merge_tls_statement(merge.policy, "DenyInsecureTransport", ARN)
    assert again.policy is None and again.how == "enforced by statement DenyInsecureTransport"


def _deny(**changes: object) -> dict[str, object]:
    return {**tls_statement("Theirs", ARN), **changes}


# Each of these denies every request without TLS (1.2 or later) to the bucket and its objects.
COMPLIANT = {
    "ours": [tls_statement("DenyInsecureTransport", ARN)],
    "terragrunt's EnforcedTLS": [_deny(Sid="EnforcedTLS", Principal={"AWS": "*"}, Action=["s3:*"], Condition={"Bool": {"aws:SecureTransport": False}})],
    "every action": [_deny(Action="*")],
    "s3:* among other actions, any case": [_deny(Action=["s3:GetObject", "S3:*"])],
    "every resource": [_deny(Resource="*")],
    "a bucket-name wildcard": [_deny(Resource=ARN + "*")],
    "every bucket": [_deny(Resource="arn:aws:s3:::*")],
    "principal AWS list": [_deny(Principal={"AWS": ["*"]})],
    "BoolIfExists": [_deny(Condition={"BoolIfExists": {"aws:SecureTransport": "false"}})],
    "a condition key in another case": [_deny(Condition={"Bool": {"aws:securetransport": "false"}})],
    "TLS version below 1.2 (a number)": [_deny(Condition={"NumericLessThan": {"s3:TlsVersion": 1.2}})],
    "TLS version below 1.3 (a string)": [_deny(Condition={"NumericLessThan": {"s3:TlsVersion": "1.3"}})],
    "TLS version IfExists": [_deny(Condition={"NumericLessThanIfExists": {"s3:TlsVersion": "1.2"}})],
    "TLS version at most 1.2": [_deny(Condition={"NumericLessThanEquals": {"s3:TlsVersion": "1.2"}})],
    "bucket and objects in two statements": [_deny(Sid="Bucket", Resource=ARN), _deny(Sid="Objects", Resource=ARN + "/*")],
}

# Each of these leaves some request without TLS allowed (or may): never counted as enforcing.
NOT_COMPLIANT = {
    "allow": [_deny(Effect="Allow")],
    "one action": [_deny(Action="s3:GetObject")],
    "objects only": [_deny(Resource=ARN + "/*")],
    "bucket only": [_deny(Resource=ARN)],
    "some objects": [_deny(Resource=[ARN, ARN + "/state/*"])],
    "a wildcard that is not the whole key": [_deny(Resource=[ARN, ARN + "/a*"])],
    "one principal": [_deny(Principal={"AWS": "arn:aws:iam::123456789012:root"})],
    "NotPrincipal": [{k: v for k, v in _deny(NotPrincipal={"AWS": "arn:aws:iam::123456789012:root"}).items() if k != "Principal"}],
    "NotAction": [{k: v for k, v in _deny(NotAction="s3:GetObject").items() if k != "Action"}],
    "NotResource": [{k: v for k, v in _deny(NotResource=ARN + "/public/*").items() if k != "Resource"}],
    "an extra condition": [_deny(Condition={"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:PrincipalAccount": "1"}})],
    "an extra key": [_deny(Condition={"Bool": {"aws:SecureTransport": "false", "aws:ViaAWSService": "false"}})],
    "secure transport true": [_deny(Condition={"Bool": {"aws:SecureTransport": "true"}})],
    "TLS version below 1.1": [_deny(Condition={"NumericLessThan": {"s3:TlsVersion": 1.1}})],
    "TLS version not a number": [_deny(Condition={"NumericLessThan": {"s3:TlsVersion": "one"}})],
    "no condition": [{k: v for k, v in _deny().items() if k != "Condition"}],
}


@pytest.mark.parametrize("name", sorted(COMPLIANT))
def test_what_counts_as_enforcing_tls(name):
    policy = {"Version": "2012-10-17", "Statement": COMPLIANT[name]}

    merge = merge_tls_statement(policy, "DenyInsecureTransport", ARN)

    assert merge.policy is None, name
    assert merge.how.startswith("enforced by statement")


@pytest.mark.parametrize("name", sorted(NOT_COMPLIANT))
def test_what_does_not_count_and_is_kept_as_it_is(name):
    statements = NOT_COMPLIANT[name]
    policy = {"Version": "2012-10-17", "Statement": [json.loads(json.dumps(s)) for s in statements]}

    merge = merge_tls_statement(policy, "DenyInsecureTransport", ARN)

    assert merge.policy is not None
    assert merge.policy["Statement"][:-1] == statements  # every statement kept as it was, in order
    assert merge.policy["Statement"][-1] == tls_statement("DenyInsecureTransport", ARN)


def test_a_statement_that_is_not_ours_under_our_sid_is_kept_and_ours_added_under_another_sid():
    # The case: delete protection under the Sid we use by default.
    protect = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:DeleteBucket", "s3:PutBucketPolicy"],
        "Resource": ARN,
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/admin"}},
    }
    reader = {"Sid": "Readers", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/ci"}, "Action": "s3:GetObject", "Resource": ARN + "/*"}
    policy = {"Version": "2012-10-17", "Statement": [reader, protect]}

    merge = merge_tls_statement(policy, "DenyInsecureTransport", ARN)

    assert merge.policy is not None
    assert merge.policy["Statement"] == [reader, protect, tls_statement("DenyInsecureTransportProvisioner", ARN)]
    assert merge.sid == "DenyInsecureTransportProvisioner"
    assert merge.taken_by == protect
    assert merge.how == "add statement DenyInsecureTransportProvisioner (Sid DenyInsecureTransport belongs to a statement this provisioner did not write; it is kept)"
    again = merge_tls_statement(merge.policy, "DenyInsecureTransport", ARN)
    assert again.policy is None and again.how == "enforced by statement DenyInsecureTransportProvisioner"


def test_the_other_sid_is_never_one_already_taken():
    taken = [_deny(Sid=sid, Action="s3:DeleteBucket") for sid in ("DenyInsecureTransport", "DenyInsecureTransportProvisioner", "denyinsecuretransportprovisioner2")]

    merge = merge_tls_statement({"Statement": taken}, "DenyInsecureTransport", ARN)

    assert merge.policy is not None and merge.policy["Statement"][:3] == taken
    assert merge.sid == "DenyInsecureTransportProvisioner3"


def test_a_stronger_tls_rule_under_our_sid_is_compliant_and_kept():
    stronger = _deny(Sid="DenyInsecureTransport", Condition={"NumericLessThan": {"s3:TlsVersion": 1.2}})

    merge = merge_tls_statement({"Version": "2012-10-17", "Statement": [stronger]}, "DenyInsecureTransport", ARN)

    assert merge.policy is None and merge.how == "enforced by statement DenyInsecureTransport"


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


# --- the pure plans: cases no local server can show -------------------------------------------


def _plan(options: dict, **state: object):  # type: ignore[no-untyped-def]
    from provisioner_backend_s3.plan import BucketState, plan_bucket

    backend, _ = parse_backend({"bucket": "acme-cfn-bucket", "region": "eu-west-1", "use_lockfile": True})
    parsed, _ = parse_options(options, backend)
    return plan_bucket(backend, parsed, BucketState(**state))  # type: ignore[arg-type]


def test_a_bucket_with_aws_system_tags_is_reported_not_retagged():
    # moto refuses to store aws: tags; CloudFormation's buckets carry them.
    plan = _plan({"tags": {"Team": "platform"}}, tags={"aws:cloudformation:stack-name": "state", "Owner": "team-a"})

    assert "put-bucket-tagging" not in [w.verb for w in plan.writes]
    tags = [c for c in plan.changes if c.setting.startswith("tags.")]
    assert {c.setting for c in tags} == {"tags.ManagedBy", "tags.Purpose", "tags.Team"}
    assert all(not c.stronger and "aws: system tags" in c.reason for c in tags)
    assert plan.details["tags"] == plan.found["tags"] == "aws:cloudformation:stack-name=state, Owner=team-a"


def test_a_new_bucket_plans_every_setting_in_order_and_the_planned_result():
    plan = _plan({})

    assert [w.verb for w in plan.writes] == [
        "put-bucket-versioning", "put-bucket-encryption", "put-public-access-block", "put-bucket-ownership-controls", "put-bucket-policy", "put-bucket-tagging",
    ]  # fmt: skip
    assert plan.settings == ("versioning", "encryption", "public_access_block", "ownership_controls", "tls_policy", "tags")
    assert plan.details["versioning"] == "Enabled" and plan.found["versioning"] == "never enabled"
    assert plan.details["tls_policy"] == "statement DenyInsecureTransport denies non-TLS requests" and plan.found["tls_policy"] == "not enforced"


def test_stronger_encryption_is_kept_and_never_written():
    from provisioner_backend_s3.plan import Encryption

    plan = _plan({}, encryption=Encryption("aws:kms:dsse", "key/x", True))

    assert "put-bucket-encryption" not in [w.verb for w in plan.writes]
    (change,) = [c for c in plan.changes if c.setting == "encryption"]
    assert not change.stronger and "dual-layer" in change.reason


def test_a_compliant_bucket_plans_no_write():
    from provisioner_backend_s3.merge import tls_statement
    from provisioner_backend_s3.plan import PAB_FLAGS, Encryption

    policy = {"Statement": [tls_statement("DenyInsecureTransport", "arn:aws:s3:::acme-cfn-bucket")]}
    plan = _plan({}, versioning="Enabled", encryption=Encryption("AES256", None, True), public_access_block=frozenset(PAB_FLAGS),
                 ownership="BucketOwnerEnforced", policy=policy, tags={"ManagedBy": "provisioner", "Purpose": "terraform-state"})  # fmt: skip

    assert plan.writes == () and plan.changes == () and plan.details == plan.found
