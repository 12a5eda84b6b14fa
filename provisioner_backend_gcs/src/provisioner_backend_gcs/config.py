"""Parse and validate the component's gcs backend section and ``provision.backend`` options.

No cloud SDK here: this module turns YAML values into frozen, validated values (or exit-2
ConfigErrors) so the provisioning code never handles raw configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from attrs import frozen

from provisioner_backend_gcs.names import check_bucket_name, check_labels
from provisioner_core import BackendOptions, ConfigError, OptionReader, read_backend_options

DEFAULT_ENDPOINT = "https://storage.googleapis.com"
# Labels every bucket we manage carries; user labels are merged on top.
DEFAULT_LABELS: Mapping[str, str] = {"managed-by": "provisioner", "purpose": "terraform-state"}
SKIPPABLE: tuple[str, ...] = ("versioning", "uniform_access", "public_access_prevention", "tags", "kms", "soft_delete", "retention")
# GCS calls tags labels: both words are accepted, in options and in skip.
SKIP_ALIASES: Mapping[str, str] = {"labels": "tags"}
# Terraform's gcs backend keys (https://developer.hashicorp.com/terraform/language/backend/gcs).
BACKEND_KEYS: tuple[str, ...] = (
    "bucket",
    "prefix",
    "credentials",
    "access_token",
    "impersonate_service_account",
    "impersonate_service_account_delegates",
    "storage_custom_endpoint",
    "kms_encryption_key",
    "encryption_key",
)
CORE_OPTIONS: tuple[str, ...] = ("enabled", "timeout")
_KMS_KEY = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
_DAY = 86400


@frozen
class BackendConfig:
    """What the provisioner needs from Terraform's ``backend.gcs`` section (never a secret)."""

    bucket: str
    prefix: str | None = None
    endpoint: str = DEFAULT_ENDPOINT  # the API base URL the Python client wants
    custom_endpoint: bool = False
    impersonate_service_account: str | None = None
    impersonate_delegates: tuple[str, ...] = ()
    object_kms_key: str | None = None  # terraform's kms_encryption_key
    customer_supplied_key: bool = False  # terraform's encryption_key is set (its value is never kept)
    terraform_credentials: bool = False  # credentials/access_token set for terraform itself


@frozen
class Options(BackendOptions):
    """``provision.backend`` for the gcs backend: core's shared options (``tags`` are GCS labels) and these."""

    project: str | None = None
    location: str | None = None
    kms_key: str | None = None
    soft_delete_days: int | None = None
    retention_days: int | None = None

    @property
    def soft_delete_seconds(self) -> int | None:
        return None if self.soft_delete_days is None else self.soft_delete_days * _DAY

    @property
    def retention_seconds(self) -> int | None:
        return None if self.retention_days is None else self.retention_days * _DAY


@frozen
class Config:
    backend: BackendConfig
    options: Options
    warnings: tuple[str, ...] = ()

    @property
    def bucket_kms_key(self) -> str | None:
        """The bucket's default KMS key: the explicit option, else terraform's object key."""
        if not self.options.wants("kms"):
            return None
        return self.options.kms_key or self.backend.object_kms_key

    def desired_labels(self) -> dict[str, str]:
        return {**DEFAULT_LABELS, **self.options.tags}


def normalise_endpoint(url: str, key: str = "backend.gcs.storage_custom_endpoint") -> str:
    """Terraform's ``http://host:port/storage/v1/`` -> the client's base ``http://host:port``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"{key} must be an http(s) URL, got {url!r}",
            hint='Write it as Terraform does, e.g. `storage_custom_endpoint: "http://127.0.0.1:4443/storage/v1/"`.',
            context={"key": key},
        )
    path = parts.path.rstrip("/")
    if path.endswith("/storage/v1"):
        path = path[: -len("/storage/v1")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def parse_backend(backend: Mapping[str, Any]) -> tuple[BackendConfig, list[str]]:
    reader = OptionReader(backend, "backend.gcs")
    bucket = reader.str("bucket", required=True, hint="Add `bucket: <name>` under backend.gcs (Terraform's gcs backend needs it too).")
    assert bucket is not None  # required=True raised otherwise
    check_bucket_name(bucket)
    prefix = reader.str("prefix")
    endpoint_raw = reader.str("storage_custom_endpoint")
    endpoint = normalise_endpoint(endpoint_raw) if endpoint_raw else DEFAULT_ENDPOINT
    object_kms_key = reader.str("kms_encryption_key")
    if object_kms_key:
        _check_kms_key(object_kms_key, "backend.gcs.kms_encryption_key")
    # Secrets: only whether they are set is kept, never their value.
    csek = reader.raw("encryption_key") not in (None, "")
    if csek and object_kms_key:
        raise ConfigError(
            "backend.gcs sets both encryption_key and kms_encryption_key; Terraform accepts only one",
            hint="Keep kms_encryption_key (a Cloud KMS key) and remove encryption_key, or the other way round.",
            context={"key": "backend.gcs"},
        )
    terraform_credentials = reader.raw("credentials") not in (None, "") or reader.raw("access_token") not in (None, "")
    config = BackendConfig(
        bucket=bucket,
        prefix=prefix,
        endpoint=endpoint,
        custom_endpoint=endpoint_raw is not None,
        impersonate_service_account=reader.str("impersonate_service_account"),
        impersonate_delegates=tuple(reader.str_list("impersonate_service_account_delegates")),
        object_kms_key=object_kms_key,
        customer_supplied_key=csek,
        terraform_credentials=terraform_credentials,
    )
    warnings = reader.unknown_keys(BACKEND_KEYS)
    if endpoint.startswith("http://") and urlsplit(endpoint).hostname not in ("127.0.0.1", "localhost", "::1"):
        warnings.append(f"backend.gcs.storage_custom_endpoint {endpoint} is plain HTTP to a non-loopback host; credentials travel unencrypted")
    return config, warnings


def parse_options(options: Mapping[str, Any] | None) -> tuple[Options, list[str]]:
    reader = OptionReader(options, "provision.backend")
    common, deprecated = read_backend_options(reader, skippable=SKIPPABLE, skip_aliases=SKIP_ALIASES, tags_alias="labels")
    check_labels(common["tags"], "provision.backend.labels" if (options or {}).get("labels") else "provision.backend.tags")
    kms_key = reader.str("kms_key")
    if kms_key:
        _check_kms_key(kms_key, "provision.backend.kms_key")
    parsed = Options(
        **common,
        project=reader.str("project"),
        location=reader.str("location"),
        kms_key=kms_key,
        # GCS accepts soft-delete retention of 7 to 90 days (0 would turn it off: never ours to do).
        soft_delete_days=reader.int("soft_delete_days", minimum=7, maximum=90),
        retention_days=reader.int("retention_days", minimum=1, maximum=36500),
    )
    if parsed.retention_days is not None and parsed.wants("versioning") and parsed.wants("retention"):
        raise ConfigError(
            "provision.backend.retention_days cannot be combined with object versioning: GCS refuses both on one bucket",
            hint="Prefer versioning (+ soft_delete_days) for Terraform state: a retention policy also stops Terraform from "
            "overwriting its state file. If you really need retention, add `skip: [versioning]`.",
            context={"key": "provision.backend.retention_days"},
        )
    return parsed, deprecated + reader.unknown_keys(CORE_OPTIONS)


def parse(backend: Mapping[str, Any], options: Mapping[str, Any] | None) -> Config:
    backend_config, backend_warnings = parse_backend(backend)
    parsed_options, option_warnings = parse_options(options)
    return Config(backend_config, parsed_options, tuple(backend_warnings + option_warnings))


def _check_kms_key(value: str, key: str) -> None:
    if not _KMS_KEY.match(value):
        raise ConfigError(
            f"{key} must be a Cloud KMS key name, got {value!r}",
            hint="Write it as projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>.",
            context={"key": key},
        )
