"""The whole run: parse the configuration, then reconcile the bucket, then the lock table.

Both go through core's reconcile template (read, create, a pure plan, one write per setting
that makes the resource stronger), so a dry run lists exactly the calls a real run would make,
report_only lists them without making them, and a compliant resource costs reads only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner_backend_s3.bucket import BucketProvisioner
from provisioner_backend_s3.client import AwsClients
from provisioner_backend_s3.config import S3Backend, S3Options, parse_backend, parse_options
from provisioner_backend_s3.lock_table import LockTableProvisioner
from provisioner_core import ChangeRecorder, ClientCache, ProvisionResult, reconcile


def provision(
    backend_section: Mapping[str, Any], options: Mapping[str, Any] | None, creds: Any, cache: ClientCache, *, dry_run: bool
) -> ProvisionResult:
    """Provision the backend in ``backend_section`` with ``creds`` (from ``auth.require("aws")``)."""
    backend, warnings = parse_backend(backend_section)
    opts, option_warnings = parse_options(options, backend)
    rec = ChangeRecorder(f"s3://{backend.bucket}", dry_run=dry_run, report_only=opts.report_only)
    for warning in (*warnings, *option_warnings):
        rec.warn(warning)
    clients = AwsClients(creds, backend, opts, cache)
    rec.details.update(bucket=backend.bucket, region=backend.region)
    reconcile(BucketProvisioner(clients, backend, opts, rec), rec)
    if backend.dynamodb_table and opts.wants("lock_table"):
        reconcile(LockTableProvisioner(clients, backend, opts, rec), rec)
    rec.details["locking"] = _locking_text(backend, opts)
    if opts.skip:
        rec.details["skipped"] = ", ".join(sorted(opts.skip))
    if opts.report_only:
        rec.details["mode"] = "report only: nothing was changed"
    return rec.result()


def _locking_text(backend: S3Backend, options: S3Options) -> str:
    parts = []
    if backend.use_lockfile:
        parts.append("S3 lockfile (use_lockfile)")
    if backend.dynamodb_table:
        parts.append(f"DynamoDB table {backend.dynamodb_table}" + (" (not managed: skipped)" if not options.wants("lock_table") else ""))
    return " + ".join(parts) or "none"
