"""Pure plans: the storage account (with its blob service), blob soft delete without ARM, the container.

No SDK and no I/O: each plan compares what was read with the options, records drift (a skipped
setting's drift is reported, ``kept``), and describes the one write per resource part that
strengthens it (never weakens, never drops a tag or a metadata entry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from provisioner_backend_azure.config import MANAGED_BY_METADATA, MANAGED_BY_TAG, TLS_ORDER, Options, Target
from provisioner_core import Plan, PlanBuilder

SKIPPED = "skipped by provision.backend.skip"


@frozen
class AccountState:
    """The storage account and its blob service properties, as ARM JSON; the containers that allow public access."""

    account: Mapping[str, Any]
    service: Mapping[str, Any] = field(factory=dict)
    public_containers: tuple[str, ...] = ()


@frozen
class ContainerState:
    """A container's public access and metadata; its stored access policies when public access is on (sent back when turning it off)."""

    public_access: str | None = None  # None, "blob" or "container"
    metadata: Mapping[str, str] = field(factory=dict)
    identifiers: Mapping[str, Any] = field(factory=dict)


def check(p: PlanBuilder, options: Options, setting: str, expected: Any, actual: Any, *, stronger: bool = True, reason: str = "") -> bool:
    """Record drift on ``setting``; True when the fix should be written (never for a skipped setting)."""
    if not options.wants(setting):
        p.drift(setting, expected, actual, stronger=False, reason=SKIPPED)
        return False
    p.drift(setting, expected, actual, stronger=stronger, reason=reason)
    return stronger


def plan_account(target: Target, options: Options, state: AccountState) -> Plan:
    """The account's security settings and tags (one PATCH), then versioning and soft delete (one PUT of the blob service)."""
    p = PlanBuilder()
    account, props = state.account, dict(state.account.get("properties") or {})
    kind, sku = account.get("kind"), (account.get("sku") or {}).get("name")
    if kind != "StorageV2":
        p.drift("kind", "StorageV2", kind, stronger=False, reason="upgrading the account kind is one-way and changes pricing; upgrade it yourself")
    if options.sku and sku != options.sku:
        p.drift("sku", options.sku, sku, stronger=False, reason="the SKU sets cost and redundancy; change it yourself")
    patch: dict[str, Any] = {}
    tls = props.get("minimumTlsVersion") or "TLS1_0"  # absent on old accounts, which accept TLS 1.0
    if _tls_rank(tls) < _tls_rank(options.min_tls_version) and check(p, options, "min_tls_version", options.min_tls_version, tls):
        patch["minimumTlsVersion"] = options.min_tls_version
    if props.get("supportsHttpsTrafficOnly") is not True and check(p, options, "https_only", True, props.get("supportsHttpsTrafficOnly")):
        patch["supportsHttpsTrafficOnly"] = True
    if props.get("allowBlobPublicAccess") is not False:  # absent means allowed on accounts created before 2023
        public = state.public_containers
        reason = f"containers {', '.join(public)} allow public access; disallowing it on the account would cut them off" if public else ""
        if check(p, options, "blob_public_access", False, props.get("allowBlobPublicAccess", True), stronger=not public, reason=reason):
            patch["allowBlobPublicAccess"] = False
    if target.use_azuread_auth and props.get("allowSharedKeyAccess") is not False and check(p, options, "shared_key_access", False, props.get("allowSharedKeyAccess", True)):
        patch["allowSharedKeyAccess"] = False
    body: dict[str, Any] = {"properties": patch} if patch else {}
    tags = dict(account.get("tags") or {})
    if options.wants("tags"):
        # ARM compares tag names without regard to case: "Managed-By" is our managed-by tag.
        merged = merge_labels(p, tags, options.desired_tags(), "tags", MANAGED_BY_TAG, case_insensitive=True)
        if merged is not None:
            body["tags"] = merged
    if body:
        detail = ", ".join([f"{k}={_text(v)}" for k, v in patch.items()] + (["tags merged"] if "tags" in body else []))
        p.write("update-storage-account", detail, body, settings=[_snake(k) for k in patch] + (["tags"] if "tags" in body else []))
    p.show("account_settings", _settings(account, props, tags), _settings(account, {**props, **patch}, body.get("tags", tags)))
    _blob_service(p, target, options, dict(state.service.get("properties") or {}))
    return p.build()


def _blob_service(p: PlanBuilder, target: Target, options: Options, props: dict[str, Any]) -> None:
    """Versioning on; blob and container soft delete at least the configured days (never lowered)."""
    found = _service_details(props)
    changes: list[str] = []
    settings: list[str] = []
    if not props.get("isVersioningEnabled") and check(p, options, "versioning", True, props.get("isVersioningEnabled", False)):
        props["isVersioningEnabled"] = True
        changes.append("versioning on")
        settings.append("versioning")
    for setting, policy_name, days in (
        ("blob_soft_delete", "deleteRetentionPolicy", options.blob_retention_days),
        ("container_soft_delete", "containerDeleteRetentionPolicy", options.container_retention_days),
    ):
        policy = dict(props.get(policy_name) or {})
        actual = policy.get("days") if policy.get("enabled") else None
        if (actual is None or actual < days) and check(p, options, setting, f"{days} days", f"{actual} days" if actual else "disabled"):
            props[policy_name] = {**policy, "enabled": True, "days": days}
            changes.append(f"{policy_name} {days} days")
            settings.append(setting)
    if changes:
        # Read-modify-write: CORS, change feed and the rest are sent back unchanged.
        p.write("set-blob-service-properties", ", ".join(changes), {"properties": props}, settings=settings, target=f"blob service of {target.account}")
    for key, value in _service_details(props).items():
        p.show(key, found[key], value)


def plan_retention(target: Target, options: Options, days: int | None) -> Plan:
    """Blob soft delete through the data plane (no ARM): at least the configured days."""
    p = PlanBuilder()
    desired, after = options.blob_retention_days, days
    if (days is None or days < desired) and check(p, options, "blob_soft_delete", f"{desired} days", f"{days} days" if days else "disabled"):
        p.write("set-blob-service-properties", f"deleteRetentionPolicy {desired} days", desired, settings=["blob_soft_delete"], target=f"blob service of {target.account}")
        after = desired
    p.found["blob_retention_days"], p.details["blob_retention_days"] = days, after
    return p.build()


def plan_container(target: Target, options: Options, state: ContainerState) -> Plan:
    """Private (public access off, stored access policies kept) and our metadata entry (existing ones kept)."""
    p = PlanBuilder()
    where = f"container {target.container}"
    public = state.public_access
    if public and check(p, options, "container_public_access", "private", public):
        p.write("set-container-acl", f"public access off, {len(state.identifiers)} stored access policies kept", dict(state.identifiers), settings=["container_public_access"], target=where)
        p.show("container_public_access", public, "private")
    else:
        p.show("container_public_access", public or "private")
    existing = dict(state.metadata)
    merged = merge_labels(p, existing, options.desired_metadata(), "metadata", MANAGED_BY_METADATA, case_insensitive=True) if options.wants("metadata") else None
    if merged is not None:
        p.write("set-container-metadata", f"{len(merged)} metadata entries (existing ones kept)", merged, settings=["metadata"], target=where)
    p.show("container_metadata", existing, merged)
    return p.build()


def merge_labels(p: PlanBuilder, existing: Mapping[str, str], desired: Mapping[str, str], setting: str, managed_key: str, *, case_insensitive: bool = False) -> dict[str, str] | None:
    """Existing tags/metadata plus the desired ones; None when nothing changes. Never drops a key.

    A different ``managed_key`` value means another tool claims the resource: kept, and reported.
    """
    merged = dict(existing)
    lookup = {k.lower(): k for k in existing} if case_insensitive else {k: k for k in existing}
    for key, value in desired.items():
        existing_key = lookup.get(key.lower() if case_insensitive else key)
        current = existing.get(existing_key) if existing_key is not None else None
        if current == value:
            continue
        if key == managed_key and current is not None:
            p.drift(f"{setting}.{key}", value, current, stronger=False, reason="another tool is recorded as its manager; left as is")
            continue
        p.drift(f"{setting}.{key}", value, current)
        merged[existing_key or key] = value
    return merged if merged != dict(existing) else None


def _settings(account: Mapping[str, Any], props: Mapping[str, Any], tags: Mapping[str, str]) -> dict[str, Any]:
    return {
        "kind": account.get("kind"),
        "sku": (account.get("sku") or {}).get("name"),
        "location": account.get("location"),
        "min_tls_version": props.get("minimumTlsVersion") or "TLS1_0",
        "https_only": props.get("supportsHttpsTrafficOnly"),
        "allow_blob_public_access": props.get("allowBlobPublicAccess", True),
        "allow_shared_key_access": props.get("allowSharedKeyAccess", True),
        "tags": dict(tags),
    }


def _service_details(props: Mapping[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {"versioning": bool(props.get("isVersioningEnabled"))}
    for key, policy_name in (("blob_retention_days", "deleteRetentionPolicy"), ("container_retention_days", "containerDeleteRetentionPolicy")):
        policy = props.get(policy_name) or {}
        details[key] = policy.get("days") if policy.get("enabled") else None
    return details


def _tls_rank(version: str) -> int:
    return TLS_ORDER.index(version) if version in TLS_ORDER else -1


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _snake(camel: str) -> str:
    return {"minimumTlsVersion": "min_tls_version", "supportsHttpsTrafficOnly": "https_only", "allowBlobPublicAccess": "blob_public_access", "allowSharedKeyAccess": "shared_key_access"}.get(camel, camel)
