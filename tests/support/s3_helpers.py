"""Helpers for the backend-s3 tests: credentials, components, and calling the plugin like the runner does."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from provisioner_backend_s3.credentials import AwsCredentials
from provisioner_core import AuthContext, ClientCache, ProvisionResult, ResolvedComponent

REGION = "eu-west-1"
ACCESS_KEY = "AKIAPROVISIONERTEST1"
# A recognisable secret: tests assert it never shows up in a result or an error.
SECRET_KEY = "s3cr3t-Provisioner-Test-Key-0123456789"


def aws_auth(access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY, session_token: str | None = None) -> AuthContext:
    creds = AwsCredentials("static", access_key_id=access_key, secret_access_key=secret_key, session_token=session_token)
    return AuthContext({"aws": creds})  # type: ignore[arg-type]  # core's attrs converter=dict is typed too narrowly


def component(backend: dict[str, Any], options: dict[str, Any] | None = None) -> ResolvedComponent:
    return ResolvedComponent(
        stack="dev",
        name="vpc",
        terraform_component="vpc",
        backend_type="s3",
        backend=backend,
        provision={"backend": {"enabled": True, **(options or {})}},
    )


def run(
    backend: dict[str, Any],
    options: dict[str, Any] | None = None,
    *,
    dry_run: bool = False,
    auth: AuthContext | None = None,
    clients: ClientCache | None = None,
) -> ProvisionResult:
    """Run the provisioner with the arguments the runner passes at manual.provision."""
    from provisioner_backend_s3 import plugin

    comp = component(backend, options)
    return plugin.run(
        component=comp,
        auth=auth or aws_auth(),
        options=comp.provision_options("backend"),
        dry_run=dry_run,
        clients=clients if clients is not None else ClientCache(),
    )


def policy_of(s3: Any, bucket: str) -> dict[str, Any]:
    return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])


def tags_of(s3: Any, bucket: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}


def moto_post(url: str, path: str, body: bytes) -> None:
    """POST to moto's own API (e.g. /moto-api/reset-auth) with a plain-text body."""
    request = urllib.request.Request(url + path, data=body, method="POST", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback only


def botocore_sends_tags_with_create() -> bool:
    """botocore 1.39.2 added CreateBucketConfiguration.Tags; with an older one (the floor, 1.36) tags follow the create."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("s3")
    return "Tags" in model.operation_model("CreateBucket").input_shape.members["CreateBucketConfiguration"].members
