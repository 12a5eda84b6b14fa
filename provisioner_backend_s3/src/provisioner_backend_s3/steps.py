"""Shared plumbing for the bucket and table resources: the IAM actions of each step, translated calls, reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from provisioner_backend_s3.client import AwsClients
from provisioner_backend_s3.config import S3Backend, S3Options
from provisioner_backend_s3.errors import error_code, translated
from provisioner_core import ChangeRecorder, Resource

S = TypeVar("S")

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


class Steps(Resource[S]):
    """Shared plumbing of the bucket and the table: translated SDK calls, reads that treat "not configured" as None."""

    def __init__(self, clients: AwsClients, backend: S3Backend, options: S3Options, rec: ChangeRecorder, service: str, resource: str) -> None:
        self.clients = clients
        self.backend = backend
        self.options = options
        self.rec = rec
        self.service = service
        self.resource = resource
        self.endpoint = clients.describe_endpoint(service)
        self.wait_timeout = options.wait_timeout

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
            identity=self.clients.identity,
        )

    def call(self, step: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        with self.translated(step):
            return fn(**kwargs)

    def read_step(self, step: str, fn: Callable[..., Any], missing: frozenset[str], **kwargs: Any) -> Any:
        """``fn(**kwargs)``, or None when AWS answers with one of the ``missing`` codes."""
        from botocore.exceptions import ClientError

        with self.translated(step):
            try:
                return fn(**kwargs)
            except ClientError as exc:
                if error_code(exc) in missing:
                    return None
                raise
