"""Helpers for the S3 reliability tests (tests/test_reliability_s3_*.py): a stack tree, CLI runs, and checks of the result.

``bucket_gaps``/``table_gaps`` read a bucket or table directly from moto (not through any proxy)
and list every secure setting that is missing: an empty list means fully configured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3

from provisioner_core.testing.kit import StackTree

REGION = "eu-west-1"
ACCESS_KEY = "AKIARELIABILITY0TEST"
# A recognisable secret: no output may ever contain it.
SECRET_KEY = "Reliability-S3cr3t-Value-do-not-print-0123"
TLS_SID = "DenyInsecureTransport"
DEFAULT_TAGS = {"ManagedBy": "provisioner", "Purpose": "terraform-state"}
USER_TAGS = {"Team": "platform", "CostCenter": "42"}
PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def backend_section(endpoint: str, bucket: str, table: str | None = None, **extra: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "bucket": bucket,
        "key": "app/terraform.tfstate",
        "region": REGION,
        "use_path_style": True,
        "endpoints": {"s3": endpoint, "dynamodb": endpoint, "sts": endpoint},
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        "skip_region_validation": True,
    }
    if table:
        section["dynamodb_table"] = table
    else:
        section["use_lockfile"] = True
    section.update(extra)
    return section


STATIC_AUTH = {"aws": {"type": "static", "access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}}


def write_stack(
    tree: StackTree,
    endpoint: str,
    bucket: str,
    table: str | None = None,
    options: Mapping[str, Any] | None = None,
    auth: Mapping[str, Any] | None = None,
    **extra: Any,
) -> None:
    """``stacks/dev.yaml`` with one component ``app`` whose S3 backend goes to ``endpoint`` (static keys unless ``auth``)."""
    tree.component("app")
    tree.stack(
        "dev",
        {
            "vars": {"stage": "dev"},
            "components": {
                "terraform": {
                    "app": {
                        "backend_type": "s3",
                        "backend": {"s3": backend_section(endpoint, bucket, table, **extra)},
                        "provision": {"backend": {"enabled": True, "tags": dict(USER_TAGS), **(options or {})}},
                        "auth": {"providers": dict(auth or STATIC_AUTH)},
                    }
                }
            },
        },
    )


def shorten_throttling_backoff(monkeypatch: Any) -> None:
    """botocore waits rand(0, 1) x 1 s x 2^attempt after a throttling error (50 ms base for others): use 50 ms for both.

    Only the sleeps get shorter; how many attempts and which errors are retried stay botocore's.
    """
    from botocore.retries.standard import ExponentialBackoff

    config = getattr(ExponentialBackoff, "_DEFAULT_BACKOFF_CONFIG", None)
    if isinstance(config, dict) and "throttling_base_scale" in config:
        monkeypatch.setitem(config, "throttling_base_scale", 0.05)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a `provision` subprocess: no ambient AWS settings, only the S3 plugin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"PROVISIONER_LOAD_PLUGINS": "backend-s3", "CHECKPOINT_DISABLE": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra)
    return env


def provision_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "provisioner_core.cli.main", *args]


def start_provision(
    root: Path, args: Sequence[str] = ("backend", "app", "-s", "dev", "-o", "json"), env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """`provision <args>` as its own OS process in ``root``."""
    return subprocess.Popen(
        provision_argv(*args), cwd=root, env=dict(env or clean_env()), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run_provision(
    root: Path,
    args: Sequence[str] = ("backend", "app", "-s", "dev", "-o", "json"),
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(provision_argv(*args), cwd=root, env=dict(env or clean_env()), capture_output=True, text=True, timeout=timeout)


def admin(url: str, service: str = "s3") -> Any:
    """A boto3 client straight to the server (no proxy): to arrange a scene and to check it."""
    return boto3.client(service, region_name=REGION, endpoint_url=url, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def bucket_gaps(s3: Any, bucket: str, tags: Mapping[str, str] | None = None) -> list[str]:
    """Every secure setting the bucket lacks (empty: fully configured). ``tags``: tags that must be present."""
    from botocore.exceptions import ClientError

    gaps: list[str] = []
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        return ["bucket missing"]
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        gaps.append("versioning")
    try:
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        if rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] not in ("AES256", "aws:kms", "aws:kms:dsse"):
            gaps.append("encryption")
    except ClientError:
        gaps.append("encryption")
    try:
        flags = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        if not all(flags.get(flag) for flag in PAB_FLAGS):
            gaps.append("public_access_block")
    except ClientError:
        gaps.append("public_access_block")
    try:
        rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        if [r["ObjectOwnership"] for r in rules] != ["BucketOwnerEnforced"]:
            gaps.append("ownership_controls")
    except ClientError:
        gaps.append("ownership_controls")
    try:
        statements = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
        tls = [s for s in statements if s.get("Sid") == TLS_SID]
        if len(tls) != 1:
            gaps.append(f"tls_policy ({len(tls)} statements {TLS_SID})")
        elif tls[0].get("Effect") != "Deny" or tls[0].get("Condition") != {"Bool": {"aws:SecureTransport": "false"}}:
            gaps.append("tls_policy (wrong statement)")
        sids = [s.get("Sid") for s in statements if s.get("Sid")]
        if len(sids) != len(set(sids)):
            gaps.append("tls_policy (duplicate Sids)")
    except ClientError:
        gaps.append("tls_policy")
    wanted = {**DEFAULT_TAGS, **USER_TAGS} if tags is None else dict(tags)
    try:
        actual = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    except ClientError:
        actual = {}
    missing = sorted(k for k, v in wanted.items() if actual.get(k) != v)
    if missing:
        gaps.append("tags " + ",".join(missing))
    return gaps


def table_gaps(ddb: Any, table: str, tags: Mapping[str, str] | None = None) -> list[str]:
    """Every lock-table setting the table lacks (empty: ACTIVE, PAY_PER_REQUEST, LockID (S), SSE, PITR, tags)."""
    from botocore.exceptions import ClientError

    try:
        desc = ddb.describe_table(TableName=table)["Table"]
    except ClientError:
        return ["table missing"]
    gaps: list[str] = []
    if desc.get("TableStatus") != "ACTIVE":
        gaps.append("status " + str(desc.get("TableStatus")))
    if (desc.get("BillingModeSummary") or {}).get("BillingMode") != "PAY_PER_REQUEST":
        gaps.append("billing")
    if desc.get("KeySchema") != [{"AttributeName": "LockID", "KeyType": "HASH"}] or desc.get("AttributeDefinitions") != [
        {"AttributeName": "LockID", "AttributeType": "S"}
    ]:
        gaps.append("key schema")
    if (desc.get("SSEDescription") or {}).get("Status") != "ENABLED":
        gaps.append("sse")
    pitr = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        gaps.append("pitr")
    wanted = {**DEFAULT_TAGS, **USER_TAGS} if tags is None else dict(tags)
    actual = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=desc["TableArn"]).get("Tags", [])}
    missing = sorted(k for k, v in wanted.items() if actual.get(k) != v)
    if missing:
        gaps.append("tags " + ",".join(missing))
    return gaps


def one_result(stdout: str) -> dict[str, Any]:
    """The single provisioner result of `provision backend ... -o json`."""
    (result,) = json.loads(stdout)["results"]
    return dict(result)


def assert_clean_failure(code: int, stdout: str, stderr: str, *, exit_code: int, endpoint: str) -> dict[str, Any]:
    """A failure the way docs/errors.md promises it: the exit code; one Error, one Hint naming ``endpoint``
    (one line each); no traceback, no secret. Returns the JSON payload (``-o json``) or {}."""
    assert code == exit_code, f"exit {code}, expected {exit_code}\n{stdout}\n{stderr}"
    output = stdout + stderr
    assert "Traceback" not in output, output
    assert SECRET_KEY not in output
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("Running ")]
    assert [line.split(":", 1)[0] for line in lines] == ["Error", "Hint", "Context"], stderr
    if exit_code == 5:
        assert endpoint in lines[1], stderr  # the hint names the endpoint
    payload = json.loads(stdout) if stdout.strip().startswith("{") else {}
    if payload:
        assert payload["ok"] is False and payload["error"]["exit_code"] == exit_code
    return payload


def all_gaps(url: str, bucket: str, table: str | None) -> list[str]:
    """``bucket_gaps`` and ``table_gaps`` of the bucket and lock table on the server at ``url``."""
    gaps = bucket_gaps(admin(url), bucket)
    if table:
        gaps += [f"table {gap}" for gap in table_gaps(admin(url, "dynamodb"), table)]
    return gaps
