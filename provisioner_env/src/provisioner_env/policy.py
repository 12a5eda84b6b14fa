"""The environment policy: the ``environments:`` key of atmos.yaml / provisioner.yaml.

    environments:
      default_source: dev
      protected: [prod, staging]
      naming: {max_length: 32, vars: [environment, stage]}
      resources:
        aurora:
          type: aws_rds_cluster
          isolation: isolated          # isolated (one per environment) | shared
          monthly_cost: 43             # USD per month for one environment
          names: ["{namespace}-aurora-{stage}"]
      keys:
        LINE_CHANNEL_ACCESS_TOKEN: {isolation: isolated, hint: "issue a token for a new LINE channel"}
        OPENROUTER_API_KEY: shared
      terraform:                       # plain terraform folders (terraform.<env>.tfvars + backend.<env>.hcl)
        provision:
          backend: {enabled: true}     # provision backend.<env>.hcl's backend on create
        auth:
          providers:
            aws: {type: profile, profile: dev-admin}

Reading it never talks to a cloud; it only validates and returns frozen values.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen, validators

from provisioner_core import ConfigError, ProjectConfig, is_secret_key
from provisioner_env.names import DEFAULT_MAX_ENV_LENGTH, NAME_RULES, case_insensitive, normalise_env_name

ISOLATED = "isolated"
SHARED = "shared"
ISOLATIONS = (ISOLATED, SHARED)
DEFAULT_PROTECTED = ("prod", "staging")
DEFAULT_ENV_VARS = ("environment", "stage", "env")
_TOKEN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*)\}")
# Sections whose undeclared secret-looking keys are isolated: the values the application receives.
# `auth` (who deploys) and `backend` (where state lives) are deployment plumbing, copied unless declared.
APPLICATION_SECTIONS = frozenset({"vars", "env", "settings"})

_TOP_KEYS = ("default_source", "protected", "naming", "resources", "keys", "terraform", "secrets", "destroy")
_DESTROY_KEYS = ("backends",)
DESTROY_BACKENDS = ("keep", "remove")
_SECRETS_KEYS = ("variable", "yaml")
YAML_REFERENCES = ("auto", "env", "placeholder")
_TERRAFORM_KEYS = ("provision", "auth")
_NAMING_KEYS = ("max_length", "pattern", "vars")
_RESOURCE_KEYS = ("type", "isolation", "monthly_cost", "names", "vars", "component", "max_length", "hint", "case_insensitive")
_KEY_KEYS = ("isolation", "hint")


def _isolation(instance: Any, attribute: Any, value: str) -> None:
    if value not in ISOLATIONS:
        raise ValueError(f"{attribute.name} must be isolated or shared, got {value!r}")


@frozen
class NamingPolicy:
    max_length: int = DEFAULT_MAX_ENV_LENGTH
    pattern: str | None = None
    vars: tuple[str, ...] = DEFAULT_ENV_VARS  # vars whose value is the environment name


@frozen
class ResourcePolicy:
    """One kind of resource: isolated per environment or shared, its cost and where its names come from."""

    label: str
    type: str
    isolation: str = field(validator=_isolation)
    monthly_cost: float | None = field(default=None, validator=validators.optional(validators.ge(0)))  # None: no price declared
    names: tuple[str, ...] = ()  # templates over vars: "{namespace}-aurora-{stage}"
    vars: tuple[str, ...] = ()  # vars whose values are names of this type
    component: str | None = None  # only this component's vars (default: every component)
    max_length: int | None = None  # overrides the provider limit (or sets one for an unknown type)
    hint: str = ""
    case_insensitive: bool | None = None  # the provider compares names without case (default: known from the type)

    @property
    def ignores_case(self) -> bool:
        return self.case_insensitive if self.case_insensitive is not None else case_insensitive(self.type)


@frozen
class KeyPolicy:
    """A secret or env/var key: isolated (new per environment, never copied) or shared (same value)."""

    name: str
    isolation: str = field(validator=_isolation)
    hint: str = ""


@frozen
class PlainFolders:
    """``environments.terraform``: what plain terraform folders get that a stack would give a component."""

    provision: Mapping[str, Any] = field(factory=dict)  # provision.<type> options, as in a stack
    auth: Mapping[str, Any] = field(factory=dict)  # auth.providers, as in a stack

    def backend_enabled(self) -> bool:
        options = self.provision.get("backend")
        return isinstance(options, Mapping) and options.get("enabled") is True


@frozen
class SecretsPolicy:
    """``environments.secrets``: how isolated values are referenced instead of written."""

    variable: str = "{ENV}_{KEY}"  # the environment variable an Atmos `!env` reference names
    yaml: str = field(default="auto", validator=validators.in_(YAML_REFERENCES))  # auto: !env when the stack loader reads it, else a placeholder


@frozen
class EnvironmentPolicy:
    default_source: str = "dev"
    protected: tuple[str, ...] = DEFAULT_PROTECTED
    naming: NamingPolicy = NamingPolicy()
    resources: tuple[ResourcePolicy, ...] = ()
    keys: tuple[KeyPolicy, ...] = ()
    terraform: PlainFolders = PlainFolders()
    secrets: SecretsPolicy = SecretsPolicy()
    destroy_backends: str = field(default="keep", validator=validators.in_(DESTROY_BACKENDS))  # environments.destroy.backends

    def key(self, name: str) -> KeyPolicy | None:
        """The declared policy of a key (case-insensitive: LINE_TOKEN also covers line_token)."""
        lowered = name.lower()
        for key in self.keys:
            if key.name.lower() == lowered:
                return key
        return None

    def isolated_key(self, name: Any, section: str) -> KeyPolicy | None:
        """The policy that makes ``name`` isolated in ``section``, or None when its value is copied.

        Declared keys follow their declaration anywhere; an undeclared secret-looking key is
        isolated in the application sections (vars, env, settings): credentials are never copied
        unless the policy says they are shared.
        """
        if not isinstance(name, str):
            return None
        declared = self.key(name)
        if declared is not None:
            return declared if declared.isolation == ISOLATED else None
        if section in APPLICATION_SECTIONS and is_secret_key(name):
            return KeyPolicy(name, ISOLATED, "")
        return None

    def ignores_case(self, name: str) -> bool:
        """True for a var that names a resource whose provider compares names without case (substituted ignoring case)."""
        return any(name in r.vars for r in self.resources if r.ignores_case)

    def is_shared_key(self, name: str) -> bool:
        """True for a key declared shared, or a var that names a shared resource (its value is never renamed)."""
        declared = self.key(name)
        if declared is not None:
            return declared.isolation == SHARED
        return any(name in r.vars for r in self.resources if r.isolation == SHARED)


def load_policy(config: ProjectConfig) -> EnvironmentPolicy:
    """The validated policy; defaults when the project config has no ``environments`` key."""
    raw = config.raw.get("environments")
    if raw is None:
        return EnvironmentPolicy()
    where = "environments"
    mapping = _mapping(raw, where)
    _known(mapping, _TOP_KEYS, where)
    try:
        return EnvironmentPolicy(
            default_source=normalise_env_name(_string(mapping.get("default_source", "dev"), f"{where}.default_source")),
            protected=tuple(normalise_env_name(p) for p in _strings(mapping.get("protected", list(DEFAULT_PROTECTED)), f"{where}.protected")),
            naming=_naming(mapping.get("naming"), f"{where}.naming"),
            resources=tuple(_resource(label, value, f"{where}.resources.{label}") for label, value in _mapping(mapping.get("resources") or {}, f"{where}.resources").items()),
            keys=tuple(_key(name, value, f"{where}.keys.{name}") for name, value in _mapping(mapping.get("keys") or {}, f"{where}.keys").items()),
            terraform=_plain_folders(mapping.get("terraform"), f"{where}.terraform"),
            secrets=_secrets(mapping.get("secrets"), f"{where}.secrets"),
            destroy_backends=_destroy_backends(mapping.get("destroy"), f"{where}.destroy"),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}", hint="See docs/environments.md for the policy schema.") from None


def _plain_folders(raw: Any, where: str) -> PlainFolders:
    if raw is None:
        return PlainFolders()
    mapping = _mapping(raw, where)
    _known(mapping, _TERRAFORM_KEYS, where)
    provision = _mapping(mapping.get("provision") or {}, f"{where}.provision")
    for name, options in provision.items():
        _mapping(options, f"{where}.provision.{name}")
        enabled = options.get("enabled", False)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where}.provision.{name}.enabled must be true or false, got {enabled!r}", hint="Write enabled: true (a YAML boolean).")
    auth = _mapping(mapping.get("auth") or {}, f"{where}.auth")
    return PlainFolders(dict(provision), dict(auth))


def _destroy_backends(raw: Any, where: str) -> str:
    if raw is None:
        return "keep"
    mapping = _mapping(raw, where)
    _known(mapping, _DESTROY_KEYS, where)
    value = mapping.get("backends", "keep")
    if value not in DESTROY_BACKENDS:
        raise ConfigError(f"{where}.backends must be keep or remove, got {value!r}",
                          hint="keep: a destroyed environment's state backends stay (their history); remove: verify --live reports one that is left.")
    return str(value)


def _secrets(raw: Any, where: str) -> SecretsPolicy:
    if raw is None:
        return SecretsPolicy()
    mapping = _mapping(raw, where)
    _known(mapping, _SECRETS_KEYS, where)
    variable = _string(mapping.get("variable", "{ENV}_{KEY}"), f"{where}.variable")
    if "{KEY}" not in variable and "{key}" not in variable:
        raise ConfigError(f"{where}.variable {variable!r} has no {{KEY}}: every secret would read one variable", hint='For example: variable: "{ENV}_{KEY}".')
    yaml = mapping.get("yaml", "auto")
    if yaml not in YAML_REFERENCES:
        raise ConfigError(f"{where}.yaml must be one of {', '.join(YAML_REFERENCES)}, got {yaml!r}", hint="auto: `!env NAME` when the stack loader reads it, else a REQUIRED: placeholder.")
    return SecretsPolicy(variable, yaml)


def _naming(raw: Any, where: str) -> NamingPolicy:
    if raw is None:
        return NamingPolicy()
    mapping = _mapping(raw, where)
    _known(mapping, _NAMING_KEYS, where)
    max_length = mapping.get("max_length", DEFAULT_MAX_ENV_LENGTH)
    if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1:
        raise ConfigError(f"{where}.max_length must be a positive integer, got {max_length!r}", hint="For example: max_length: 32.")
    pattern = mapping.get("pattern")
    if pattern is not None:
        try:
            re.compile(_string(pattern, f"{where}.pattern"))
        except re.error as exc:
            raise ConfigError(f"{where}.pattern is not a valid regular expression: {exc}", hint='For example: pattern: "^(dev|staging|prod|feature-[a-z0-9-]+)$".') from None
    env_vars = tuple(_strings(mapping.get("vars", list(DEFAULT_ENV_VARS)), f"{where}.vars"))
    return NamingPolicy(max_length, pattern, env_vars)


def _resource(label: Any, raw: Any, where: str) -> ResourcePolicy:
    if isinstance(raw, str):
        raw = {"isolation": raw}
    mapping = _mapping(raw, where)
    _known(mapping, _RESOURCE_KEYS, where)
    isolation = mapping.get("isolation")
    if isolation not in ISOLATIONS:
        raise ConfigError(f"{where}.isolation must be isolated or shared, got {isolation!r}", hint="isolated: one per environment; shared: one for all environments.")
    cost = mapping.get("monthly_cost")
    if cost is not None and (not isinstance(cost, (int, float)) or isinstance(cost, bool) or cost < 0):
        raise ConfigError(f"{where}.monthly_cost must be a number of USD per month (0 or more), got {cost!r}", hint="For example: monthly_cost: 43.")
    names = tuple(_strings(mapping.get("names", []), f"{where}.names"))
    for template in names:
        if not _TOKEN.search(template):
            raise ConfigError(f"{where}.names: {template!r} has no {{var}} part", hint='Write names as templates over vars, e.g. "{namespace}-aurora-{stage}".')
    resource_type = _string(mapping.get("type", str(label)), f"{where}.type")
    max_length = mapping.get("max_length")
    if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1):
        raise ConfigError(f"{where}.max_length must be a positive integer", hint="For example: max_length: 64.")
    component = mapping.get("component")
    ignores_case = mapping.get("case_insensitive")
    if ignores_case is not None and not isinstance(ignores_case, bool):
        raise ConfigError(f"{where}.case_insensitive must be true or false, got {ignores_case!r}", hint="true: the provider compares these names without case.")
    return ResourcePolicy(
        label=str(label),
        type=resource_type,
        isolation=isolation,
        monthly_cost=None if cost is None else float(cost),
        names=names,
        vars=tuple(_strings(mapping.get("vars", []), f"{where}.vars")),
        component=None if component is None else _string(component, f"{where}.component"),
        max_length=max_length,
        hint=_string(mapping.get("hint", ""), f"{where}.hint"),
        case_insensitive=ignores_case,
    )


def _key(name: Any, raw: Any, where: str) -> KeyPolicy:
    if isinstance(raw, str):
        raw = {"isolation": raw}
    mapping = _mapping(raw, where)
    _known(mapping, _KEY_KEYS, where)
    isolation = mapping.get("isolation")
    if isolation not in ISOLATIONS:
        raise ConfigError(f"{where} must be isolated or shared, got {isolation!r}", hint="isolated: a new value per environment, never copied; shared: the same value everywhere.")
    return KeyPolicy(str(name), isolation, _string(mapping.get("hint", ""), f"{where}.hint"))


def render_name(template: str, vars_: Mapping[str, Any]) -> str | None:
    """``{namespace}-aurora-{stage}`` over ``vars_``; None when a var is missing or not a scalar."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = vars_.get(match.group(1))
        if found is None or isinstance(found, (Mapping, list, bool)) or found == "":
            missing = True
            return ""
        return str(found)

    rendered = _TOKEN.sub(value, template)
    return None if missing else rendered


def known_type(resource_type: str) -> bool:
    return resource_type in NAME_RULES


# --- small validators ---------------------------------------------------------------------


def _mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {type(raw).__name__}", hint=f"Write {where} as key: value pairs (see docs/environments.md).")
    return raw


def _known(mapping: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            raise ConfigError(
                f"{where}: unknown key '{key}'",
                hint=(f"Did you mean '{close[0]}'? " if close else "") + f"Known keys: {', '.join(allowed)}.",
            )


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, got {type(value).__name__}", hint=f"Quote the value of {where}.")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings", hint=f"Write {where}: [a, b].")
    return value
