"""Environment names (normalised from branch names) and provider limits on resource names.

Every generated resource name is checked before anything is written, so a long branch name
fails up front with the offending name instead of half-way through ``terraform apply``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from provisioner_core import ConfigError, NameRule

DEFAULT_MAX_ENV_LENGTH = 32
_ENV_NAME = re.compile(r"[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*")


def normalise_env_name(raw: str) -> str:
    """``feature/Auth_2`` -> ``feature-auth-2``: lowercase, every other character run becomes ``-``."""
    name = raw.strip()
    name = name.removeprefix("refs/heads/")
    name = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not name:
        raise ConfigError(f"environment name {raw!r} has no letters or digits", hint="Use a name such as feature-auth or staging.")
    return name


def validate_env_name(name: str, *, max_length: int = DEFAULT_MAX_ENV_LENGTH, pattern: str | None = None) -> None:
    """A lowercase name part: starts with a letter, letters/digits/single hyphens, within the limit."""
    if not _ENV_NAME.fullmatch(name):
        raise ConfigError(
            f"environment name {name!r} is not valid",
            hint="Use lowercase letters, digits and single hyphens, starting with a letter (e.g. feature-auth).",
        )
    if len(name) > max_length:
        raise ConfigError(
            f"environment name {name!r} is {len(name)} characters, over the limit of {max_length} (environments.naming.max_length)",
            hint="Use a shorter name; every resource name that carries it gets longer by the same amount.",
        )
    if pattern is not None and not re.fullmatch(pattern, name):
        raise ConfigError(f"environment name {name!r} does not match environments.naming.pattern {pattern!r}", hint="Choose a name that matches the project's naming rule.")


_AWS_IAM = r"[\w+=,.@-]+"
_LOWER_LABEL = "lowercase letters, digits and hyphens; starts with a letter; no trailing hyphen"

# Terraform resource type -> the provider's documented limits on its name (for the policy's resources;
# the backends' own names come with their backend types).
NAME_RULES: Mapping[str, NameRule] = {
    "aws_s3_bucket": NameRule(63, 3, r"[a-z0-9][a-z0-9.-]*[a-z0-9]", "lowercase letters, digits, dots and hyphens; starts and ends with a letter or digit"),
    "aws_iam_role": NameRule(64, 1, _AWS_IAM, "letters, digits and +=,.@_-"),
    "aws_iam_user": NameRule(64, 1, _AWS_IAM, "letters, digits and +=,.@_-"),
    "aws_iam_policy": NameRule(128, 1, _AWS_IAM, "letters, digits and +=,.@_-"),
    "aws_lambda_function": NameRule(64, 1, r"[A-Za-z0-9_-]+", "letters, digits, hyphens and underscores"),
    "aws_dynamodb_table": NameRule(255, 3, r"[A-Za-z0-9_.-]+", "letters, digits, underscores, hyphens and dots"),
    "aws_sqs_queue": NameRule(80, 1, r"[A-Za-z0-9_-]+(?:\.fifo)?", "letters, digits, hyphens and underscores"),
    "aws_sns_topic": NameRule(256, 1, r"[A-Za-z0-9_-]+(?:\.fifo)?", "letters, digits, hyphens and underscores"),
    "aws_sfn_state_machine": NameRule(80, 1, r"[A-Za-z0-9_-]+", "letters, digits, hyphens and underscores"),
    "aws_rds_cluster": NameRule(63, 1, r"[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*", "letters, digits and single hyphens; starts with a letter"),
    "aws_db_instance": NameRule(63, 1, r"[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*", "letters, digits and single hyphens; starts with a letter"),
    "aws_lb": NameRule(32, 1, r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?", "letters, digits and hyphens; no hyphen at either end"),
    "aws_lb_target_group": NameRule(32, 1, r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?", "letters, digits and hyphens; no hyphen at either end"),
    "aws_ecr_repository": NameRule(256, 2, r"[a-z0-9]+(?:[._/-][a-z0-9]+)*", "lowercase letters and digits separated by . _ / -"),
    "aws_cloudwatch_log_group": NameRule(512, 1, r"[A-Za-z0-9_#./-]+", "letters, digits and _-/.#"),
    "aws_secretsmanager_secret": NameRule(512, 1, r"[A-Za-z0-9/_+=.@-]+", "letters, digits and /_+=.@-"),
    "google_storage_bucket": NameRule(63, 3, r"[a-z0-9][a-z0-9_.-]*[a-z0-9]", "lowercase letters, digits, dots, hyphens and underscores"),
    "google_service_account": NameRule(30, 6, r"[a-z](?:[a-z0-9-]*[a-z0-9])?", _LOWER_LABEL),
    "google_cloud_run_v2_service": NameRule(49, 1, r"[a-z](?:[a-z0-9-]*[a-z0-9])?", _LOWER_LABEL),
    "google_cloudfunctions2_function": NameRule(63, 1, r"[a-z](?:[a-z0-9-]*[a-z0-9])?", _LOWER_LABEL),
    "azurerm_storage_account": NameRule(24, 3, r"[a-z0-9]+", "lowercase letters and digits only"),
    "azurerm_storage_container": NameRule(63, 3, r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*", "lowercase letters, digits and single hyphens"),
    "azurerm_resource_group": NameRule(90, 1, r"[\w().-]*[\w()-]", "letters, digits and _-.(); no trailing dot"),
    "azurerm_key_vault": NameRule(24, 3, r"[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*", "letters, digits and single hyphens; starts with a letter"),
}

# Kinds whose names the provider compares without case (IAM names are unique ignoring case; RDS and
# ElastiCache identifiers are stored lowercased; Azure resource names and DNS names are case-insensitive):
# `Acme-Role-DEV` and `acme-role-dev` are one resource there.
CASE_INSENSITIVE_KINDS = frozenset({
    "aws_iam_role", "aws_iam_user", "aws_iam_group", "aws_iam_policy", "aws_iam_instance_profile",
    "aws_rds_cluster", "aws_rds_cluster_instance", "aws_db_instance", "aws_db_subnet_group", "aws_db_parameter_group",
    "aws_elasticache_cluster", "aws_elasticache_replication_group", "aws_route53_zone", "google_dns_managed_zone",
})  # fmt: skip


def case_insensitive(resource_type: str) -> bool:
    """True when the provider compares ``resource_type``'s names without case (every ``azurerm_`` kind: ARM names are)."""
    return resource_type in CASE_INSENSITIVE_KINDS or resource_type.startswith("azurerm_")


def name_problems(resource_type: str, name: str, max_length: int | None = None, rule: NameRule | None = None) -> list[str]:
    """What is wrong with ``name`` for ``resource_type`` (empty when it is fine or the type is unknown)."""
    rule = rule or NAME_RULES.get(resource_type)
    if max_length is not None:
        rule = NameRule(max_length, rule.min_length if rule else 1, rule.pattern if rule else None, rule.allowed if rule else "")
    return rule.problems(name) if rule is not None else []
