"""What core must know about ``backend_type: s3``, registered as a :class:`BackendType`.

State placement follows terraform's s3 backend (``<workspace_key_prefix>/<workspace>/<key>``,
``env:`` by default; the key alone in the default workspace) and Atmos's default
(``workspace_key_prefix`` from the component's name).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from provisioner_core import DEFAULT_WORKSPACE, AuthContext, BackendType, ClientCache, DefaultsContext, NameRule, ResolvedComponent


def _defaults(backend: MutableMapping[str, Any], ctx: DefaultsContext) -> None:
    if not isinstance(backend.get("workspace_key_prefix"), str) or not backend["workspace_key_prefix"]:
        backend["workspace_key_prefix"] = ctx.prefix


def state_object(backend: Mapping[str, Any], workspace: str) -> str:
    key = str(backend.get("key") or "")
    if workspace == DEFAULT_WORKSPACE:
        return key
    return f"{backend.get('workspace_key_prefix') or 'env:'}/{workspace}/{key}"


def read_state(component: ResolvedComponent, auth: AuthContext, clients: ClientCache) -> bytes | None:
    """The component's state object, read with the AuthContext's credentials (None: no object)."""
    from provisioner_backend_s3.client import AwsClients
    from provisioner_backend_s3.config import parse_backend, parse_options
    from provisioner_backend_s3.errors import translated

    backend, _ = parse_backend(component.backend)
    options, _ = parse_options({}, backend)
    aws = AwsClients(auth.require("aws"), backend, options, clients)
    key = state_object(component.backend, component.workspace)
    s3 = aws.s3()
    from botocore.exceptions import ClientError

    with translated("read the state object", ("s3:GetObject",), resource=f"s3://{backend.bucket}/{key}", endpoint=aws.describe_endpoint("s3"), region=backend.region):
        try:
            body: bytes = s3.get_object(Bucket=backend.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NoSuchBucket"):
                return None
            raise
    return body


def secret_values(backend: Mapping[str, Any]) -> tuple[str, ...]:
    """The external id (``assume_role.external_id``, or the pre-1.6 top-level spelling): core masks it in every output."""
    role = backend.get("assume_role")
    found = [role.get("external_id") if isinstance(role, Mapping) else None, backend.get("external_id")]
    return tuple(value for value in found if isinstance(value, str) and value)


# The endpoint settings and the variable terraform's s3 backend also reads each from (terraform 1.11):
# an endpoint URL with credentials reaches terraform there instead of backend.tf.json.
ENDPOINT_ENV = {
    "endpoints.s3": "AWS_ENDPOINT_URL_S3",
    "endpoints.dynamodb": "AWS_ENDPOINT_URL_DYNAMODB",
    "endpoints.sts": "AWS_ENDPOINT_URL_STS",
    "endpoints.iam": "AWS_ENDPOINT_URL_IAM",
    "endpoints.sso": "AWS_ENDPOINT_URL_SSO",
    "endpoint": "AWS_ENDPOINT_URL_S3",
    "dynamodb_endpoint": "AWS_ENDPOINT_URL_DYNAMODB",
    "sts_endpoint": "AWS_ENDPOINT_URL_STS",
    "iam_endpoint": "AWS_ENDPOINT_URL_IAM",
    "ec2_metadata_service_endpoint": "AWS_EC2_METADATA_SERVICE_ENDPOINT",
}

S3_BACKEND = BackendType(
    "s3",
    scheme="s3://",
    address_keys=("bucket",),
    identity_keys=("bucket", "endpoint", "endpoints"),
    location_keys=("key", "workspace_key_prefix"),
    state_object=state_object,
    apply_defaults=_defaults,
    # Credentials written in the backend section reach terraform through its environment, never the file.
    secret_env={"access_key": "AWS_ACCESS_KEY_ID", "secret_key": "AWS_SECRET_ACCESS_KEY", "token": "AWS_SESSION_TOKEN"},
    # The external id has no variable: it stays in backend.tf.json (0600); AWS does not treat it as a secret, we never print it.
    secret_values=secret_values,
    url_env=ENDPOINT_ENV,
    name_rules={
        "bucket": NameRule(63, 3, r"[a-z0-9][a-z0-9.-]*[a-z0-9]", "lowercase letters, digits, dots and hyphens; starts and ends with a letter or digit", "aws_s3_bucket"),
        "dynamodb_table": NameRule(255, 3, r"[A-Za-z0-9_.-]+", "letters, digits, underscores, hyphens and dots", "aws_dynamodb_table"),
    },
    read_state=read_state,
    description="terraform's s3 backend: a bucket (and an optional DynamoDB lock table)",
    auth_from_settings=lambda backend: auth_from_settings(backend),
)


def auth_from_settings(backend: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``backend.s3``'s own credentials (terraform uses them too) as an ``aws`` provider: static keys, else a profile."""
    if backend.get("access_key") and backend.get("secret_key"):
        static = {"type": "static", "access_key_id": backend["access_key"], "secret_access_key": backend["secret_key"]}
        if backend.get("token"):
            static["session_token"] = backend["token"]
        return {"aws": static}
    if isinstance(backend.get("profile"), str) and backend["profile"]:
        return {"aws": {"type": "profile", "profile": backend["profile"]}}
    return {}
