"""What a component's terraform code creates per environment: its ``resource`` blocks and how many
instances each has (``count`` / ``for_each`` evaluated from the environment's vars where they are
constants, a var, a var's length or a conditional on a var; nothing else is evaluated).

The cost report counts these instead of assuming one of each kind the policy declares.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from provisioner_core import ConfigError
from provisioner_env import hcl
from provisioner_env.layouts import relative_to

# Kinds that bill by the hour or month while idle: without a declared price their cost is unknown, never $0.
PAID_KINDS = frozenset({
    "aws_rds_cluster", "aws_rds_cluster_instance", "aws_db_instance", "aws_nat_gateway", "aws_lb", "aws_alb", "aws_elb", "aws_instance",
    "aws_eks_cluster", "aws_eks_node_group", "aws_elasticache_cluster", "aws_elasticache_replication_group", "aws_elasticache_serverless_cache",
    "aws_opensearch_domain", "aws_elasticsearch_domain", "aws_redshift_cluster", "aws_msk_cluster", "aws_mq_broker", "aws_docdb_cluster_instance",
    "aws_neptune_cluster_instance", "aws_ec2_client_vpn_endpoint", "aws_vpc_endpoint", "aws_eip", "aws_kms_key", "aws_secretsmanager_secret",
    "aws_ecs_service", "aws_globalaccelerator_accelerator", "aws_networkfirewall_firewall", "aws_route53_zone", "aws_wafv2_web_acl",
    "aws_transfer_server", "aws_directory_service_directory",
    "google_sql_database_instance", "google_container_cluster", "google_container_node_pool", "google_compute_instance", "google_redis_instance",
    "google_compute_router_nat", "google_alloydb_instance", "google_spanner_instance", "google_filestore_instance",
    "azurerm_postgresql_flexible_server", "azurerm_mysql_flexible_server", "azurerm_mssql_database", "azurerm_kubernetes_cluster",
    "azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine", "azurerm_virtual_machine", "azurerm_redis_cache", "azurerm_nat_gateway",
    "azurerm_application_gateway", "azurerm_firewall", "azurerm_public_ip", "azurerm_cosmosdb_account",
})  # fmt: skip

_VAR = re.compile(r"var\.([A-Za-z_][A-Za-z0-9_-]*)")
_LENGTH = re.compile(r"length\(\s*var\.([A-Za-z_][A-Za-z0-9_-]*)\s*\)")
_TOSET = re.compile(r"toset\(\s*(.*)\s*\)", re.DOTALL)
_CONDITIONAL = re.compile(r"(!?)\s*var\.([A-Za-z_][A-Za-z0-9_-]*)\s*\?\s*(\d+)\s*:\s*(\d+)")
_COMPARE = re.compile(r"var\.([A-Za-z_][A-Za-z0-9_-]*)\s*(==|!=)\s*\"([^\"]*)\"\s*\?\s*(\d+)\s*:\s*(\d+)")


@frozen
class CodeResource:
    """One ``resource "type" "name"`` block: where, and its count/for_each expression text."""

    type: str
    name: str
    file: str  # relative to the project root
    line: int
    count: str | None = None
    for_each: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@frozen
class Count:
    """How many instances one environment gets of a resource, and how that was found (None: not evaluated)."""

    instances: int | None
    how: str


def code_of(folder: Path, root: Path) -> tuple[list[CodeResource], dict[str, Any]]:
    """The resource blocks of a folder's ``*.tf`` files, and its variables' literal defaults."""
    resources: list[CodeResource] = []
    defaults: dict[str, Any] = {}
    for path in sorted(folder.glob("*.tf")):
        relative = relative_to(path, root)
        for block in hcl.parse_blocks(path.read_text(), relative):
            if block.type == "resource" and len(block.labels) == 2:
                resources.append(CodeResource(block.labels[0], block.labels[1], relative, block.line, block.attributes.get("count"), block.attributes.get("for_each")))
            elif block.type == "variable" and len(block.labels) == 1 and "default" in block.attributes:
                found = _literal(block.attributes["default"])
                if found is not _UNKNOWN:
                    defaults[block.labels[0]] = found
    return resources, defaults


_UNKNOWN = object()


def _literal(expression: str) -> Any:
    try:
        return hcl.parse_values(f"v = {expression}\n", "(expression)").get("v", _UNKNOWN)
    except ConfigError:
        return _UNKNOWN


def _size(value: Any) -> int | None:
    if isinstance(value, (list, dict)):
        return len(value) if isinstance(value, dict) else len({repr(v) for v in value})
    return None


def count_of(resource: CodeResource, variables: Mapping[str, Any], defaults: Mapping[str, Any], source: str) -> Count:
    """Instances of ``resource`` for an environment whose vars are ``variables`` (from ``source``, e.g. its tfvars file)."""

    def var(name: str) -> tuple[Any, str]:
        if name in variables:
            return variables[name], source
        if name in defaults:
            return defaults[name], "its default"
        return _UNKNOWN, ""

    if resource.count is not None:
        expression = resource.count.strip()
        literal = _literal(expression)
        if isinstance(literal, int) and not isinstance(literal, bool):
            return Count(literal, f"count = {literal}")
        if match := re.fullmatch(_VAR, expression):
            value, where = var(match.group(1))
            if isinstance(value, int) and not isinstance(value, bool):
                return Count(value, f"count = var.{match.group(1)} = {value} ({where})")
        elif match := re.fullmatch(_LENGTH, expression):
            value, where = var(match.group(1))
            if (size := _size(value)) is not None:
                return Count(size, f"count = length(var.{match.group(1)}) = {size} ({where})")
        elif match := re.fullmatch(_CONDITIONAL, expression):
            value, where = var(match.group(2))
            if isinstance(value, bool):
                chosen = int(match.group(3)) if value != (match.group(1) == "!") else int(match.group(4))
                return Count(chosen, f"count = {expression} = {chosen} ({where})")
        elif match := re.fullmatch(_COMPARE, expression):
            value, where = var(match.group(1))
            if isinstance(value, str):
                equal = (value == match.group(3)) == (match.group(2) == "==")
                chosen = int(match.group(4)) if equal else int(match.group(5))
                return Count(chosen, f"count = {expression} = {chosen} ({where})")
        return Count(None, f"count = {expression} (not evaluated)")
    if resource.for_each is not None:
        expression = resource.for_each.strip()
        inner = match.group(1).strip() if (match := re.fullmatch(_TOSET, expression)) else expression
        literal = _literal(inner)
        if (size := _size(literal)) is not None:
            return Count(size, f"for_each over {size} keys")
        if match := re.fullmatch(_VAR, inner):
            value, where = var(match.group(1))
            if (size := _size(value)) is not None:
                return Count(size, f"for_each = var.{match.group(1)}: {size} keys ({where})")
        return Count(None, f"for_each = {expression} (not evaluated)")
    return Count(1, "one")
