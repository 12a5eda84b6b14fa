"""Shared plumbing for the bucket and table provisioners: translated calls, reads, recorded writes, waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from provisioner_backend_s3.client import AwsClients
from provisioner_backend_s3.config import S3Backend, S3Options
from provisioner_backend_s3.errors import error_code, translated
from provisioner_core import ChangeRecorder, ResourceConflict

# The IAM actions each step needs (shown in the hint when AWS says AccessDenied).
IAM: Mapping[str, tuple[str, ...]] = {
    "head-bucket": ("s3:ListBucket",),
    "create-bucket": ("s3:CreateBucket", "s3:TagResource", "s3:PutBucketTagging"),
    "get-bucket-versioning": ("s3:GetBucketVersioning",),
    "put-bucket-versioning": ("s3:PutBucketVersioning",),
    "get-bucket-encryption": ("s3:GetEncryptionConfiguration",),
    "put-bucket-encryption": ("s3:PutEncryptionConfiguration",),
    "get-public-access-block": ("s3:GetBucketPublicAccessBlock",),
    "put-public-access-block": ("s3:PutBucketPublicAccessBlock",),
    "get-bucket-ownership-controls": ("s3:GetBucketOwnershipControls",),
    "put-bucket-ownership-controls": ("s3:PutBucketOwnershipControls",),
    "get-bucket-policy": ("s3:GetBucketPolicy",),
    "put-bucket-policy": ("s3:PutBucketPolicy",),
    "get-bucket-tagging": ("s3:GetBucketTagging",),
    "put-bucket-tagging": ("s3:PutBucketTagging",),
    "describe-table": ("dynamodb:DescribeTable",),
    "create-table": ("dynamodb:CreateTable", "dynamodb:TagResource"),
    "update-table": ("dynamodb:UpdateTable",),
    "describe-continuous-backups": ("dynamodb:DescribeContinuousBackups",),
    "update-continuous-backups": ("dynamodb:UpdateContinuousBackups",),
    "list-tags-of-resource": ("dynamodb:ListTagsOfResource",),
    "tag-resource": ("dynamodb:TagResource",),
}
# The skip value that avoids each step (offered in permission hints).
SKIP_FOR: Mapping[str, str] = {
    **{f"{verb}-bucket-versioning": "versioning" for verb in ("get", "put")},
    **{f"{verb}-bucket-encryption": "encryption" for verb in ("get", "put")},
    **{f"{verb}-public-access-block": "public_access_block" for verb in ("get", "put")},
    **{f"{verb}-bucket-ownership-controls": "ownership_controls" for verb in ("get", "put")},
    **{f"{verb}-bucket-policy": "tls_policy" for verb in ("get", "put")},
    **{f"{verb}-bucket-tagging": "tags" for verb in ("get", "put")},
    "describe-table": "lock_table",
    "create-table": "lock_table",
    "update-table": "lock_table_sse",
    "describe-continuous-backups": "lock_table_pitr",
    "update-continuous-backups": "lock_table_pitr",
    "list-tags-of-resource": "tags",
    "tag-resource": "tags",
}

# Answers that mean "this setting was never configured", per read step.
NOT_CONFIGURED: Mapping[str, frozenset[str]] = {
    "get-bucket-encryption": frozenset({"ServerSideEncryptionConfigurationNotFoundError"}),
    "get-public-access-block": frozenset({"NoSuchPublicAccessBlockConfiguration"}),
    "get-bucket-ownership-controls": frozenset({"OwnershipControlsNotFoundError"}),
    "get-bucket-policy": frozenset({"NoSuchBucketPolicy"}),
    "get-bucket-tagging": frozenset({"NoSuchTagSet", "NoSuchTagSetError"}),
}


class Steps:
    """Shared plumbing: translated SDK calls and reads that treat "not configured" as None."""

    def __init__(
        self, clients: AwsClients, backend: S3Backend, options: S3Options, rec: ChangeRecorder, service: str, resource: str
    ) -> None:
        self.clients = clients
        self.backend = backend
        self.options = options
        self.rec = rec
        self.service = service
        self.resource = resource
        self.endpoint = clients.describe_endpoint(service)
        self._prefetched: dict[str, Future[Any]] = {}

    def prefetch(self, reads: Iterable[tuple[str, Callable[..., Any]]], **kwargs: Any) -> None:
        """Start independent reads at once; ``call``/``read`` of those steps then take their answers.

        A no-op check of a compliant resource is only reads: issued together they cost one round
        trip instead of one per setting. Errors surface later, in the step that uses the answer.
        """
        reads = list(reads)
        if len(reads) < 2:
            return
        with ThreadPoolExecutor(max_workers=len(reads), thread_name_prefix="s3-read") as pool:
            for step, fn in reads:
                self._prefetched[step] = pool.submit(fn, **kwargs)

    def _answer(self, step: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        future = self._prefetched.pop(step, None)
        if future is None:
            return fn
        return lambda **_: future.result()  # re-raises the read's own error, inside translated()

    def translated(self, step: str) -> Any:
        """A context that turns botocore errors of ``step`` into core errors."""
        return translated(
            step,
            IAM.get(step, ()),
            resource=self.resource,
            endpoint=self.endpoint,
            region=self.backend.region,
            bucket=self.backend.bucket,
            skip=SKIP_FOR.get(step),
        )

    def call(self, step: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        fn = self._answer(step, fn)
        with self.translated(step):
            return fn(**kwargs)

    def read(self, step: str, fn: Callable[..., Any], missing: frozenset[str], **kwargs: Any) -> Any:
        """``fn(**kwargs)``, or None when AWS answers with one of the ``missing`` codes."""
        from botocore.exceptions import ClientError

        fn = self._answer(step, fn)
        with self.translated(step):
            try:
                return fn(**kwargs)
            except ClientError as exc:
                if error_code(exc) in missing:
                    return None
                raise

    def write(self, step: str, target: str, fn: Callable[..., Any], detail: str = "", *, creates: bool = False, **kwargs: Any) -> Any:
        return self.record(step, target, lambda: self.call(step, fn, **kwargs), detail, creates=creates)

    def record(self, step: str, target: str, call: Callable[[], Any], detail: str = "", *, creates: bool = False) -> Any:
        """A write through the recorder; report-only runs list drift, not calls they never make."""
        if self.rec.report_only:
            return None
        return self.rec.write(step, target, call, detail, creates=creates)

    def result_value(self, desired: str, actual: str, change: bool) -> str:
        """What the resource has after this run (or would have, for a dry run)."""
        return desired if change and not self.rec.report_only else actual

    def wait(self, what: str, check: Callable[[], bool]) -> None:
        """Poll ``check`` with backoff until it is true or wait_timeout passes."""
        deadline = time.monotonic() + self.options.wait_timeout_s
        delay = 0.1
        while not check():
            if time.monotonic() >= deadline:
                raise ResourceConflict(
                    f"{what} did not happen within {self.options.wait_timeout_s}s",
                    hint="Check the resource in the console; raise provision.backend.wait_timeout if the service is slow.",
                    context={"resource": self.resource, "region": self.backend.region},
                )
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
