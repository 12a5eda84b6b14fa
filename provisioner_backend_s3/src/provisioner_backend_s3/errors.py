"""Translate botocore errors into core's errors, with the step, the IAM actions and a hint.

Every SDK failure we can foresee gets its documented exit code; the rest become a general
error (exit 1) that still names the step and the AWS error code. No message carries a secret:
we quote only AWS error codes, short AWS messages, resource names and endpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from provisioner_core import ConfigError, NetworkError, PermissionDenied, ProvisionerError, ResourceConflict, translating

DOCS = "docs/backends/s3.md#permissions"

PERMISSION_CODES = frozenset(
    {
        "AccessDenied", "AccessDeniedException", "403", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId",
        "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
        "InvalidToken", "TokenRefreshRequired", "AuthorizationError", "MissingAuthenticationToken",
    }
)  # fmt: skip
CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidToken",
    }
)
THROTTLE_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "TooManyRequestsException",
        "RequestThrottled",
    }
)
SERVER_CODES = frozenset(
    {"InternalError", "InternalFailure", "ServiceUnavailable", "500", "502", "503", "504", "RequestTimeout", "RequestTimeoutException"}
)
REGION_CODES = frozenset(
    {
        "PermanentRedirect",
        "301",
        "AuthorizationHeaderMalformed",
        "IllegalLocationConstraintException",
        "IncompatibleLocationConstraint",
        "InvalidLocationConstraint",
    }
)
UNSUPPORTED_CODES = frozenset({"NotImplemented", "501", "MethodNotAllowed", "405", "XNotImplemented"})


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str((response.get("Error") or {}).get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "")


def error_message(exc: BaseException) -> str:
    """A short, one-line AWS message (moto sometimes wraps it in XML: keep it readable)."""
    response = getattr(exc, "response", None)
    message = str(((response or {}).get("Error") or {}).get("Message") or "") if isinstance(response, dict) else ""
    message = " ".join(message.split())
    if message.startswith("<?xml"):
        start, end = message.find("<Message>"), message.find("</Message>")
        message = message[start + 9 : end] if start >= 0 and end > start else ""
    return message[:200]


def response_header(exc_or_response: Any, name: str) -> str | None:
    response = getattr(exc_or_response, "response", exc_or_response)
    if not isinstance(response, dict):
        return None
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    value = headers.get(name.lower())
    return str(value) if value else None


def rejected_credentials(step: str, said: str, identity: str | None, context: dict[str, str]) -> PermissionDenied:
    """AWS does not accept the credentials themselves (unknown key, wrong secret, expired token): no IAM grant helps."""
    who = f" of {identity}" if identity else ""
    return PermissionDenied(
        f"{step}: AWS rejected the credentials{who}: {said}",
        hint="The key is unknown, revoked or for another partition, its secret key is wrong, or the session expired: check auth.providers.aws.",
        context={**context, **({"identity": identity} if identity else {})},
    )


def explain_denied(denied: PermissionDenied, arn: str | None, code: str | None, identity: str | None) -> PermissionDenied:
    """A bare 403 (HeadBucket has no body) made precise by ``sts:GetCallerIdentity``: bad credentials, or who was denied."""
    if code in CREDENTIAL_CODES:
        rejected = rejected_credentials(str(denied.context.get("step", "head-bucket")), f"{code} (sts:GetCallerIdentity; the 403 had no reason)", identity, denied.context)
        rejected.__cause__ = denied.__cause__
        return rejected
    if arn:
        denied.message = f"{denied.message} as {arn}"
        denied.args = (denied.message,)
        denied.context["identity"] = arn
    return denied


def wrong_region(bucket: str, configured: str, actual: str) -> ConfigError:
    return ConfigError(
        f"bucket {bucket!r} is in region {actual}, but backend.region is {configured}",
        hint=f"Set backend.region to {actual} (terraform must use the bucket's region), or choose another bucket name for {configured}.",
        context={"bucket": bucket, "configured_region": configured, "bucket_region": actual},
    )


Identity = Callable[[], "str | None"]


def translated(
    step: str,
    actions: Sequence[str],
    *,
    resource: str,
    endpoint: str,
    region: str,
    bucket: str | None = None,
    skip: str | None = None,
    identity: Identity | None = None,
) -> AbstractContextManager[None]:
    """Run one SDK step; turn its botocore errors into core errors naming the step.

    ``skip``: the ``provision.backend.skip`` value that avoids this step, offered in the hint;
    ``identity``: who the call was made as (asked only when the credentials were rejected).
    """
    return translating(lambda exc: translate(exc, step, actions, resource=resource, endpoint=endpoint, region=region, bucket=bucket, skip=skip, identity=identity))


def translate(
    exc: BaseException,
    step: str,
    actions: Sequence[str],
    *,
    resource: str,
    endpoint: str,
    region: str,
    bucket: str | None = None,
    skip: str | None = None,
    identity: Identity | None = None,
) -> ProvisionerError | None:
    """The core error for ``exc`` raised during ``step`` (None when it is not a botocore error)."""
    from botocore import exceptions as bx  # lazy: listing plugins must not import botocore

    context = {"step": step, "resource": resource, "region": region, "endpoint": endpoint}
    needed = ", ".join(actions)
    if isinstance(exc, (bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return NetworkError(
            f"{step}: timed out talking to {endpoint}",
            hint=f"Check that {endpoint} is reachable from here; raise provision.backend.read_timeout/connect_timeout if it is slow.",
            context=context,
        )
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.ProxyConnectionError, bx.SSLError, bx.HTTPClientError)):
        kind = "TLS handshake failed with" if isinstance(exc, bx.SSLError) else "could not connect to"
        return NetworkError(
            f"{step}: {kind} {endpoint}",
            hint=f"Check the endpoint ({endpoint}), the network path and proxies; for emulators set backend.endpoints.s3 and use_path_style: true.",
            context=context,
        )
    if isinstance(exc, bx.ProfileNotFound):
        return ConfigError(
            f"{step}: AWS profile not found: {exc.kwargs.get('profile', '')}",
            hint="Check auth.providers.aws.profile against ~/.aws/config.",
            context=context,
        )
    if isinstance(exc, bx.ConfigParseError):
        # A profile's config file that botocore cannot parse: the user's file, not a bug here.
        return ConfigError(
            f"{step}: the AWS config file cannot be parsed: {exc.kwargs.get('path', '')}",
            hint="Fix the file (AWS_CONFIG_FILE / ~/.aws/config) that auth.providers.aws.profile is read from.",
            context=context,
        )
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.CredentialRetrievalError)):
        return ConfigError(
            f"{step}: the AWS credentials from auth.providers.aws are incomplete or unusable",
            hint="Check auth.providers.aws (keys or profile).",
            context=context,
        )
    if isinstance(exc, (bx.TokenRetrievalError, bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError)):
        return PermissionDenied(
            f"{step}: the SSO session for the AWS profile has expired",
            hint="Run `aws sso login --profile <profile>` and retry.",
            context=context,
        )
    if isinstance(exc, bx.ParamValidationError):
        return ConfigError(
            f"{step}: a value was rejected before sending: {' '.join(str(exc).split())[:300]}",
            hint="Check the backend settings named above.",
            context=context,
        )
    if not isinstance(exc, bx.ClientError):
        return None

    code = error_code(exc)
    message = error_message(exc)
    context["aws_error"] = code
    said = f" ({message})" if message and message != code else ""
    if code in REGION_CODES:
        actual = response_header(exc, "x-amz-bucket-region")
        if bucket and actual and actual != region:
            return wrong_region(bucket, region, actual)
        return ConfigError(
            f"{step}: the bucket or request is not in region {region}: {code}{said}",
            hint="Check backend.region and backend.endpoints.s3.",
            context=context,
        )
    if code in PERMISSION_CODES:
        if code in CREDENTIAL_CODES:
            return rejected_credentials(step, code + said, identity() if identity else None, context)
        hints = [f"Grant the identity these IAM actions on {resource}: {needed}. The minimal policy is in {DOCS}."]
        if skip:
            hints.append(f"If an SCP or a central team owns this setting, add {skip} to provision.backend.skip.")
        if step == "head-bucket":
            hints.append("A 403 here also means the bucket may exist in another account: bucket names are global.")
        return PermissionDenied(f"{step}: access denied ({code}){said}", hint=hints, context=context)
    if code == "BucketAlreadyExists":
        return ResourceConflict(
            f"bucket name {bucket!r} is already taken by another AWS account",
            hint="S3 bucket names are global: choose another name, e.g. add your account id or org prefix.",
            context=context,
        )
    if code == "InvalidBucketAclWithObjectOwnership":
        return ResourceConflict(
            f"{step}: the bucket ACL grants access to others, so ACLs cannot be disabled (BucketOwnerEnforced)",
            hint="Move those grants into the bucket policy and reset the ACL to private, or add ownership_controls to provision.backend.skip.",
            context=context,
        )
    if code in THROTTLE_CODES or code in SERVER_CODES:
        return NetworkError(
            f"{step}: {endpoint} kept failing ({code}) after the configured retries",
            # Name the endpoint in the hint too, as every other exit-5 hint does (GCS and Azure say it the same way).
            hint=f"{endpoint} is throttling or unavailable; retry later, or raise provision.backend.attempts.",
            context=context,
        )
    if code in UNSUPPORTED_CODES:
        what = f"add {skip} to provision.backend.skip" if skip else "skip the setting in provision.backend.skip"
        return ConfigError(
            f"{step}: the endpoint does not support this call ({code})",
            hint=f"For S3-compatible stores without this feature, {what}.",
            context=context,
        )
    if code in ("InvalidBucketName",):
        return ConfigError(
            f"{step}: the server rejected the bucket name: {message or code}",
            hint="Choose a name that follows the S3 naming rules.",
            context=context,
        )
    if code in (
        "KMS.NotFoundException",
        "KMS.DisabledException",
        "KMS.KMSInvalidStateException",
        "InvalidArgument",
        "MalformedPolicy",
        "InvalidTag",
        "ValidationException",
    ):
        return ConfigError(
            f"{step}: AWS rejected a value: {code}{said}",
            hint="Check kms_key_id, tags and the other settings this step sends.",
            context=context,
        )
    return ProvisionerError(
        f"{step}: AWS error {code or type(exc).__name__}{said}",
        hint="See the AWS error code above; run again with --debug for the full response.",
        context=context,
    )
