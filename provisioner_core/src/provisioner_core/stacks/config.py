"""The project config (``atmos.yaml`` or ``provisioner.yaml``): where stacks and components live."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen

from provisioner_core.errors import ConfigError
from provisioner_core.stacks.loader import YamlCache

CONFIG_FILE_NAMES: tuple[str, ...] = ("provisioner.yaml", "atmos.yaml")
_PATTERN_TOKEN = re.compile(r"\{([^{}]*)\}")
_TEMPLATE_TOKEN = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
_TEMPLATE_VAR = re.compile(r"^\.vars\.([A-Za-z_][A-Za-z0-9_-]*)$")


@frozen
class ProjectConfig:
    """Resolved project settings; every path is absolute."""

    root: Path
    file: Path | None
    stacks_base_path: Path
    terraform_base_path: Path
    included_paths: tuple[str, ...] = ("**/*",)
    excluded_paths: tuple[str, ...] = ()
    name_pattern: str | None = None
    name_template: str | None = None
    terraform_command: str = "terraform"
    raw: Mapping[str, Any] = field(factory=dict)
    # Atmos's components.terraform settings that decide where state lives (see docs/configuration.md).
    workspaces_enabled: bool = True
    auto_generate_backend_file: bool = True
    workspace_prefix_separator: str = "-"
    metadata_inheritance: bool = True
    # Folders outside stacks.base_path that imports may reach (ours; Atmos has no such limit).
    import_roots: tuple[Path, ...] = ()

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name)
        return value if isinstance(value, Mapping) else {}


def find_config(start: Path) -> Path | None:
    """The first config file in ``start`` (no upward search: a stack repo is run from its root)."""
    for name in CONFIG_FILE_NAMES:
        candidate = start / name
        if candidate.is_file():
            return candidate
    return None


def load_project_config(
    config: str | Path | None = None, cwd: Path | None = None, cache: YamlCache | None = None, *, base_path: str | Path | None = None
) -> ProjectConfig:
    """Load the config named by ``--config``, or found in ``cwd``; defaults when there is none.

    ``base_path`` replaces the config's ``base_path`` (Atmos's ``ATMOS_BASE_PATH``): relative to ``cwd``.
    """
    cwd = (cwd or Path.cwd()).resolve()
    path: Path | None
    if config is not None:
        given = Path(config)
        path = given if given.is_absolute() else cwd / given
        if not path.is_file():
            raise ConfigError(f"config file {config} not found", hint="Pass an existing atmos.yaml or provisioner.yaml with --config.")
    else:
        path = find_config(cwd)
    raw: Any = {}
    if path is not None:
        raw = (cache or YamlCache()).load(path) or {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: the project config must be a mapping", hint="Start it with keys such as `stacks:` and `components:`.")
    base = (cwd / base_path).resolve() if base_path is not None else None
    return _from_raw(raw, path, path.parent if path is not None else cwd, base)


def _mapping(raw: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}{key} must be a mapping, got {type(value).__name__}", hint=f"Write {where}{key} as key: value pairs.")
    return value


def _str_list(raw: Mapping[str, Any], key: str, where: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}{key} must be a list of glob strings", hint=f'Write it as `{key}: ["**/*"]`.')
    return tuple(value)


def _from_raw(raw: Mapping[str, Any], path: Path | None, here: Path, base_path: Path | None = None) -> ProjectConfig:
    base = base_path if base_path is not None else here / str(raw.get("base_path") or ".")
    stacks = _mapping(raw, "stacks", "")
    components = _mapping(raw, "components", "")
    terraform = _mapping(components, "terraform", "components.")
    name_pattern = stacks.get("name_pattern")
    name_template = stacks.get("name_template")
    if name_pattern is not None:
        validate_name_pattern(name_pattern)
    if name_template is not None:
        validate_name_template(name_template)
    workspace = _mapping(terraform, "workspace", "components.terraform.")
    inherit = _mapping(stacks, "inherit", "stacks.")
    return ProjectConfig(
        root=here,
        file=path,
        stacks_base_path=(base / str(stacks.get("base_path") or "stacks")).resolve(),
        terraform_base_path=(base / str(terraform.get("base_path") or "components/terraform")).resolve(),
        included_paths=_str_list(stacks, "included_paths", "stacks.", ("**/*",)),
        excluded_paths=_str_list(stacks, "excluded_paths", "stacks.", ()),
        name_pattern=name_pattern,
        name_template=name_template,
        terraform_command=str(terraform.get("command") or "terraform"),
        raw=raw,
        workspaces_enabled=_bool(terraform, "workspaces_enabled", "components.terraform.", True),
        # Atmos defaults this to false when atmos.yaml omits it; we generate unless told not to (docs/configuration.md).
        auto_generate_backend_file=_bool(terraform, "auto_generate_backend_file", "components.terraform.", True),
        workspace_prefix_separator=str(workspace.get("prefix_separator") or "-"),
        metadata_inheritance=_bool(inherit, "metadata", "stacks.inherit.", True),
        import_roots=tuple((base / root).resolve() for root in _str_list(stacks, "import_roots", "stacks.", ())),
    )


def _bool(raw: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ConfigError(f"{where}{key} must be true or false, got {value!r}", hint=f"Write `{key}: true` or `{key}: false` (a YAML boolean, without quotes).")
    return value


def validate_name_pattern(pattern: Any) -> None:
    """``{tenant}-{environment}-{stage}``: braces balanced, tokens are var names."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ConfigError("stacks.name_pattern must be a non-empty string", hint='For example: name_pattern: "{tenant}-{environment}-{stage}".')
    stripped = _PATTERN_TOKEN.sub("", pattern)
    tokens = _PATTERN_TOKEN.findall(pattern)
    if "{" in stripped or "}" in stripped or not tokens or not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", t) for t in tokens):
        raise ConfigError(
            f"stacks.name_pattern {pattern!r} is not valid",
            hint='Use var names in single braces, e.g. "{tenant}-{environment}-{stage}".',
        )


def validate_name_template(template: Any) -> None:
    """The simple Go-template form: ``{{ .vars.NAME }}`` parts and literals."""
    if not isinstance(template, str) or "{{" not in template:
        raise ConfigError("stacks.name_template must contain {{ .vars.NAME }} parts", hint='For example: name_template: "{{ .vars.tenant }}-{{ .vars.stage }}".')
    for expression in _TEMPLATE_TOKEN.findall(template):
        if not _TEMPLATE_VAR.match(expression):
            raise ConfigError(
                f"stacks.name_template: unsupported expression {{{{ {expression} }}}}",
                hint="Only {{ .vars.NAME }} references and literal text are supported.",
            )


def stack_name_from_vars(config: ProjectConfig, vars_: Mapping[str, Any], relative: str) -> str:
    """The stack's name from name_pattern / name_template and its vars, else its path."""
    if config.name_pattern:

        def pattern_var(match: re.Match[str]) -> str:
            return _required_var(vars_, match.group(1), relative, f"stacks.name_pattern {config.name_pattern!r}")

        return _PATTERN_TOKEN.sub(pattern_var, config.name_pattern)
    if config.name_template:

        def template_var(match: re.Match[str]) -> str:
            var = _TEMPLATE_VAR.match(match.group(1))
            assert var is not None  # validated when the config was loaded
            return _required_var(vars_, var.group(1), relative, f"stacks.name_template {config.name_template!r}")

        return _TEMPLATE_TOKEN.sub(template_var, config.name_template)
    return relative.rsplit(".", 1)[0]


def _required_var(vars_: Mapping[str, Any], name: str, relative: str, setting: str) -> str:
    value = vars_.get(name)
    if value is None or value == "" or isinstance(value, (Mapping, list)):
        raise ConfigError(
            f"stack file {relative}: {setting} needs vars.{name}, which it does not define",
            hint=f"Add `vars: {{{name}: ...}}` to the file (or an import), or exclude the file with stacks.excluded_paths.",
        )
    return str(value)
