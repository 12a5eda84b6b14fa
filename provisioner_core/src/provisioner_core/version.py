"""Versions: the distribution's (single-sourced from its metadata) and the plugin API's.

The plugin API is versioned ``MAJOR.MINOR``: a minor release only adds (hooks, arguments,
fields); anything deprecated keeps working, with a warning, until the next major release.
A plugin declares the API it was written for with ``requires_api = "1.0"`` (a module or
object attribute, or ``provisioner(..., requires_api="1.0")``); it loads when the major
versions are equal and core's minor version is at least the plugin's.
"""

from __future__ import annotations

from importlib import metadata

API_VERSION = "1.1"  # 1.1: register_component_sections (ComponentSection, ResolvedComponent.plugin_sections)


def distribution_version(name: str = "provisioner-core") -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def installed_plugin_distributions() -> list[tuple[str, str]]:
    """(name, version) of each installed distribution with a ``provisioner`` entry point, sorted; none is imported."""
    from provisioner_core.plugins.manager import ENTRY_POINT_GROUP

    found = {ep.dist.metadata["Name"]: ep.dist.version for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.dist is not None}
    return sorted(found.items(), key=lambda item: item[0].lower())


def parse_api_version(text: str) -> tuple[int, int]:
    """``"1"`` -> (1, 0); ``"1.2"`` -> (1, 2); anything else is a ValueError."""
    parts = str(text).strip().split(".")
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"requires_api {text!r} must look like '1' or '1.0'")
    return int(parts[0]), int(parts[1]) if len(parts) == 2 else 0


def api_compatible(required: str) -> bool:
    """True when a plugin written for API ``required`` runs on this core."""
    try:
        major, minor = parse_api_version(required)
    except ValueError:
        return False
    ours = parse_api_version(API_VERSION)
    return major == ours[0] and minor <= ours[1]


def api_mismatch(required: str, distribution: str) -> str:
    """What to do when a plugin needs another API (for its load error)."""
    try:
        wanted = parse_api_version(required)
    except ValueError as exc:
        return str(exc)
    if wanted > parse_api_version(API_VERSION):
        return f"needs provisioner plugin API {required}; provisioner-core {distribution_version()} provides API {API_VERSION}: upgrade provisioner-core"
    return f"needs provisioner plugin API {required}; provisioner-core {distribution_version()} provides API {API_VERSION}: install a release of {distribution} made for API {API_VERSION.split('.')[0]}.x"
