"""Every error path and its exit code: local validation, real AccessDenied, conflicts, regions, network.

Servers: the shared moto server (behind the recording proxy), and a second moto server with
IAM enforcement on (fixture ``moto_iam``) for real AccessDenied answers.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import boto3
import pytest

from provisioner_core import (
    EXIT_CONFIG,
    EXIT_CONFLICT,
    EXIT_NETWORK,
    EXIT_PERMISSION,
    AuthContext,
    ConfigError,
    NetworkError,
    PermissionDenied,
    ProvisionerError,
    ResourceConflict,
)
from support.s3_helpers import ACCESS_KEY, SECRET_KEY, aws_auth, botocore_sends_tags_with_create, run


def _no_secret(error: ProvisionerError, *secrets: str) -> None:
    text = json.dumps(error.to_dict())
    for secret in (SECRET_KEY, *secrets):
        assert secret not in text


# --- configuration: exit 2, before any call ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("ab", "3 to 63 characters"),
        ("a" * 64, "3 to 63 characters"),
        ("My_Bucket", "only lowercase letters, digits, hyphens and dots"),
        ("-tfstate", "begin and end with a letter or digit"),
        ("tfstate.", "begin and end with a letter or digit"),
        ("tf..state", "two adjacent dots"),
        ("192.168.5.4", "IP address"),
        ("xn--tfstate", "prefix 'xn--' is reserved"),
        ("sthree-tfstate", "prefix 'sthree-' is reserved"),
        ("tfstate-s3alias", "suffix '-s3alias' is reserved"),
        ("tfstate--ol-s3", "suffix '--ol-s3' is reserved"),
    ],
)
def test_an_invalid_bucket_name_fails_before_any_call(proxy, backend_for, name, rule):
    with pytest.raises(ConfigError) as caught:
        run(backend_for(name))

    assert caught.value.exit_code == EXIT_CONFIG
    assert rule in caught.value.message and repr(name) in caught.value.message
    assert proxy.calls == []


def test_a_dotted_bucket_name_is_allowed_with_a_warning(proxy, backend_for, bucket):
    result = run(backend_for(bucket.replace("-", ".", 1)), dry_run=True)

    assert any("contains dots" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bucket": None}, "backend.bucket is required"),
        ({"region": None}, "backend.region is required"),
        ({"region": "eu-west1"}, "does not look like an AWS region"),
        ({"dynamodb_table": "x"}, "not a valid DynamoDB table name"),
        ({"assume_role": {"role_arn": "not-an-arn"}}, "is not an IAM role ARN"),
        ({"assume_role": {"role_arn": "arn:aws:iam::123456789012:role/tf", "duration": "13h"}}, "between 15m and 12h"),
        ({"endpoints": {"s3": "localhost:9000"}}, "must be an http(s) URL"),
        ({"use_path_style": "yes"}, "must be true or false"),
    ],
)
def test_backend_configuration_errors_exit_2_before_any_call(proxy, backend_for, bucket, change, message):
    section = {**backend_for(bucket), **change}

    with pytest.raises(ConfigError) as caught:
        run({k: v for k, v in section.items() if v is not None})

    assert caught.value.exit_code == EXIT_CONFIG
    assert message in caught.value.message
    assert proxy.calls == []


@pytest.mark.parametrize(
    ("options", "message", "hint"),
    [
        ({"skip": ["versionning"]}, "unknown value 'versionning'", "Did you mean 'versioning'?"),
        ({"attempts": "five"}, "attempts must be an integer", ""),
        ({"attempts": 0}, "between 1 and 20", ""),
        ({"retries": 0}, "retries must be between 1 and 20", ""),  # the deprecated name is checked the same way
        ({"retries": 3, "attempts": 3}, "sets both attempts and retries", ""),
        ({"tags": {"aws:team": "x"}}, "the 'aws:' prefix is reserved", ""),
        ({"report_only": "yes"}, "report_only must be true or false", ""),
    ],
)
def test_option_errors_exit_2(proxy, backend_for, bucket, options, message, hint):
    with pytest.raises(ConfigError) as caught:
        run(backend_for(bucket), options)

    assert caught.value.exit_code == EXIT_CONFIG
    assert message in caught.value.message
    assert hint in " ".join(caught.value.hints)
    assert proxy.calls == []


def test_unknown_keys_are_warnings_with_the_closest_key(proxy, backend_for, bucket):
    result = run({**backend_for(bucket), "dynamo_table": "x"}, {"tag": {"a": "b"}}, dry_run=True)

    assert any("provision.backend.tag is not a known option" in w and "'tags'" in w for w in result.warnings)
    assert any("backend.dynamo_table" in w and "'dynamodb_table'" in w for w in result.warnings)


def test_terraform_credential_keys_are_ignored_and_never_echoed(proxy, backend_for, bucket):
    result = run({**backend_for(bucket), "secret_key": "tf-only-secret-value", "access_key": "AKIATFONLY"}, dry_run=True)

    assert any("backend.secret_key is also the provisioner's credential" in w for w in result.warnings)
    assert "tf-only-secret-value" not in json.dumps(result.to_dict())


def test_no_aws_credentials_is_a_config_error(proxy, backend_for, bucket):
    with pytest.raises(ConfigError) as caught:
        run(backend_for(bucket), auth=AuthContext({}))

    assert caught.value.exit_code == EXIT_CONFIG
    assert "no 'aws' credentials" in caught.value.message
    assert proxy.calls == []


def test_report_only_with_a_missing_bucket_is_a_config_error(proxy, backend_for, bucket):
    with pytest.raises(ConfigError) as caught:
        run(backend_for(bucket), {"report_only": True})

    assert caught.value.exit_code == EXIT_CONFIG
    assert "report_only never creates" in caught.value.hints[0]
    assert proxy.writes() == []


# --- against the server --------------------------------------------------------------------


def test_a_bucket_in_another_region_names_both_regions(proxy, admin, backend_for, bucket):
    admin().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    with pytest.raises(ConfigError) as caught:
        run(backend_for(bucket, region="us-west-2"))

    assert caught.value.exit_code == EXIT_CONFIG
    assert "is in region eu-west-1, but backend.region is us-west-2" in caught.value.message
    assert proxy.writes() == []


def test_a_name_taken_by_another_account_is_a_conflict(proxy, moto, backend_for, bucket):
    # Another account (reached through moto's STS) owns the name.
    sts = boto3.client(
        "sts", region_name="eu-west-1", endpoint_url=moto.url, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
    )
    other = sts.assume_role(RoleArn="arn:aws:iam::111111111111:role/other-team", RoleSessionName="other")["Credentials"]
    boto3.client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=moto.url,
        aws_access_key_id=other["AccessKeyId"],
        aws_secret_access_key=other["SecretAccessKey"],
        aws_session_token=other["SessionToken"],
    ).create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    # AWS answers HeadBucket on another account's bucket with 403; moto answers 200 (it does not
    # separate accounts there), so take the path where the name was taken after our HeadBucket.
    proxy.fail("HEAD (bucket)", 404, "NotFound")

    with pytest.raises(ResourceConflict) as caught:
        run(backend_for(bucket))

    assert caught.value.exit_code == EXIT_CONFLICT
    assert "already taken by another AWS account" in caught.value.message
    assert [c.operation for c in proxy.writes()] == ["PUT (bucket)"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_endpoint_is_a_network_error_naming_it(backend_for, bucket):
    endpoint = f"http://127.0.0.1:{_closed_port()}"

    with pytest.raises(NetworkError) as caught:
        run(backend_for(bucket, endpoints={"s3": endpoint}), {"attempts": 1, "connect_timeout": 1})

    assert caught.value.exit_code == EXIT_NETWORK
    assert endpoint in caught.value.message and endpoint in " ".join(caught.value.hints)
    assert caught.value.context["step"] == "head-bucket"


def test_a_slow_endpoint_times_out_as_a_network_error(proxy, backend_for, bucket):
    proxy.delay_s = 2.5

    with pytest.raises(NetworkError) as caught:
        run(backend_for(bucket), {"attempts": 1, "read_timeout": 1})

    assert caught.value.exit_code == EXIT_NETWORK
    assert "timed out" in caught.value.message and proxy.url in caught.value.message


# --- real AccessDenied from moto's IAM enforcement -----------------------------------------


def _iam_backend(server: Any, bucket: str, **extra: Any) -> dict[str, Any]:
    return {
        "bucket": bucket,
        "region": "eu-west-1",
        "use_lockfile": True,
        "use_path_style": True,
        "endpoints": {"s3": server.url, "dynamodb": server.url, "sts": server.url},
        **extra,
    }


def _as(keys: dict[str, tuple[str, str]], user: str) -> AuthContext:
    return aws_auth(*keys[user])


def test_access_denied_on_head_bucket_lists_the_action(moto_iam, bucket):
    server, keys = moto_iam

    with pytest.raises(PermissionDenied) as caught:
        run(_iam_backend(server, bucket), auth=_as(keys, "nobody"))

    error = caught.value
    assert error.exit_code == EXIT_PERMISSION
    assert error.context["step"] == "head-bucket"
    assert "s3:ListBucket" in error.hints[0]
    assert any("another account" in h for h in error.hints)
    _no_secret(error, keys["nobody"][1])


def test_access_denied_on_a_write_names_that_step_and_its_action(moto_iam, bucket):
    server, keys = moto_iam

    with pytest.raises(PermissionDenied) as caught:
        run(_iam_backend(server, bucket), auth=_as(keys, "creator"))

    error = caught.value
    assert error.exit_code == EXIT_PERMISSION
    assert error.context["step"] == "put-bucket-versioning"
    assert "s3:PutBucketVersioning" in error.hints[0]
    assert "versioning to provision.backend.skip" in error.hints[1]
    _no_secret(error, keys["creator"][1])


def test_a_denied_read_can_be_skipped(moto_iam, bucket):
    server, keys = moto_iam
    s3 = boto3.client(
        "s3", region_name="eu-west-1", endpoint_url=server.url, aws_access_key_id=keys["admin"][0], aws_secret_access_key=keys["admin"][1]
    )
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    run(_iam_backend(server, bucket), {"skip": ["tls_policy"]}, auth=_as(keys, "admin"))

    with pytest.raises(PermissionDenied) as caught:
        run(_iam_backend(server, bucket), {"report_only": True}, auth=_as(keys, "no_policy_read"))
    result = run(_iam_backend(server, bucket), {"report_only": True, "skip": ["tls_policy"]}, auth=_as(keys, "no_policy_read"))

    assert caught.value.context["step"] == "get-bucket-policy"
    assert "tls_policy to provision.backend.skip" in " ".join(caught.value.hints)
    assert result.drift == ()


def test_access_denied_on_dynamodb_names_the_table_action(moto_iam, bucket, table):
    server, keys = moto_iam

    with pytest.raises(PermissionDenied) as caught:
        run(_iam_backend(server, bucket, dynamodb_table=table), {"skip": ["tls_policy"]}, auth=_as(keys, "s3_only"))

    assert caught.value.context["step"] == "describe-table"
    assert "dynamodb:DescribeTable" in caught.value.hints[0]


def test_assume_role_denied_names_sts_assume_role(moto_iam, bucket):
    server, keys = moto_iam
    section = _iam_backend(server, bucket, assume_role={"role_arn": "arn:aws:iam::123456789012:role/terraform", "external_id": "ext-id-1"})

    with pytest.raises(PermissionDenied) as caught:
        run(section, auth=_as(keys, "s3_only"))

    assert caught.value.context["step"] == "assume role"
    assert "sts:AssumeRole" in caught.value.hints[0]
    _no_secret(caught.value, keys["s3_only"][1], "ext-id-1")


def test_unknown_access_key_is_a_permission_error(moto_iam, bucket):
    server, _ = moto_iam

    with pytest.raises(PermissionDenied) as caught:
        run(_iam_backend(server, bucket), auth=aws_auth("AKIAUNKNOWNUNKNOWN00", "wrong-secret-value"))

    assert caught.value.exit_code == EXIT_PERMISSION
    _no_secret(caught.value, "wrong-secret-value")


def test_an_unknown_key_on_the_bodiless_head_403_is_said_as_rejected_credentials_not_a_missing_grant(moto_iam, bucket):
    # HeadBucket's 403 has no body; sts:GetCallerIdentity (asked only now) says the key is unknown.
    server, _ = moto_iam

    with pytest.raises(PermissionDenied) as caught:
        run(_iam_backend(server, bucket), auth=aws_auth("AKIAUNKNOWNUNKNOWN00", "wrong-secret-value"))

    error = caught.value
    assert error.message.startswith("head-bucket: AWS rejected the credentials of access key AKIAUNKNOWNUNKNOWN00: InvalidClientTokenId")
    assert "s3:ListBucket" not in " ".join(error.hints) and "auth.providers.aws" in error.hints[0]
    assert error.context["identity"] == "access key AKIAUNKNOWNUNKNOWN00"


def test_a_wrong_secret_for_a_known_key_is_said_as_rejected_credentials(moto_iam, bucket):
    server, keys = moto_iam

    with pytest.raises(PermissionDenied) as caught:
        run(_iam_backend(server, bucket), auth=aws_auth(keys["admin"][0], "not-the-secret-of-this-key"))

    assert f"AWS rejected the credentials of access key {keys['admin'][0]}: SignatureDoesNotMatch" in caught.value.message
    _no_secret(caught.value, "not-the-secret-of-this-key", keys["admin"][1])


def test_a_denied_head_names_the_identity_that_was_denied(moto_iam, bucket):
    server, keys = moto_iam

    with pytest.raises(PermissionDenied) as caught:
        run(_iam_backend(server, bucket), auth=_as(keys, "nobody"))

    assert caught.value.message.startswith("head-bucket: access denied (403)")
    assert caught.value.message.endswith(" as arn:aws:iam::123456789012:user/nobody")
    assert "s3:ListBucket" in caught.value.hints[0]


def test_without_an_sts_endpoint_an_s3_compatible_store_is_not_asked_who_we_are(moto_iam, bucket):
    server, _ = moto_iam
    section = _iam_backend(server, bucket)
    section["endpoints"] = {"s3": server.url}  # a store with S3 only: STS would be AWS's, so it is not called

    with pytest.raises(PermissionDenied) as caught:
        run(section, auth=aws_auth("AKIAUNKNOWNUNKNOWN00", "wrong-secret-value"))

    assert caught.value.message.startswith("head-bucket: access denied (403)") and " as " not in caught.value.message
    assert "s3:ListBucket" in caught.value.hints[0]


def test_a_body_that_says_the_key_is_unknown_names_the_key(proxy, backend_for, bucket, admin):
    admin().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    proxy.fail("GET versioning", 403, "InvalidAccessKeyId")

    with pytest.raises(PermissionDenied) as caught:
        run(backend_for(bucket), {"attempts": 1})

    assert caught.value.message.startswith(f"get-bucket-versioning: AWS rejected the credentials of access key {ACCESS_KEY}: InvalidAccessKeyId")
    assert not [c for c in proxy.calls if c.service == "sts"]  # the body said it: no need to ask STS


# --- faults a local server cannot produce, injected by the recording proxy in front of moto ---


def test_a_transient_503_is_retried_and_the_run_succeeds(proxy, backend_for, bucket):
    proxy.fail("PUT versioning", 503, "SlowDown", times=2)

    result = run(backend_for(bucket), {"attempts": 3})

    assert result.status.value == "created"
    assert [c.operation for c in proxy.calls].count("PUT versioning") == 3  # two refused, the third stored


def test_throttling_after_the_last_attempt_is_a_network_error(proxy, backend_for, bucket):
    proxy.fail("PUT versioning", 503, "SlowDown", times=10)

    with pytest.raises(NetworkError) as caught:
        run(backend_for(bucket), {"attempts": 2})

    assert caught.value.exit_code == EXIT_NETWORK
    assert "SlowDown" in caught.value.message and "provision.backend.attempts" in caught.value.hints[0]
    assert [c.operation for c in proxy.calls].count("PUT versioning") == 2


def test_operation_aborted_on_create_is_a_concurrent_create(proxy, admin, backend_for, bucket):
    # AWS answers OperationAborted while another request is creating the same bucket.
    proxy.fail("PUT (bucket)", 409, "OperationAborted")
    admin().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    proxy.fail("HEAD (bucket)", 404, "NotFound")  # our HeadBucket ran before the other create finished

    result = run(backend_for(bucket))

    assert result.status.value == "updated"
    assert "concurrent" in result.actions[0].detail


def test_a_store_without_a_feature_exits_2_naming_the_skip(proxy, backend_for, bucket):
    proxy.fail("PUT publicAccessBlock", 501, "NotImplemented")

    with pytest.raises(ConfigError) as caught:
        run(backend_for(bucket), {"attempts": 1})

    assert caught.value.exit_code == EXIT_CONFIG
    assert "add public_access_block to provision.backend.skip" in caught.value.hints[0]


@pytest.mark.skipif(not botocore_sends_tags_with_create(), reason="this botocore never sends tags in CreateBucket")
def test_tags_refused_in_create_are_put_after_it(proxy, admin, backend_for, bucket):
    proxy.fail("PUT (bucket)", 400, "MalformedXML")

    result = run(backend_for(bucket), {"attempts": 1})

    assert [c.operation for c in proxy.calls].count("PUT (bucket)") == 2
    assert any("refused tags in CreateBucket" in w for w in result.warnings)
    assert admin().get_bucket_tagging(Bucket=bucket)["TagSet"]


def test_dynamodb_throttling_is_a_network_error(proxy, backend_for, bucket, table):
    proxy.fail("DescribeTable", 400, "ThrottlingException", times=10)

    with pytest.raises(NetworkError) as caught:
        run(backend_for(bucket, dynamodb_table=table), {"attempts": 2})

    assert caught.value.context["step"] == "describe-table"


def test_an_unforeseen_aws_error_is_exit_1_with_the_step_and_code(proxy, backend_for, bucket):
    proxy.fail("GET (bucket)", 400, "SomethingNew")
    proxy.fail("HEAD (bucket)", 400, "SomethingNew")

    with pytest.raises(ProvisionerError) as caught:
        run(backend_for(bucket), {"attempts": 1})

    assert type(caught.value) is ProvisionerError and caught.value.exit_code == 1
    assert caught.value.message.startswith("head-bucket: AWS error")


def test_acls_that_cannot_be_disabled_are_a_conflict_naming_the_skip(proxy, admin, backend_for, bucket):
    # AWS refuses BucketOwnerEnforced while the bucket ACL grants access to others.
    admin().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    proxy.fail("PUT ownershipControls", 400, "InvalidBucketAclWithObjectOwnership")

    with pytest.raises(ResourceConflict) as caught:
        run(backend_for(bucket), {"attempts": 1})

    assert caught.value.exit_code == EXIT_CONFLICT
    assert "ownership_controls to provision.backend.skip" in caught.value.hints[0]
