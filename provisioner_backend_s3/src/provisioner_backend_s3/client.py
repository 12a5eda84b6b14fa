"""Build botocore clients from the AuthContext only, cached per identity, region and endpoint.

botocore is imported here, inside functions, so that listing plugins never pays for it; boto3
is not used at all (its import and s3transfer cost ~0.15 s per process for nothing we need). A
session is never built from the ambient credential chain: keys or a named profile come from
``auth.providers.aws``; a role from ``backend.assume_role`` is assumed through STS on top.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from provisioner_backend_s3 import __version__
from provisioner_backend_s3.config import S3Backend, S3Options
from provisioner_backend_s3.credentials import AwsCredentials
from provisioner_backend_s3.errors import error_code, translated
from provisioner_core import ClientCache, ConfigError

if TYPE_CHECKING:
    from botocore.session import Session


def _check_credentials(creds: Any) -> AwsCredentials:
    if not isinstance(creds, AwsCredentials):
        raise ConfigError(
            "auth.providers.aws did not produce AWS credentials", hint="Use an aws provider type of provisioner-backend-s3: profile, aws-sso, static or env."
        )
    if creds.method != "profile" and not (creds.access_key_id and creds.secret_access_key):
        # A Session without keys would fall back to the ambient chain: refuse instead.
        raise ConfigError("auth.providers.aws has no access key", hint="Set access_key_id and secret_access_key, or use type: profile.")
    if creds.method == "profile" and not creds.profile:
        raise ConfigError("auth.providers.aws type profile has no profile name", hint="Set auth.providers.aws.profile.")
    return creds


# Explicit keys need no AWS config file: an ambient AWS_PROFILE naming a missing profile, or an
# unreadable ~/.aws/config, must not break (or shape) a run that never asked for either.
_NO_AMBIENT_FILES = {
    "profile": (None, None, None, None),
    "config_file": (None, None, os.devnull, None),
    "credentials_file": (None, None, os.devnull, None),
}


def _session(
    access_key: str | None = None, secret_key: str | None = None, token: str | None = None, *, profile: str | None = None
) -> Session:
    """A botocore session with explicit keys, or one named profile: never the ambient chain."""
    from botocore.session import Session

    if profile is not None:
        session = Session(profile=profile)
        # Load the profile now, inside translated(): a missing profile is a config error (exit 2), not a crash later.
        session.get_scoped_config()
        return session
    session = Session(session_vars=_NO_AMBIENT_FILES)
    session.set_credentials(access_key, secret_key, token)
    return session


class AwsClients:
    """The S3 and DynamoDB clients for one backend configuration, built once per run."""

    def __init__(self, creds: Any, backend: S3Backend, options: S3Options, cache: ClientCache) -> None:
        self.creds = _check_credentials(creds)
        self.backend = backend
        self.options = options
        self.cache = cache

    # --- cache keys: only non-secret parts --------------------------------------------------

    def _identity(self) -> tuple[Any, ...]:
        role = self.backend.assume_role
        role_key = (
            (role.role_arn, role.session_name, role.external_id, role.duration_s, role.policy, role.policy_arns, role.source_identity)
            if role
            else None
        )
        return (self.creds.fingerprint(), role_key)

    def _tuning(self) -> tuple[Any, ...]:
        b, o = self.backend, self.options
        return (o.attempts, o.connect_timeout_s, o.read_timeout_s, b.path_style, b.verify, b.use_fips_endpoint, b.use_dualstack_endpoint)

    # --- construction --------------------------------------------------------------------

    def _config(self, service: str) -> Any:
        from botocore.config import Config

        extra: dict[str, Any] = {}
        if service == "s3":
            extra["s3"] = {"addressing_style": "path" if self.backend.path_style else "auto"}
            # Only when the API requires it: S3-compatible stores reject the newer default checksums.
            extra["request_checksum_calculation"] = "when_required"
            extra["response_checksum_validation"] = "when_required"
        return Config(
            retries={"mode": "standard", "total_max_attempts": self.options.attempts},  # botocore's retries, counted as our attempts
            connect_timeout=self.options.connect_timeout_s,
            read_timeout=self.options.read_timeout_s,
            user_agent_extra=f"provisioner-backend-s3/{__version__}",
            use_fips_endpoint=self.backend.use_fips_endpoint,
            use_dualstack_endpoint=self.backend.use_dualstack_endpoint,
            ignore_configured_endpoint_urls=True,  # AWS_ENDPOINT_URL* is ambient config: only the backend decides
            **extra,
        )

    def _base_session(self) -> Session:
        def build() -> Session:
            with translated("load AWS credentials", (), resource="auth.providers.aws", endpoint="(local)", region=self.backend.region):
                kwargs = self.creds.session_kwargs()
                if "profile_name" in kwargs:
                    return _session(profile=kwargs["profile_name"])
                return _session(kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"], kwargs["aws_session_token"])

        return self.cache.get(("aws-session", self.creds.fingerprint(), self.backend.region), build)

    def session(self) -> Session:
        """The session the backend's calls use: the AuthContext identity, or the assumed role."""
        role = self.backend.assume_role
        if role is None:
            return self._base_session()
        return self.cache.get(("aws-assumed-session", *self._identity(), self.backend.region, self.backend.endpoints.sts), self._assume)

    def _assume(self) -> Session:
        role = self.backend.assume_role
        assert role is not None
        sts_region = self.backend.sts_region or self.backend.region
        sts = self._base_session().create_client(
            "sts", region_name=sts_region, endpoint_url=self.backend.endpoints.sts, verify=self.backend.verify, config=self._config("sts")
        )
        kwargs: dict[str, Any] = {"RoleArn": role.role_arn, "RoleSessionName": role.session_name}
        if role.external_id:
            kwargs["ExternalId"] = role.external_id
        if role.duration_s:
            kwargs["DurationSeconds"] = role.duration_s
        if role.policy:
            kwargs["Policy"] = role.policy
        if role.policy_arns:
            kwargs["PolicyArns"] = [{"arn": arn} for arn in role.policy_arns]
        if role.tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in role.tags.items()]
        if role.transitive_tag_keys:
            kwargs["TransitiveTagKeys"] = list(role.transitive_tag_keys)
        if role.source_identity:
            kwargs["SourceIdentity"] = role.source_identity
        endpoint = self.backend.endpoints.sts or f"sts.{sts_region} (AWS)"
        with translated("assume role", ("sts:AssumeRole",), resource=role.role_arn, endpoint=endpoint, region=sts_region, identity=self.identity):
            answer = sts.assume_role(**kwargs)["Credentials"]
        return _session(answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"])

    def _client(self, service: str, endpoint: str | None) -> Any:
        key = (service, *self._identity(), self.backend.region, endpoint, self._tuning())
        return self.cache.get(
            key,
            lambda: self.session().create_client(
                service, region_name=self.backend.region, endpoint_url=endpoint, verify=self.backend.verify, config=self._config(service)
            ),
        )

    def s3(self) -> Any:
        return self._client("s3", self.backend.endpoints.s3)

    def dynamodb(self) -> Any:
        return self._client("dynamodb", self.backend.endpoints.dynamodb)

    def identity(self) -> str | None:
        """Who the calls are made as, for messages: the access key id (not a secret; the secret key is) or the profile, and the role."""
        who = f"access key {self.creds.access_key_id}" if self.creds.access_key_id else f"profile {self.creds.profile}" if self.creds.profile else ""
        role = self.backend.assume_role
        return (who + (f" as role {role.role_arn}" if role else "")).strip() or None

    def caller_identity(self) -> tuple[str | None, str | None]:
        """``sts:GetCallerIdentity`` as the run's identity: (its ARN, None), or (None, the AWS error code); (None, None) when not asked.

        Asked only to explain a failure (never on the no-op path), and only where STS is known to
        be: AWS itself, or a configured ``endpoints.sts`` (an S3-compatible store has none).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        if self.backend.endpoints.s3 and not self.backend.endpoints.sts:
            return None, None
        try:
            answer = self._client("sts", self.backend.endpoints.sts).get_caller_identity()
        except ClientError as exc:
            return None, error_code(exc) or None
        except BotoCoreError:
            return None, None
        return answer.get("Arn"), None

    def describe_endpoint(self, service: str) -> str:
        """The endpoint named in messages: the configured URL, or the AWS regional one."""
        configured = getattr(self.backend.endpoints, service)
        return configured or f"{service}.{self.backend.region}.amazonaws.com"
