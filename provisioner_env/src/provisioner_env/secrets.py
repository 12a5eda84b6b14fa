"""Isolated secrets are never written to a file: the target's files get a reference instead.

* Atmos stacks: ``key: !env FEATURE_X_LINE_CHANNEL_ACCESS_TOKEN`` (the YAML function that reads
  an environment variable), named by ``environments.secrets.variable`` (default
  ``{ENV}_{KEY}``: the target in the name, so dev's variable can never feed feature-x).
* Plain terraform: the assignment becomes a comment naming ``TF_VAR_<name>``, the variable
  terraform reads when no var file sets it.

The checklist says which variable (or, with a secrets plugin, which store entry) to create;
the env hooks let a secrets plugin create, fetch and delete them (docs/environments.md).
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import field, frozen

from provisioner_core import ConfigError, PluginRegistry, ProjectConfig, is_secret_key

ENV_TAG = "!env"
# The comment a plain var file gets in place of an isolated assignment (parsed back by destroy and verify).
MARKER = re.compile(r"^[ \t]*#[ \t]*(?P<key>[A-Za-z_][A-Za-z0-9_-]*): from (?P<variable>[A-Za-z_][A-Za-z0-9_]*) \(isolated", re.MULTILINE)


@frozen
class SecretReference:
    """One isolated value of an environment, written as a reference to ``variable``."""

    environment: str
    key: str  # as written in the source
    variable: str  # the environment variable it comes from
    file: str = ""  # where the reference is written, relative to the project root
    path: str = ""  # the dotted path inside the file
    section: str = "vars"
    hint: str = ""
    credential: bool = field(default=False)  # a credential of an external service (a secret-looking key)

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "key": self.key, "variable": self.variable, "file": self.file, "path": self.path,
                "section": self.section, "hint": self.hint, "credential": self.credential}


@frozen
class SecretStored:
    """What a secrets plugin did with one reference (returned by ``env_secrets_create``)."""

    variable: str
    store: str  # where it lives, e.g. "doppler config feature-x" or "vault kv/feature-x"
    note: str = ""


def _upper_snake(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()


def variable_name(template: str, environment: str, key: str) -> str:
    """``{ENV}_{KEY}`` -> ``FEATURE_X_LINE_CHANNEL_ACCESS_TOKEN`` (``{env}`` and ``{key}`` keep their spelling)."""
    name = template.replace("{ENV}", _upper_snake(environment)).replace("{KEY}", _upper_snake(key))
    name = name.replace("{env}", environment).replace("{key}", key)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ConfigError(
            f"environments.secrets.variable {template!r} gives {name!r} for {key} in {environment}, which is not an environment variable name",
            hint='Use letters, digits and underscores around {ENV}/{KEY}, e.g. "{ENV}_{KEY}".',
        )
    return name


def tf_var(name: str) -> str:
    return f"TF_VAR_{name}"


def reference(environment: str, key: str, variable: str, *, file: str, path: str, section: str, hint: str) -> SecretReference:
    return SecretReference(environment, key, variable, file, path, section, hint, is_secret_key(key))


@functools.lru_cache(maxsize=1)
def stacks_read_env_tag() -> bool:
    """True when this provisioner-core resolves ``!env`` in stack files (else the tag is an error there)."""
    from provisioner_core import StackRepository, load_project_config

    with tempfile.TemporaryDirectory(prefix="provision-env-probe-") as tmp:
        root = Path(tmp)
        (root / "stacks").mkdir()
        (root / "stacks" / "probe.yaml").write_text(f"vars:\n  probe: {ENV_TAG} PROVISIONER_ENV_PROBE_UNSET\n")
        (root / "provisioner.yaml").write_text("stacks: {base_path: stacks}\n")
        try:
            StackRepository(load_project_config(cwd=root)).stacks()
        except ConfigError:
            return False
        except Exception:  # noqa: BLE001 - any failure means the tag cannot be used
            return False
    return True


def markers(text: str) -> dict[str, str]:
    """key -> variable of the reference comments in a plain var file."""
    return {m.group("key"): m.group("variable") for m in MARKER.finditer(text)}


def yaml_references(text: str) -> list[tuple[str, str]]:
    """(dotted path, variable) of every ``!env VARIABLE`` in a stack file."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import TaggedScalar
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="rt").load(text)
    except YAMLError:
        return []
    found: list[tuple[str, str]] = []
    work: list[tuple[Any, str]] = [(data, "")]
    while work:
        item, where = work.pop()
        if isinstance(item, TaggedScalar) and str(item.tag.value if hasattr(item.tag, "value") else item.tag) == ENV_TAG:
            found.append((where, str(item.value).split()[0] if str(item.value).split() else ""))
        elif isinstance(item, Mapping):
            work.extend((v, f"{where}.{k}" if where else str(k)) for k, v in item.items())
        elif isinstance(item, list):
            work.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return sorted(found)


def hook_results(registry: PluginRegistry, hook: str, **kwargs: Any) -> list[Any]:
    """Call an env hook through call_env_hook and flatten the results (each implementation returns a list or None)."""
    from provisioner_env.hooks import call_env_hook

    results = call_env_hook(registry, hook, **kwargs)
    flat: list[Any] = []
    for result in results or []:
        if isinstance(result, (list, tuple)):
            flat.extend(result)
        elif result is not None:
            flat.append(result)
    return flat


def secret_value(registry: PluginRegistry, ref: SecretReference, config: ProjectConfig, environ: Mapping[str, str]) -> str | None:
    """The value of a reference: the environment variable if set, else what a secrets plugin returns."""
    from provisioner_env.hooks import call_env_hook

    if environ.get(ref.variable):
        return environ[ref.variable]
    found = call_env_hook(registry, "env_secret_value", environment=ref.environment, reference=ref, config=config)
    return found if isinstance(found, str) and found else None


def stored_text(stored: Sequence[SecretStored], variable: str) -> str | None:
    entry = next((s for s in stored if s.variable == variable), None)
    return None if entry is None else f"stored in {entry.store}" + (f" ({entry.note})" if entry.note else "")


def file_references(files: Sequence[Any], environment: str) -> list[SecretReference]:
    """The secrets an environment's files reference (``EnvFile``s): var files' reference comments and stacks' ``!env`` tags."""
    found: dict[str, SecretReference] = {}
    for env_file in files:
        text = env_file.path.read_text()
        pairs = markers(text).items() if env_file.layout != "atmos" else [(path.rsplit(".", 1)[-1], variable) for path, variable in yaml_references(text)]
        for key, variable in pairs:
            found.setdefault(variable, reference(environment, key, variable, file=env_file.relative, path=key, section="vars", hint=""))
    return list(found.values())
