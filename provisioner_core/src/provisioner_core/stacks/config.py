"""The project config (``atmos.yaml`` or ``provisioner.yaml``): where stacks and components live."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from provisioner_core.errors import ConfigError
from provisioner_core.stacks.loader import YamlCache
from provisioner_core.stacks.merge import check_strategy

if TYPE_CHECKING:
    from provisioner_core.gotemplate import Template

CONFIG_FILE_NAMES: tuple[str, ...] = ("provisioner.yaml", "atmos.yaml")
# Atmos's variables: the folder (or file) of atmos.yaml, and the project's base path.
CONFIG_PATH_VARIABLE = "ATMOS_CLI_CONFIG_PATH"
BASE_PATH_VARIABLE = "ATMOS_BASE_PATH"
_PATTERN_TOKEN = re.compile(r"\{([^{}]*)\}")


@frozen
class TemplateSettings:
    """Atmos's ``templates.settings`` (atmos.yaml): whether and how stack values are rendered."""

    enabled: bool = True
    evaluations: int = 1
    delimiters: tuple[str, str] = ("{{", "}}")
    sprig: bool = True
    gomplate: bool = True
    env: Mapping[str, str] = field(factory=dict)


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
    templates: TemplateSettings = field(factory=TemplateSettings)
    list_merge_strategy: str = "replace"  # atmos.yaml settings.list_merge_strategy
    integrations_github: Mapping[str, Any] = field(factory=dict)  # atmos.yaml integrations.github
    base_path: Path | None = None  # the project's base path (where !include looks after the file's folder)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name)
        return value if isinstance(value, Mapping) else {}


def find_config(start: Path) -> Path | None:
    """The first config file in ``start`` or the nearest folder above it (as Atmos searches)."""
    for folder in (start, *start.parents):
        for name in CONFIG_FILE_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def _from_variable(cwd: Path, environ: Mapping[str, str]) -> Path | None:
    value = environ.get(CONFIG_PATH_VARIABLE)
    if not value:
        return None
    given = Path(value) if os.path.isabs(value) else cwd / value
    if given.is_dir():
        for name in CONFIG_FILE_NAMES:
            if (given / name).is_file():
                return given / name
    elif given.is_file():
        return given
    raise ConfigError(
        f"{CONFIG_PATH_VARIABLE}={value}: no atmos.yaml or provisioner.yaml there",
        hint=f"Point {CONFIG_PATH_VARIABLE} at the folder that holds atmos.yaml, or unset it.",
    )


def load_project_config(
    config: str | Path | None = None,
    cwd: Path | None = None,
    cache: YamlCache | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    base_path: str | Path | None = None,
) -> ProjectConfig:
    """Load the config named by ``config``, ``ATMOS_CLI_CONFIG_PATH``, or found in ``cwd`` or above it.

    ``base_path`` replaces the config's ``base_path`` (relative to ``cwd``). Atmos's variables are
    read only when ``config`` is not given (``ATMOS_BASE_PATH`` also only without ``base_path``):
    a file chosen explicitly is never mixed with a base path set for Atmos.
    """
    cwd = (cwd or Path.cwd()).resolve()
    environ = os.environ if environ is None else environ
    path: Path | None
    if config is not None:
        given = Path(config)
        path = given if given.is_absolute() else cwd / given
        if not path.is_file():
            raise ConfigError(f"config file {config} not found", hint="Pass an existing atmos.yaml or provisioner.yaml with --config.")
    else:
        path = _from_variable(cwd, environ) or find_config(cwd)
    raw: Any = {}
    if path is not None:
        raw = (cache or YamlCache()).load(path) or {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: the project config must be a mapping", hint="Start it with keys such as `stacks:` and `components:`.")
    if base_path is not None:
        base_override: str | None = str(base_path)
    else:
        base_override = (environ.get(BASE_PATH_VARIABLE) or None) if config is None else None
    return _from_raw(raw, path, path.parent if path is not None else cwd, base_override, cwd)


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


def _from_raw(raw: Mapping[str, Any], path: Path | None, here: Path, base_override: str | None = None, cwd: Path | None = None) -> ProjectConfig:
    base = (cwd or here) / base_override if base_override else here / str(raw.get("base_path") or ".")
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
        templates=_templates(raw, path),
        list_merge_strategy=check_strategy(_mapping(raw, "settings", "").get("list_merge_strategy") or "replace", "settings"),
        integrations_github=_mapping(_mapping(raw, "integrations", ""), "github", "integrations."),
        base_path=base.resolve(),
    )


def _templates(raw: Mapping[str, Any], path: Path | None) -> TemplateSettings:
    """``templates.settings``; Atmos renders stack values only when atmos.yaml enables it (a provisioner.yaml, or none, renders)."""
    settings = _mapping(_mapping(raw, "templates", ""), "settings", "templates.")
    where = "templates.settings."
    default_enabled = path is None or path.name != "atmos.yaml"
    delimiters = settings.get("delimiters") or ["{{", "}}"]
    if not isinstance(delimiters, list) or len(delimiters) != 2 or not all(isinstance(d, str) and d for d in delimiters):
        raise ConfigError(f"{where}delimiters must be two non-empty strings", hint='Write `delimiters: ["{{", "}}"]`.')
    evaluations = settings.get("evaluations") or 1
    if not isinstance(evaluations, int) or isinstance(evaluations, bool) or not 1 <= evaluations <= 10:
        raise ConfigError(f"{where}evaluations must be a number from 1 to 10, got {evaluations!r}", hint="Write `evaluations: 1` (or 2 to render rendered values again).")
    env = settings.get("env") or {}
    if not isinstance(env, Mapping):
        raise ConfigError(f"{where}env must be a mapping", hint="Write `env: {NAME: value}`.")
    return TemplateSettings(
        enabled=_bool(settings, "enabled", where, default_enabled),
        evaluations=evaluations,
        delimiters=(delimiters[0], delimiters[1]),
        sprig=_bool(_mapping(settings, "sprig", where), "enabled", where + "sprig.", True),
        gomplate=_bool(_mapping(settings, "gomplate", where), "enabled", where + "gomplate.", True),
        env={str(k): str(v) for k, v in env.items() if v is not None},
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
    """A Go template (parsed now: a syntax error or an unknown function is exit 2 before any stack is read)."""
    from provisioner_core.gotemplate import parse

    if not isinstance(template, str) or not template.strip():
        raise ConfigError("stacks.name_template must be a non-empty string", hint='For example: name_template: "{{ .vars.tenant }}-{{ .vars.stage }}".')
    parse(template, name="stacks.name_template")


def template_program(text: str, name: str = "stacks.name_template") -> Template:
    from provisioner_core.gotemplate import parse

    return parse(text, name=name)


class NameUnresolved(Exception):
    """The stack's name cannot be derived from its vars (Atmos skips such a manifest)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def stack_name(config: ProjectConfig, context: Mapping[str, Any], relative: str) -> str:
    """The stack's name from name_pattern / name_template and its context (``.vars`` ...), else its path.

    Raises NameUnresolved when a var the name needs is missing (Atmos skips such a manifest).
    """
    from provisioner_core.gotemplate import TemplateError, UnsupportedTemplateError

    vars_ = context.get("vars") or {}
    if config.name_template:
        try:
            env = {**os.environ, **config.templates.env} if config.templates.env else None
            return template_program(config.name_template).render(context, missing="error", env=env)
        except UnsupportedTemplateError:
            raise
        except TemplateError as exc:
            raise NameUnresolved(f"stacks.name_template: {exc.reason}") from None
    if config.name_pattern:

        def pattern_var(match: re.Match[str]) -> str:
            name = match.group(1)
            value = vars_.get(name)
            if value is None or value == "" or isinstance(value, (Mapping, list)):
                raise NameUnresolved(f"stacks.name_pattern {config.name_pattern!r} needs vars.{name}, which it does not define")
            return str(value)

        return _PATTERN_TOKEN.sub(pattern_var, config.name_pattern)
    return relative.rsplit(".", 1)[0]
