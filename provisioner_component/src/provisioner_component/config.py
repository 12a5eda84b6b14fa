"""A component's source, from any of the three ways to write it, as one ComponentSource.

1. ``provision.component: {enabled: true, source: "git::…//sub?ref=v1", checksum, included_paths, excluded_paths}``
2. the PRD's ``provision.component: {vendor: true, source: …}``
3. Atmos's component ``source:`` section: a string, or ``{uri, version, included_paths,
   excluded_paths, type, ttl, retry}`` (``source`` under ``provision.component`` may take this
   mapping too, so a base component can pin ``uri`` and a stack override only ``version``).

Reading configuration never touches the network or the disk.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import attrs
from attrs import field, frozen

from provisioner_component.uri import Kind, parse_address, parse_checksum, redact_url
from provisioner_core import ConfigError, OptionReader

WHERE = "provision.component"
DEFAULT_MAX_SIZE = 512 * 1024 * 1024  # bytes: an archive's download and its unpacked files, each
ATMOS_SOURCE_KEYS = ("uri", "version", "type", "included_paths", "excluded_paths", "ttl", "retry")
RETRY_KEYS = ("max_attempts", "initial_delay", "max_delay")
RETRY_IGNORED = ("backoff_strategy", "multiplier", "random_jitter", "max_elapsed_time")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_WORDS = {"minute": 60, "hourly": 3600, "daily": 86400, "weekly": 604800, "monthly": 30 * 86400, "yearly": 365 * 86400}


def _globs(value: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(value)


@frozen
class Retry:
    """Attempts for a fetch that failed on the network (exit 5); the delay doubles up to ``max_delay_s``."""

    max_attempts: int = 1
    initial_delay_s: float = 2.0
    max_delay_s: float = 30.0


@frozen
class ComponentSource:
    """What to vendor for one component, validated; ``identity()`` is what the lock compares."""

    kind: Kind
    location: str  # git: repository URL; archive: URL or file path; local: folder path (relative to the project)
    subdir: str = ""
    ref: str | None = None
    checksum: str | None = None  # "sha256:<hex>"
    archive_format: str | None = None
    included: tuple[str, ...] = field(default=(), converter=_globs)
    excluded: tuple[str, ...] = field(default=(), converter=_globs)
    form: str = WHERE  # which configuration it came from: "provision.component" or "source"
    written: str = ""  # the address as written, credentials masked
    ttl_s: float | None = None
    max_size: int = DEFAULT_MAX_SIZE
    retry: Retry = field(factory=Retry)
    username: str | None = field(default=None, eq=False)
    password: str | None = field(default=None, repr=False, eq=False)
    warnings: tuple[str, ...] = field(default=(), eq=False)

    def identity(self) -> dict[str, Any]:
        """Everything that decides the vendored tree: a change re-vendors ("updated")."""
        return {
            "kind": self.kind,
            "location": self.location,
            "subdir": self.subdir,
            "ref": self.ref,
            "checksum": self.checksum,
            "included_paths": list(self.included),
            "excluded_paths": list(self.excluded),
        }

    def fetch_key(self) -> str:
        """Sources with one fetch key are fetched once (--all): repository and ref, or archive and checksum."""
        raw = json.dumps([self.kind, self.location, self.ref, self.checksum, self.archive_format])
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def label(self) -> str:
        """One line for messages: ``git https://host/repo.git//modules/vpc @ v1``."""
        text = f"{self.kind} {redact_url(self.location)}" + (f"//{self.subdir}" if self.subdir else "")
        return text + (f" @ {self.ref}" if self.ref else "")

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.username, self.password) if s)


def resolve_source(options: Mapping[str, Any], atmos_source: Any = None) -> ComponentSource | None:
    """The component's source, or None when it has nothing to vendor.

    ``options``: the ``provision.component`` mapping; ``atmos_source``: the component's
    Atmos ``source:`` section (None when it has none).
    """
    reader = OptionReader(options, WHERE)
    vendor = reader.bool("vendor", True)
    own = reader.raw("source")
    if not vendor:
        return None
    if own not in (None, "", {}) and atmos_source not in (None, "", {}):
        if _plain(own) != _plain(atmos_source):
            raise ConfigError(
                "the component sets both provision.component.source and an Atmos source: section, and they differ",
                hint="Keep one of them (Atmos projects: keep source:, and use provision.component only for options such as checksum).",
            )
    if own not in (None, "", {}):
        spec, where, form = own, f"{WHERE}.source", WHERE
    elif atmos_source not in (None, "", {}):
        spec, where, form = atmos_source, "source", "source"
    else:
        if options:
            raise ConfigError(
                f"{WHERE} is enabled but names no source",
                hint='Add `source: "git::https://host/org/repo.git//modules/vpc?ref=v1.2.0"` (or a local path, or an archive URL) under provision.component.',
            )
        return None
    return _build(spec, where, form, reader)


def _build(spec: Any, where: str, form: str, reader: OptionReader) -> ComponentSource:
    if isinstance(spec, str):
        uri, version, source_type = spec, None, None
        section = OptionReader({}, where)
    elif isinstance(spec, Mapping):
        section = OptionReader(spec, where)
        uri = section.str("uri", required=True, hint=f'Add `uri: "github.com/org/repo//modules/vpc"` under {where}.') or ""
        version = _scalar_text(section.raw("version"), f"{where}.version")
        source_type = section.str("type")
    else:
        raise ConfigError(
            f"{where} must be a string (a go-getter address) or a mapping with uri and version, got {type(spec).__name__}",
            hint='Write source: "git::https://host/org/repo.git//path?ref=v1" or source: {uri: ..., version: ...}.',
        )
    if source_type is not None:
        uri = _apply_type(uri, source_type.lower(), f"{where}.type")
    address = parse_address(uri, where=where, version=version)
    warnings = list(address.warnings)

    checksum = reader.str("checksum")
    if checksum is not None:
        checksum = parse_checksum(checksum, f"{WHERE}.checksum")
        if address.kind != "archive":
            raise ConfigError(f"{WHERE}.checksum applies to archives; this source is {address.kind}", hint="A git source is pinned by its ref (and the lock's commit); remove checksum.")
        if address.checksum is not None and address.checksum != checksum:
            raise ConfigError(f"{WHERE}.checksum differs from the ?checksum= in the address", hint="Keep one of them.")
    checksum = checksum or address.checksum

    included = [*section.str_list("included_paths"), *reader.str_list("included_paths")]
    excluded = [*section.str_list("excluded_paths"), *reader.str_list("excluded_paths")]
    # "!pattern" in included_paths excludes, as in the issue's ["**/*.tf", "!**/test/**"].
    excluded += [p[1:] for p in included if p.startswith("!")]
    included = [p for p in included if not p.startswith("!")]
    for pattern in (*included, *excluded):
        _check_glob(pattern, where)

    ttl_text = reader.str("ttl") or section.str("ttl")
    ttl_s = parse_duration(ttl_text, f"{where}.ttl") if ttl_text is not None else None
    retry = _retry(reader.raw("retry") if reader.raw("retry") is not None else section.raw("retry"), where, warnings)
    max_size = parse_size(reader.raw("max_size"), f"{WHERE}.max_size") if reader.raw("max_size") is not None else DEFAULT_MAX_SIZE

    reader.raw("timeout")  # read by core (the provisioner's time limit)
    warnings += reader.unknown_keys(also_known=("enabled",))
    if isinstance(spec, Mapping):
        warnings += section.unknown_keys(also_known=())
    return ComponentSource(
        kind=address.kind,
        location=address.location,
        subdir=address.subdir,
        ref=address.ref,
        checksum=checksum,
        archive_format=address.archive_format,
        included=tuple(dict.fromkeys(included)),
        excluded=tuple(dict.fromkeys(excluded)),
        form=form,
        written=redact_url(uri.strip()),
        ttl_s=ttl_s,
        max_size=max_size,
        retry=retry,
        username=address.username,
        password=address.password,
        warnings=tuple(warnings),
    )


def _apply_type(uri: str, source_type: str, where: str) -> str:
    """Atmos's optional ``type``: git forces the git getter; the kinds we do not fetch are named."""
    if source_type == "git":
        return uri if uri.startswith("git::") else f"git::{uri}"
    if source_type in ("http", "https", "local", "file"):
        return uri
    raise ConfigError(
        f"{where}: {source_type} sources are not supported yet",
        hint="Supported now: git, HTTP(S) archives and local folders.",
        context={"source": source_type},
    )


def _scalar_text(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or isinstance(value, (Mapping, list)):
        raise ConfigError(f"{where} must be a string such as 1.2.0, got {value!r}", hint='Quote it: version: "1.2.0".')
    # YAML reads 1.10 as the float 1.1: refuse the number form rather than fetch the wrong tag.
    if isinstance(value, float):
        raise ConfigError(f"{where}: {value!r} was read as a number", hint=f'Quote it: version: "{value}" (YAML turns 1.10 into 1.1).')
    return str(value)


def _check_glob(pattern: str, where: str) -> None:
    if not pattern or pattern.startswith("/") or "\\" in pattern:
        raise ConfigError(
            f"{where}: path pattern {pattern!r} must be relative to the vendored folder",
            hint='Write patterns like "**/*.tf" or "modules/**" (forward slashes, no leading /).',
        )


def _retry(value: Any, where: str, warnings: list[str]) -> Retry:
    if value is None:
        return Retry()
    reader = OptionReader(value, f"{where}.retry")
    attempts = reader.int("max_attempts", 1, minimum=1, maximum=20) or 1
    initial = reader.str("initial_delay")
    maximum = reader.str("max_delay")
    for key in RETRY_IGNORED:
        if reader.raw(key) is not None:
            warnings.append(f"{where}.retry.{key} is accepted for Atmos compatibility and ignored (the delay doubles)")
    warnings += reader.unknown_keys(also_known=())
    return Retry(
        max_attempts=attempts,
        initial_delay_s=parse_duration(initial, f"{where}.retry.initial_delay") if initial else 2.0,
        max_delay_s=parse_duration(maximum, f"{where}.retry.max_delay") if maximum else 30.0,
    )


def parse_duration(text: str, where: str) -> float:
    """``"0s"``, ``"90m"``, ``"1h30m"``, ``"7d"``, ``"daily"`` (Atmos's forms) -> seconds."""
    cleaned = text.strip().lower()
    if cleaned in _DURATION_WORDS:
        return float(_DURATION_WORDS[cleaned])
    parts = _DURATION.findall(cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise ConfigError(f"{where}: {text!r} is not a duration", hint="Write e.g. 0s, 30m, 1h, 7d, or daily / weekly.")
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def parse_size(value: Any, where: str) -> int:
    """``1048576``, ``"100MiB"``, ``"1GB"`` -> bytes (at least 1 KiB)."""
    if isinstance(value, bool):
        raise ConfigError(f"{where} must be a size such as 100MiB, got {value!r}", hint="Write max_size: 100MiB (or a number of bytes).")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise ConfigError(f"{where} must be a size such as 100MiB, got {value!r}", hint="Units: B, KB, KiB, MB, MiB, GB, GiB.")
        size = int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])
    if size < 1024:
        raise ConfigError(f"{where} must be at least 1KiB, got {value!r}", hint="Write max_size: 100MiB.")
    return size


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def with_changes(source: ComponentSource, **changes: Any) -> ComponentSource:
    """A copy of ``source`` with some fields replaced (tests and callers that override a ref)."""
    return attrs.evolve(source, **changes)
