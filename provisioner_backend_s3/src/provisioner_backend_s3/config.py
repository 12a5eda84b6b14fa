"""Parse and validate the component's s3 ``backend`` section and ``provision.backend`` options.

Pure data: no SDK import, no network. Every value that leaves here is typed and checked, and
every problem is a ConfigError (exit 2) raised before any call is made.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from provisioner_backend_s3 import names
from provisioner_core import BackendOptions, ConfigError, OptionReader, read_backend_options

WHERE_BACKEND = "backend"
WHERE_OPTIONS = "provision.backend"

# The settings `provision.backend.skip` can name (each one is read, compared and written on its own).
BUCKET_SETTINGS: tuple[str, ...] = ("versioning", "encryption", "public_access_block", "ownership_controls", "tls_policy", "tags")
TABLE_SETTINGS: tuple[str, ...] = ("lock_table", "lock_table_sse", "lock_table_pitr")
SKIPPABLE: tuple[str, ...] = BUCKET_SETTINGS + TABLE_SETTINGS

DEFAULT_TAGS: Mapping[str, str] = {"ManagedBy": "provisioner", "Purpose": "terraform-state"}
DEFAULT_TLS_SID = "DenyInsecureTransport"
DEFAULT_ATTEMPTS = 5

# Terraform s3 backend keys this provisioner reads.
_USED_KEYS = frozenset(
    {
        "bucket", "key", "region", "dynamodb_table", "use_lockfile", "encrypt", "kms_key_id", "assume_role", "endpoints",
        "endpoint", "dynamodb_endpoint", "sts_endpoint", "sts_region", "use_path_style", "force_path_style", "insecure",
        "custom_ca_bundle", "max_retries", "use_fips_endpoint", "use_dualstack_endpoint", "role_arn", "session_name",
        "external_id", "assume_role_duration_seconds", "acl",
    }
)  # fmt: skip
# Terraform s3 backend keys that matter to terraform only (the skip_* validation flags among them).
_TERRAFORM_ONLY_KEYS = frozenset(
    {
        "workspace_key_prefix", "sse_customer_key", "allowed_account_ids", "forbidden_account_ids", "retry_mode",
        "http_proxy", "https_proxy", "no_proxy", "ec2_metadata_service_endpoint", "ec2_metadata_service_endpoint_mode",
        "assume_role_with_web_identity", "shared_config_files", "shared_credentials_file", "shared_credentials_files",
        "iam_endpoint", "use_legacy_workflow", "skip_credentials_validation", "skip_region_validation",
        "skip_metadata_api_check", "skip_requesting_account_id", "skip_s3_checksum", "skip_get_ec2_platforms",
    }
)  # fmt: skip
# Terraform's own credential keys: the provisioner never uses them (it uses auth.providers.aws).
_CREDENTIAL_KEYS = frozenset({"profile", "access_key", "secret_key", "token"})
_ENDPOINT_KEYS = frozenset({"s3", "dynamodb", "sts", "iam", "sso", "ssooidc"})
_ASSUME_ROLE_KEYS = frozenset(
    {"role_arn", "session_name", "external_id", "duration", "policy", "policy_arns", "tags", "transitive_tag_keys", "source_identity"}
)
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")


@frozen
class AssumeRole:
    """``backend.assume_role``: the role the provisioner (like terraform) works as."""

    role_arn: str
    session_name: str = "provisioner-backend-s3"
    external_id: str | None = None
    duration_s: int | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(factory=dict)
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None


@frozen
class Endpoints:
    """Custom endpoints (emulators, VPC endpoints, S3-compatible stores)."""

    s3: str | None = None
    dynamodb: str | None = None
    sts: str | None = None


@frozen
class S3Backend:
    """The Terraform s3 backend settings the provisioner acts on."""

    bucket: str
    region: str
    key: str | None = None
    dynamodb_table: str | None = None
    use_lockfile: bool = False
    encrypt: bool | None = None
    kms_key_id: str | None = None
    assume_role: AssumeRole | None = None
    endpoints: Endpoints = field(factory=Endpoints)
    path_style: bool = False
    verify: bool | str = True  # False for `insecure: true`, a path for `custom_ca_bundle`
    sts_region: str | None = None
    max_retries: int | None = None
    use_fips_endpoint: bool = False
    use_dualstack_endpoint: bool = False
    acl: str | None = None

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}"


@frozen
class S3Options(BackendOptions):
    """``provision.backend`` for ``backend_type: s3``: core's shared options and these."""

    bucket_key: bool = True
    tls_policy_sid: str = DEFAULT_TLS_SID
    connect_timeout_s: int = 10
    read_timeout_s: int = 60

    def desired_tags(self) -> dict[str, str]:
        """The defaults, overridden by the user's tags."""
        return {**DEFAULT_TAGS, **self.tags}


def _bool(backend: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = backend.get(key)
    if value is None:
        return default
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"  # terraform accepts string booleans from -backend-config
    if not isinstance(value, bool):
        raise ConfigError(
            f"{WHERE_BACKEND}.{key} must be true or false, got {value!r}",
            hint=f"Write `{key}: true`.",
            context={"key": f"{WHERE_BACKEND}.{key}"},
        )
    return value


def _str(backend: Mapping[str, Any], key: str, where: str = WHERE_BACKEND) -> str | None:
    value = backend.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(
            f"{where}.{key} must be a string, got {type(value).__name__}",
            hint=f'Write `{key}: "value"`.',
            context={"key": f"{where}.{key}"},
        )
    return value


def _url(value: str | None, key: str) -> str | None:
    if value is None:
        return None
    if not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(
            f"{key} must be an http(s) URL, got {value!r}",
            hint="Write it like https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:5000.",
            context={"key": key},
        )
    return value.rstrip("/")


def parse_duration(value: Any, key: str) -> int:
    """Terraform's Go-style durations (``1h``, ``15m30s``) or plain seconds, as seconds (900..43200)."""
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            seconds = int(text)
        elif "".join(m.group(0) for m in _DURATION_PART.finditer(text)) == text:
            factor = {"h": 3600, "m": 60, "s": 1}
            seconds = int(sum(float(m.group(1)) * factor[m.group(2)] for m in _DURATION_PART.finditer(text)))
        else:
            raise ConfigError(f"{key} {value!r} is not a duration", hint="Write it like 1h, 30m or 900s.", context={"key": key})
    else:
        raise ConfigError(f"{key} must be a duration like 1h, got {value!r}", hint="Write it like 1h, 30m or 900s.", context={"key": key})
    if not 900 <= seconds <= 43200:
        raise ConfigError(
            f"{key} must be between 15m and 12h (STS limits), got {value!r}",
            hint="Choose a duration from 15m to 12h.",
            context={"key": key},
        )
    return seconds


def _str_list(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings", hint=f"Write `{key.rsplit('.', 1)[-1]}: [a, b]`.", context={"key": key})
    return tuple(value)


def _assume_role(backend: Mapping[str, Any], warnings: list[str]) -> AssumeRole | None:
    raw = backend.get("assume_role")
    if raw is None and backend.get("role_arn"):
        # Terraform < 1.6 spelled these at the top level; honour them, as terraform did.
        warnings.append("backend.role_arn is the pre-1.6 spelling; Terraform now expects backend.assume_role.role_arn")
        raw = {"role_arn": backend.get("role_arn"), "session_name": backend.get("session_name"), "external_id": backend.get("external_id")}
        if backend.get("assume_role_duration_seconds") is not None:
            raw["duration"] = backend.get("assume_role_duration_seconds")
    if raw is None:
        return None
    where = f"{WHERE_BACKEND}.assume_role"
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{where} must be a mapping",
            hint="Write assume_role: {role_arn: arn:aws:iam::123456789012:role/terraform}.",
            context={"key": where},
        )
    for key in raw:
        if key not in _ASSUME_ROLE_KEYS:
            warnings.append(_unknown(f"{where}.{key}", key, _ASSUME_ROLE_KEYS))
    role_arn = _str(raw, "role_arn", where)
    if not role_arn:
        raise ConfigError(
            f"{where}.role_arn is required when assume_role is set",
            hint="Add role_arn: arn:aws:iam::<account>:role/<name>.",
            context={"key": f"{where}.role_arn"},
        )
    if not _ROLE_ARN.match(role_arn):
        raise ConfigError(
            f"{where}.role_arn {role_arn!r} is not an IAM role ARN",
            hint="Write it like arn:aws:iam::123456789012:role/terraform.",
            context={"key": f"{where}.role_arn"},
        )
    session_name = _str(raw, "session_name", where) or "provisioner-backend-s3"
    if not re.match(r"^[\w+=,.@-]{2,64}$", session_name):
        raise ConfigError(
            f"{where}.session_name must be 2-64 characters of letters, digits and +=,.@_-", hint="Use a name such as 'provisioner'."
        )
    tags_raw = raw.get("tags") or {}
    if not isinstance(tags_raw, Mapping):
        raise ConfigError(f"{where}.tags must be a mapping", hint="Write tags: {Team: platform}.", context={"key": f"{where}.tags"})
    return AssumeRole(
        role_arn=role_arn,
        session_name=session_name,
        external_id=_str(raw, "external_id", where),
        duration_s=None if raw.get("duration") in (None, "") else parse_duration(raw.get("duration"), f"{where}.duration"),
        policy=_str(raw, "policy", where),
        policy_arns=_str_list(raw.get("policy_arns"), f"{where}.policy_arns"),
        tags={str(k): str(v) for k, v in tags_raw.items()},
        transitive_tag_keys=_str_list(raw.get("transitive_tag_keys"), f"{where}.transitive_tag_keys"),
        source_identity=_str(raw, "source_identity", where),
    )


def _endpoints(backend: Mapping[str, Any], warnings: list[str]) -> Endpoints:
    raw = backend.get("endpoints") or {}
    where = f"{WHERE_BACKEND}.endpoints"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping", hint="Write endpoints: {s3: http://127.0.0.1:5000}.", context={"key": where})
    for key in raw:
        if key not in _ENDPOINT_KEYS:
            warnings.append(_unknown(f"{where}.{key}", key, _ENDPOINT_KEYS))
    legacy = {"s3": "endpoint", "dynamodb": "dynamodb_endpoint", "sts": "sts_endpoint"}
    chosen: dict[str, str | None] = {}
    for service, old_key in legacy.items():
        new = _str(raw, service, where)
        old = _str(backend, old_key)
        if old and not new:
            warnings.append(f"backend.{old_key} is deprecated in Terraform; write backend.endpoints.{service} instead")
        chosen[service] = _url(new or old, f"{where}.{service}" if new else f"{WHERE_BACKEND}.{old_key}")
    return Endpoints(**chosen)


def _unknown(full_key: str, key: str, known: frozenset[str] | set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f"{full_key} is not a Terraform s3 backend key known to backend-s3 and was ignored" + (
        f"; did you mean '{close[0]}'?" if close else ""
    )


def parse_backend(backend: Mapping[str, Any]) -> tuple[S3Backend, list[str]]:
    """The typed backend settings and warnings; ConfigError for anything terraform would also reject."""
    if not isinstance(backend, Mapping):
        raise ConfigError(
            "backend must be a mapping of s3 backend settings", hint="Write backend: {s3: {bucket: ..., key: ..., region: ...}}."
        )
    warnings: list[str] = []
    bucket = _str(backend, "bucket")
    if not bucket:
        raise ConfigError(
            "backend.bucket is required for the s3 backend",
            hint="Add `bucket: <name>` under backend.s3 (e.g. acme-tfstate-dev).",
            context={"key": "backend.s3.bucket"},
        )
    warnings += names.validate_bucket_name(bucket)
    region = _str(backend, "region")
    if not region:
        raise ConfigError(
            "backend.region is required for the s3 backend",
            hint="Add `region: <aws-region>` under backend.s3 (e.g. eu-west-1); the provisioner never guesses it from the environment.",
            context={"key": "backend.s3.region", "bucket": bucket},
        )
    names.validate_region(region)
    table = _str(backend, "dynamodb_table")
    if table:
        names.validate_table_name(table)
    sts_region = _str(backend, "sts_region")
    if sts_region:
        names.validate_region(sts_region)

    use_lockfile = _bool(backend, "use_lockfile")
    if table and use_lockfile:
        warnings.append(
            "both use_lockfile and dynamodb_table are set: terraform takes both locks; the table can go once every user runs Terraform >= 1.10"
        )

    verify: bool | str = True
    if _bool(backend, "insecure"):
        verify = False
        warnings.append("backend.insecure is true: TLS certificates of the endpoints are not verified")
    ca_bundle = _str(backend, "custom_ca_bundle")
    if ca_bundle and verify is True:
        verify = ca_bundle

    max_retries = backend.get("max_retries")
    if max_retries is not None and (isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0):
        raise ConfigError(f"backend.max_retries must be a non-negative integer, got {max_retries!r}", hint="Write `max_retries: 5`.")

    for key in backend:
        if key in _CREDENTIAL_KEYS and backend.get(key):
            # Never echo the value: it may be a secret.
            warnings.append(f"backend.{key} is also the provisioner's credential unless auth.providers.aws is set (docs/configuration.md)")
        elif key not in _USED_KEYS and key not in _TERRAFORM_ONLY_KEYS and key not in _CREDENTIAL_KEYS:
            warnings.append(_unknown(f"backend.{key}", str(key), _USED_KEYS | _TERRAFORM_ONLY_KEYS))

    acl = _str(backend, "acl")
    kms_key_id = _str(backend, "kms_key_id")
    encrypt = backend.get("encrypt")
    return (
        S3Backend(
            bucket=bucket,
            region=region,
            key=_str(backend, "key"),
            dynamodb_table=table,
            use_lockfile=use_lockfile,
            encrypt=None if encrypt is None else _bool(backend, "encrypt"),
            kms_key_id=kms_key_id,
            assume_role=_assume_role(backend, warnings),
            endpoints=_endpoints(backend, warnings),
            path_style=_bool(backend, "use_path_style") or _bool(backend, "force_path_style"),
            verify=verify,
            sts_region=sts_region,
            max_retries=max_retries,
            use_fips_endpoint=_bool(backend, "use_fips_endpoint"),
            use_dualstack_endpoint=_bool(backend, "use_dualstack_endpoint"),
            acl=acl,
        ),
        warnings,
    )


def parse_options(options: Mapping[str, Any] | None, backend: S3Backend) -> tuple[S3Options, list[str]]:
    """The typed ``provision.backend`` options and warnings (deprecated names, unknown keys)."""
    reader = OptionReader(options, WHERE_OPTIONS)
    # Terraform counts retries; attempts include the first call.
    default_attempts = min(max(backend.max_retries + 1, 1), 20) if backend.max_retries is not None else DEFAULT_ATTEMPTS
    common, deprecated = read_backend_options(reader, skippable=SKIPPABLE, attempts=default_attempts, max_attempts=20)
    names.validate_tags(common["tags"], f"{WHERE_OPTIONS}.tags")
    parsed = S3Options(
        **common,
        bucket_key=reader.bool("bucket_key", True),
        tls_policy_sid=reader.str("tls_policy_sid", DEFAULT_TLS_SID) or DEFAULT_TLS_SID,
        connect_timeout_s=reader.int("connect_timeout", 10, minimum=1, maximum=300) or 10,
        read_timeout_s=reader.int("read_timeout", 60, minimum=1, maximum=900) or 60,
    )
    if not re.match(r"^[A-Za-z0-9]+$", parsed.tls_policy_sid):
        raise ConfigError(
            f"{WHERE_OPTIONS}.tls_policy_sid must be letters and digits only, got {parsed.tls_policy_sid!r}",
            hint="Use e.g. DenyInsecureTransport.",
        )
    warnings = deprecated + reader.unknown_keys(("enabled", "timeout"))
    if backend.acl and backend.acl != "bucket-owner-full-control" and parsed.wants("ownership_controls"):
        warnings.append(
            f"backend.acl {backend.acl!r} will be refused by a bucket with ACLs disabled (BucketOwnerEnforced); remove acl, or add ownership_controls to provision.backend.skip"
        )
    if not backend.dynamodb_table and not backend.use_lockfile:
        warnings.append("no state locking configured: set use_lockfile: true (Terraform >= 1.10) or dynamodb_table")
    return parsed, warnings
