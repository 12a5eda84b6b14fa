"""Bucket settings as plain values, and the pure "what must change" comparison.

No SDK and no I/O: ``plan`` compares a bucket's actual settings with the desired ones and
says, per setting, whether applying the desired value would strengthen it. Only
strengthening changes are ever written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import asdict, evolve, field, frozen

from provisioner_backend_gcs.config import DEFAULT_LABELS, Config
from provisioner_core import Change, Plan, Write

ENFORCED = "enforced"


@frozen
class BucketState:
    """The settings of a bucket as the server reports them (None: not reported)."""

    name: str
    location: str | None = None
    metageneration: int | None = None
    versioning: bool = False
    uniform_access: bool = False
    public_access_prevention: str | None = None
    labels: Mapping[str, str] = field(factory=dict)
    kms_key: str | None = None
    soft_delete_seconds: int | None = None
    retention_seconds: int | None = None
    retention_locked: bool = False
    handle: Any = field(default=None, eq=False, repr=False)  # the SDK object it was read from

    def with_patch(self, patch: Patch) -> BucketState:
        """The settings once ``patch`` is applied (for dry runs and report-only details)."""
        return evolve(self, **patch.fields())

    def details(self) -> dict[str, Any]:
        return {
            "bucket": self.name,
            "location": self.location,
            "versioning": self.versioning,
            "uniform_access": self.uniform_access,
            "public_access_prevention": self.public_access_prevention or "inherited",
            "labels": dict(sorted(self.labels.items())),
            "kms_key": self.kms_key,
            "soft_delete_days": _days(self.soft_delete_seconds),
            "retention_days": _days(self.retention_seconds),
            "retention_locked": self.retention_locked,
        }


@frozen
class Patch:
    """The bucket fields one PATCH call sets; None means "leave as is"."""

    versioning: bool | None = None
    uniform_access: bool | None = None
    public_access_prevention: str | None = None
    labels: Mapping[str, str] | None = None  # always the full merged set: never drops a key
    kms_key: str | None = None
    soft_delete_seconds: int | None = None
    retention_seconds: int | None = None

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self, recurse=False).items() if v is not None}

    def __bool__(self) -> bool:
        return bool(self.fields())

    def describe(self) -> str:
        words = []
        for name, value in self.fields().items():
            if name == "labels":
                words.append("labels=" + ",".join(f"{k}:{v}" for k, v in sorted(value.items())))
            elif name.endswith("_seconds"):
                words.append(f"{name[: -len('_seconds')]}_days={_days(value)}")
            elif isinstance(value, bool):
                words.append(f"{name}={'true' if value else 'false'}")
            else:
                words.append(f"{name}={value}")
        return ", ".join(words)


def desired_patch(config: Config) -> Patch:
    """Every setting a new bucket gets."""
    options = config.options
    return Patch(
        versioning=True if options.wants("versioning") else None,
        uniform_access=True if options.wants("uniform_access") else None,
        public_access_prevention=ENFORCED if options.wants("public_access_prevention") else None,
        labels=config.desired_labels() if options.wants("tags") else None,
        kms_key=config.bucket_kms_key,
        soft_delete_seconds=options.soft_delete_seconds if options.wants("soft_delete") else None,
        retention_seconds=options.retention_seconds if options.wants("retention") else None,
    )


def plan(config: Config, actual: BucketState) -> tuple[list[Change], Patch]:
    """The drift of ``actual`` against ``config`` and the patch that strengthens it."""
    options = config.options
    changes: list[Change] = []
    patch: dict[str, Any] = {}

    def differ(setting: str, expected: Any, current: Any, *, stronger: bool = True, reason: str = "", patch_key: str = "", value: Any = None) -> None:
        changes.append(Change(setting, expected, current, stronger, reason))
        if stronger and patch_key:
            patch[patch_key] = expected if value is None else value

    if options.location and actual.location and options.location.lower() != actual.location.lower():
        differ("location", options.location, actual.location, stronger=False, reason="a bucket's location is fixed when it is created")
    if options.wants("versioning") and not actual.versioning:
        if actual.retention_seconds:
            differ("versioning", True, False, stronger=False, reason="GCS does not allow versioning on a bucket with a retention policy")
        else:
            differ("versioning", True, False, patch_key="versioning")
    if options.wants("uniform_access") and not actual.uniform_access:
        differ("uniform_access", True, False, patch_key="uniform_access")
    if options.wants("public_access_prevention") and actual.public_access_prevention != ENFORCED:
        differ("public_access_prevention", ENFORCED, actual.public_access_prevention or "inherited", patch_key="public_access_prevention")
    if options.wants("tags"):
        labels = _plan_labels(config, actual.labels, differ)
        if labels != dict(actual.labels):
            patch["labels"] = labels
    kms_key = config.bucket_kms_key
    if kms_key and actual.kms_key != kms_key:
        if actual.kms_key:
            differ("kms_key", kms_key, actual.kms_key, stronger=False, reason="the bucket already has another default key; replacing a key is not decided here")
        else:
            differ("kms_key", kms_key, None, patch_key="kms_key")
    wanted = options.soft_delete_seconds if options.wants("soft_delete") else None
    if wanted is not None and (actual.soft_delete_seconds is None or actual.soft_delete_seconds < wanted):
        differ("soft_delete_days", wanted // 86400, _days(actual.soft_delete_seconds), patch_key="soft_delete_seconds", value=wanted)
    wanted = options.retention_seconds if options.wants("retention") else None
    if wanted is not None and (actual.retention_seconds is None or actual.retention_seconds < wanted):
        # Raising a retention period is allowed even when it is locked; lowering never happens here.
        differ("retention_days", wanted // 86400, _days(actual.retention_seconds), patch_key="retention_seconds", value=wanted)
    return changes, Patch(**patch)


def bucket_plan(config: Config, actual: BucketState) -> Plan:
    """:func:`plan` as core's Plan: the drift, and at most one write (a PATCH of every strengthening field)."""
    changes, patch = plan(config, actual)
    writes = [Write("patch", patch.describe(), payload=patch, settings=[skip_name(f) for f in patch.fields()])] if patch else []
    return Plan(changes, writes)


def skip_name(field: str) -> str:
    """The ``skip`` value of a Patch field."""
    return {"kms_key": "kms", "soft_delete_seconds": "soft_delete", "retention_seconds": "retention"}.get(field, field)


def _plan_labels(config: Config, actual: Mapping[str, str], differ: Any) -> dict[str, str]:
    """The merged labels: every existing key kept, ours added, user values applied."""
    merged = dict(actual)
    for key, value in config.desired_labels().items():
        current = actual.get(key)
        if current == value:
            continue
        if current is not None and key in DEFAULT_LABELS and key not in config.options.tags:
            # A default label someone set differently (e.g. managed-by: another-tool): theirs wins.
            differ(f"labels.{key}", value, current, stronger=False, reason="an existing label value set by someone else is kept")
            continue
        differ(f"labels.{key}", value, current)
        merged[key] = value
    return merged


def _days(seconds: int | None) -> Any:
    if seconds is None:
        return None
    return seconds // 86400 if seconds % 86400 == 0 else round(seconds / 86400, 2)
