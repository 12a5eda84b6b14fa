"""Fixtures: a real moto server over HTTP (session scope) and a recording proxy in front of it.

Every test gets unique bucket and table names, so the tests share one server without resets.
"""

from __future__ import annotations

import sys

# pytest's importlib mode names these files "provisioner_backend_s3.tests.*" and registers the
# distribution folder provisioner_backend_s3/ as that package (a namespace without modules);
# put the installed package back so `import provisioner_backend_s3.bucket` works.
if getattr(sys.modules.get("provisioner_backend_s3"), "__file__", None) is None:
    sys.modules.pop("provisioner_backend_s3", None)
    import provisioner_backend_s3  # noqa: F401

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from support.s3_helpers import ACCESS_KEY, REGION, SECRET_KEY, moto_post
from support.s3_recorder import RecordingProxy
from support.servers import ServerProcess, start_moto


@pytest.fixture(scope="session")
def moto() -> Iterator[ServerProcess]:
    """moto_server (S3, DynamoDB, STS) on a free loopback port, for the whole session."""
    server = start_moto()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _proxy(moto: ServerProcess) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(moto.url)
    yield proxy
    proxy.stop()


@pytest.fixture
def proxy(_proxy: RecordingProxy) -> RecordingProxy:
    """The recording proxy, emptied for this test: what it records is what reached the server."""
    _proxy.reset()
    return _proxy


@pytest.fixture
def bucket() -> str:
    return f"tfstate-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def table() -> str:
    return f"tf-locks-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def admin(moto: ServerProcess) -> Callable[..., Any]:
    """Direct boto3 clients to moto (not through the proxy): to arrange a scene and to assert on it."""

    def client(service: str = "s3", region: str = REGION) -> Any:
        return boto3.client(
            service, region_name=region, endpoint_url=moto.url, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
        )

    return client


@pytest.fixture
def backend_for(proxy: RecordingProxy) -> Callable[..., dict[str, Any]]:
    """An s3 backend section whose endpoints go through the recording proxy."""

    def make(bucket: str, **extra: Any) -> dict[str, Any]:
        section: dict[str, Any] = {
            "bucket": bucket,
            "key": "vpc/terraform.tfstate",
            "region": REGION,
            "use_lockfile": True,
            "use_path_style": True,
            "endpoints": {"s3": proxy.url, "dynamodb": proxy.url, "sts": proxy.url},
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
        }
        section.update(extra)
        return section

    return make


# --- a second moto server that enforces IAM: real AccessDenied answers ---------------------

# Each user's IAM actions. moto names the HeadBucket action "s3:HeadBucket" (AWS checks
# s3:ListBucket for it), so users that may see buckets get both.
IAM_USERS: dict[str, list[str]] = {
    "admin": ["s3:*", "dynamodb:*", "sts:*"],
    "nobody": ["sts:GetCallerIdentity"],
    "creator": ["s3:HeadBucket", "s3:ListBucket", "s3:CreateBucket", "s3:GetBucketTagging", "s3:PutBucketTagging"],
    "no_policy_read": [
        "s3:HeadBucket", "s3:ListBucket", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration", "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketOwnershipControls", "s3:GetBucketTagging",
    ],
    "s3_only": ["s3:*"],
}  # fmt: skip


@pytest.fixture(scope="session")
def moto_iam() -> Iterator[tuple[ServerProcess, dict[str, tuple[str, str]]]]:
    """moto with IAM enforcement on: users with limited policies get real AccessDenied answers.

    Users are created through the IAM API first, then ``/moto-api/reset-auth 0`` turns enforcement on.
    """
    server = start_moto()
    try:
        iam = boto3.client(
            "iam", region_name="us-east-1", endpoint_url=server.url, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
        )
        keys: dict[str, tuple[str, str]] = {}
        for name, actions in IAM_USERS.items():
            iam.create_user(UserName=name)
            document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
            iam.put_user_policy(UserName=name, PolicyName="only-these", PolicyDocument=json.dumps(document))
            key = iam.create_access_key(UserName=name)["AccessKey"]
            keys[name] = (key["AccessKeyId"], key["SecretAccessKey"])
        moto_post(server.url, "/moto-api/reset-auth", b"0")
        yield server, keys
    finally:
        server.stop()
