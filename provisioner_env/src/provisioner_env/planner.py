"""Build the EnvironmentPlan: find the source's files, clone them, resolve the result, check it.

Nothing is written here. Every rule that can fail (names, limits, isolation, state) fails
before ``create`` writes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from provisioner_core import BackendType, ConfigError, Provisioning, ResourceConflict, check_bounds, is_secret_key, secret_values
from provisioner_env import tfvars
from provisioner_env.backends import needs_backend
from provisioner_env.commands import Commands, atmos_commands, plain_commands
from provisioner_env.layouts import (
    ATMOS,
    BACKEND,
    TFVARS,
    EnvFile,
    EnvProject,
    atmos_target,
    backend_names,
    plain_target,
    relative_to,
    without_suffix,
)
from provisioner_env.mapping import cost_report, mapping_rows
from provisioner_env.names import normalise_env_name, validate_env_name
from provisioner_env.order import ordered
from provisioner_env.plan import (
    NEW_CREDENTIAL,
    NEW_VALUE,
    SHARED,
    CostReport,
    EnvironmentPlan,
    FileChange,
    Inventory,
    MappingRow,
    PlainFolder,
)
from provisioner_env.policy import EnvironmentPolicy, load_policy
from provisioner_env.preview import preview_repository
from provisioner_env.secrets import SecretReference, SecretStored, reference, stacks_read_env_tag, stored_text, variable_name
from provisioner_env.state import separated_value, state_key_setting
from provisioner_env.units import Unit, atmos_units, folder_backend_block, require_backend, tfvars_units
from provisioner_env.values import PLACEHOLDER, REFERENCE, RENAMED, STATE, ValueChange, is_placeholder, placeholder_text
from provisioner_env.yaml_clone import YamlClone


class _Draft:
    """The plan while it is being built."""

    def __init__(self, source: str, target: str, root: Path, protect: frozenset[str]) -> None:
        self.source, self.target, self.root = source, target, root
        self.protect = protect  # other environments' names: never substituted inside them
        self.binary = "terraform"  # components.terraform.command
        self.files: list[FileChange] = []
        self.changes: list[ValueChange] = []
        self.units: list[Unit] = []
        self.layouts: list[str] = []
        self.shared_imports: list[str] = []
        self.secrets: set[str] = set()
        self.warnings: list[str] = []


def resolve_names(provisioning: Provisioning, source: str | None, target: str) -> tuple[EnvironmentPolicy, str, str]:
    """The policy and the normalised, validated source and target names."""
    policy = load_policy(provisioning.config)
    source_name = normalise_env_name(source or policy.default_source)
    target_name = normalise_env_name(target)
    validate_env_name(target_name, max_length=policy.naming.max_length, pattern=policy.naming.pattern)
    if source_name == target_name:
        raise ConfigError(f"source and target are the same environment '{target_name}'", hint="Name a new environment, e.g. `provision env create feature-auth --from dev`.")
    return policy, source_name, target_name


def build_plan(provisioning: Provisioning, source: str | None, target: str, *, force: bool = False, provision: bool = False) -> EnvironmentPlan:
    policy, source, target_name = resolve_names(provisioning, source, target)
    config = provisioning.config
    project = EnvProject(provisioning, policy)
    files = project.files(source)
    if not files:
        raise ConfigError(
            f"no files of environment '{source}' found",
            hint=[
                f"Atmos: stack files whose path names it (stacks/{source}.yaml, stacks/{source}/...) or whose vars do "
                f"({', '.join(f'{v}: {source}' for v in policy.naming.vars)}).",
                f"Plain Terraform: terraform.{source}.tfvars files. Pick another source with --from.",
            ],
        )
    draft = _Draft(source, target_name, config.root, project.protect(target_name))
    draft.binary = config.terraform_command
    existing = _existing_targets(project, files, draft, force)
    atmos = [f for f in files if f.layout == ATMOS]
    plain = [f for f in files if f.layout == TFVARS]
    if atmos:
        _plan_atmos(draft, provisioning, policy, atmos)
    if plain:
        _plan_tfvars(draft, policy, plain, provisioning.registry.backend_types())
    rows, findings, warnings = mapping_rows(draft.units, policy, provisioning.registry.backend_types())
    if findings:
        raise ConfigError(
            f"environment '{target_name}' cannot be created from '{source}': {len(findings)} problem(s); nothing was written",
            hint=[f.message for f in findings],
            context={"source": source, "target": target_name},
        )
    files_out = tuple(FileChange(f.layout, f.role, f.source, f.target, f.content, f.source_text, existing.get(f.target)) for f in draft.files)
    for relative, text in existing.items():
        draft.secrets |= secret_values(_safe_yaml(text, relative))
    rows += _key_rows(draft, policy)
    cost, cost_warnings = cost_report(draft.units, policy, config.root, source)
    return EnvironmentPlan(
        source=source,
        target=target_name,
        requested=target,
        layouts=tuple(draft.layouts),
        inventory=_inventory(draft, rows),
        rows=tuple(rows),
        portable=tuple(_portable(draft, policy)),
        context_bound=tuple(_context_bound(draft)),
        cost=cost,
        checklist=tuple(_checklist(draft, policy, provision, cost)),
        files=files_out,
        components=tuple((u.target.stack, u.target.component) for u in ordered(draft.units)
                         if u.layout == ATMOS and u.target is not None and u.target.stack and u.target.component and u.target.backend_enabled()),
        folders=tuple(PlainFolder(u.target.folder, u.target.backend_type, u.target.varfiles, u.target.backend_files)
                      for u in draft.units if u.layout == TFVARS and u.target is not None),
        commands=tuple(_commands(draft)),
        references=tuple(references(draft, policy)),
        changes=tuple(draft.changes),
        warnings=tuple(draft.warnings + warnings + cost_warnings + ([f"environment name '{target}' normalised to '{target_name}'"] if target != target_name else [])),
        secrets=frozenset(draft.secrets),
        units=tuple(draft.units),
    )


# --- existing targets ---------------------------------------------------------------------


def _existing_targets(project: EnvProject, files: list[EnvFile], draft: _Draft, force: bool) -> dict[str, str]:
    """Target files that already exist (relative -> text); refused unless ``force``."""
    root, source, target = project.root, draft.source, draft.target
    planned = {_target_of(f, project, draft) for f in files}
    present = {f.relative for f in project.files(target)}
    present |= {p for p in planned if (root / p).is_file()}
    if not present:
        return {}
    if not force:
        raise ResourceConflict(
            f"environment '{target}' already exists: {', '.join(sorted(present))}",
            hint=["Pass --force to overwrite its files (nothing is destroyed), or `provision env destroy` it first.",
                  f"See the differences first with `provision env create {target} --from {source} --dry-run --force`."],
            context={"target": target},
        )
    if target in project.policy.protected:
        raise ConfigError(
            f"environment '{target}' is protected (environments.protected) and exists: create never overwrites it, even with --force",
            hint="Edit its files by hand, or remove it from environments.protected.",
        )
    return {p: (root / p).read_text() for p in sorted(present & planned)}


def _target_of(env_file: EnvFile, project: EnvProject, draft: _Draft) -> str:
    if env_file.layout == ATMOS:
        base = project.config.stacks_base_path
        return relative_to(base / atmos_target(env_file.stacks_relative, draft.source, draft.target, draft.protect), project.root)
    return plain_target(env_file.relative, env_file.pattern, draft.target)


# --- Atmos --------------------------------------------------------------------------------


def _yaml_variable(policy: EnvironmentPolicy, target: str) -> Callable[[str], str] | None:
    """key -> the variable a stack's ``!env`` reference names; None when placeholders are written instead."""
    mode = policy.secrets.yaml
    if mode == "auto":
        mode = "env" if stacks_read_env_tag() else "placeholder"
    if mode != "env":
        return None
    return lambda key: variable_name(policy.secrets.variable, target, key)


def _plan_atmos(draft: _Draft, provisioning: Provisioning, policy: EnvironmentPolicy, files: list[EnvFile]) -> None:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    config = provisioning.config
    base, root = config.stacks_base_path, config.root
    source, target = draft.source, draft.target
    cloned = {without_suffix(f.stacks_relative) for f in files}
    clones: dict[str, tuple[EnvFile, str, YamlClone]] = {}
    variable = _yaml_variable(policy, target)
    for env_file in files:
        text = env_file.path.read_text()
        draft.secrets |= secret_values(_safe_yaml(text, env_file.relative))
        stacks_target = atmos_target(env_file.stacks_relative, source, target, draft.protect)
        clone = YamlClone(text, env_file.stacks_relative, relative_to(base / stacks_target, root))
        entries = clone.data.get("import") if isinstance(clone.data, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            path = entry.get("path") if isinstance(entry, dict) else entry
            if isinstance(path, str) and without_suffix(path) not in cloned and path not in draft.shared_imports:
                draft.shared_imports.append(path)
        clone.rewrite(source=source, target=target, policy=policy, cloned_import=lambda p: without_suffix(p) in cloned, protect=draft.protect, variable=variable)
        clones[env_file.relative] = (env_file, stacks_target, clone)

    for _attempt in range(3):
        with preview_repository(config, {t: c.dump() for _, t, c in clones.values()}, provisioning.stacks.backend_types) as preview:
            units, missing = atmos_units(provisioning.stacks, preview, files, source, target, root, draft.protect)
        if missing:
            raise ConfigError(f"the cloned stacks do not resolve as expected: missing {', '.join(missing)}", hint="Check that the target's stack names differ from the source's (stacks.name_pattern).")
        for unit in units:
            require_backend(unit)
        overrides = 0
        source_states = {u.source.state for u in units}
        for unit in units:
            assert unit.target is not None
            clone = clones[unit.source.file][2]
            at = ("components", "terraform", unit.name)
            # An isolated value the target still inherits from a shared import: override it in the target's own file.
            for section, values in unit.source.sections().items():
                for key, value in values.items():
                    isolated = policy.isolated_key(key, section)
                    if isolated is None or value in (None, "") or isinstance(value, bool) or is_placeholder(unit.target.sections()[section].get(key)):
                        continue
                    text = placeholder_text(isolated, source, target, str(key))
                    where = ".".join((*at, section, str(key)))
                    if variable is not None:
                        clone.set_reference((*at, section, str(key)), text, variable(str(key)))
                        clone.changes.append(ValueChange(clone.target_relative, where, str(key), section, REFERENCE, str(value), variable(str(key))))
                    else:
                        clone.set((*at, section, str(key)), DoubleQuotedScalarString(text))
                        clone.changes.append(ValueChange(clone.target_relative, where, str(key), section, PLACEHOLDER, str(value), text))
                    overrides += 1
            if unit.target.state in source_states:
                backend_type = str(unit.target.backend_type)
                setting = state_key_setting(backend_type, provisioning.registry.backend_types())
                if setting is None:
                    raise ConfigError(
                        f"{unit.target.label} would keep the state of {unit.source.label} ({unit.target.state}) and backend_type {backend_type} has no key setting to move it",
                        hint="Make one of its backend settings carry the environment name (it is then substituted).",
                    )
                old = unit.target.backend.get(setting)
                new = separated_value(setting, old, target)
                clone.set((*at, "backend", backend_type, setting), new)
                clone.changes.append(ValueChange(clone.target_relative, ".".join((*at, "backend", backend_type, setting)), setting, "backend", STATE, str(old or ""), new))
                overrides += 1
        if not overrides:
            break
    else:  # pragma: no cover - overrides converge in one round; a second round finding more is a bug
        raise ConfigError("could not isolate the target's secrets and state", hint="Report this with the stack files.")

    for env_file, _, clone in clones.values():
        draft.files.append(FileChange(ATMOS, env_file.role, env_file.relative, clone.target_relative, clone.dump(final=True), clone.text))
        draft.changes += clone.changes
    draft.units += units
    draft.layouts.append(ATMOS)


# --- plain terraform ----------------------------------------------------------------------


def _plan_tfvars(draft: _Draft, policy: EnvironmentPolicy, files: list[EnvFile], backend_types: Mapping[str, BackendType]) -> None:
    source, target, root = draft.source, draft.target, draft.root
    planned: dict[str, tuple[EnvFile | None, str, str]] = {}  # target relative -> (source file, source text, new text)
    changes: dict[str, list[ValueChange]] = {}
    for env_file in files:
        target_file = plain_target(env_file.relative, env_file.pattern, target)
        text = env_file.path.read_text()
        section = "vars" if env_file.role == TFVARS else "backend"
        block = folder_backend_block(env_file.path.parent, root) if section == "backend" else None
        backend_env = backend_types[block[0]].secret_env if block is not None and block[0] in backend_types else {}
        new, found = tfvars.rewrite(text, source=source, target=target, policy=policy, section=section, file=target_file, where=env_file.relative,
                                    protect=draft.protect, backend_env=backend_env)
        planned[target_file] = (env_file, text, new)
        changes[target_file] = found
        values = tfvars.read_vars(text, env_file.relative) if env_file.role == TFVARS else tfvars.parse(text, env_file.relative, kind="backend file")
        draft.secrets |= secret_values(values)

    def read(relative: str) -> str | None:
        entry = planned.get(relative)
        return entry[2] if entry is not None else None

    units, _ = tfvars_units(root, files, source, target, read, backend_types)
    for unit in units:
        require_backend(unit)
        assert unit.target is not None
        if unit.target.state != unit.source.state:
            continue
        backend_type = str(unit.source.backend_type)
        setting = state_key_setting(backend_type, backend_types)
        if setting is None:
            raise ConfigError(f"{unit.source.folder}: backend {backend_type} has no key setting to give {target} its own state", hint="Add a backend.<env>.hcl file whose settings carry the environment name.")
        new_value = separated_value(setting, unit.target.backend.get(setting), target)
        folder = root / unit.source.folder
        existing = next((relative_to(folder / n, root) for n in backend_names(target) if relative_to(folder / n, root) in planned), None)
        if existing is not None:
            planned_file, planned_text, planned_new = planned[existing]
            planned[existing] = (planned_file, planned_text, tfvars.set_value(planned_new, setting, new_value, existing))
        else:
            existing = relative_to(folder / f"backend.{target}.hcl", root)
            header = (f"# Backend settings of environment {target}: its state is separate from {source}'s.\n"
                      f"# terraform init -reconfigure -backend-config={Path(existing).name}\n")
            planned[existing] = (None, "", header + f'{setting} = "{new_value}"\n')
            changes[existing] = []
        changes[existing].append(ValueChange(existing, setting, setting, "backend", STATE, str(unit.target.backend.get(setting) or ""), new_value))
    units, _ = tfvars_units(root, files, source, target, read, backend_types)
    for target_file, (source_file, text, new) in planned.items():
        role = source_file.role if source_file is not None else BACKEND
        draft.files.append(FileChange(TFVARS, role, source_file.relative if source_file is not None else "", target_file, new, text))
        draft.changes += changes[target_file]
    draft.units += units
    draft.layouts.append(TFVARS)


# --- report parts -------------------------------------------------------------------------


def _key_rows(draft: _Draft, policy: EnvironmentPolicy) -> list[MappingRow]:
    rows = []
    for change in draft.changes:
        if change.kind in (PLACEHOLDER, REFERENCE):
            action = NEW_CREDENTIAL if is_secret_key(change.key) else NEW_VALUE
            target = change.new if change.kind == REFERENCE else change.key
            rows.append(MappingRow("key", change.key, target, action, f"{change.file} {change.path}"))
        elif change.kind == RENAMED and is_secret_key(change.key):
            draft.secrets |= {change.old, change.new}
    shared: set[str] = set()
    for unit in draft.units:
        for section, values in unit.source.sections().items():
            for key in values:
                declared = policy.key(key) if isinstance(key, str) else None
                if declared is not None and declared.isolation == "shared" and key not in shared:
                    shared.add(key)
                    rows.append(MappingRow("key", key, key, SHARED, f"{unit.source.label} {section}.{key}"))
    return rows


def _inventory(draft: _Draft, rows: list[MappingRow]) -> Inventory:
    keys = sorted({f"{section}.{key}" for u in draft.units for section, values in (("vars", u.source.vars), ("env", u.source.env)) for key in values})
    return Inventory(
        files=tuple(f.source for f in draft.files if f.source),
        stacks=tuple(dict.fromkeys(f"{u.source.stack} ({u.source.file})" for u in draft.units if u.source.stack)),
        components=tuple(f"{u.source.label} (folder {u.source.folder}, backend {u.source.backend_type or 'local'})" for u in draft.units),
        resources=tuple(dict.fromkeys(f"{r.kind} {r.source}" for r in rows if r.kind not in ("key", "value") and r.source)),
        keys=tuple(keys),
    )


def _portable(draft: _Draft, policy: EnvironmentPolicy) -> list[str]:
    found: dict[str, None] = {}
    for unit in draft.units:
        found[f"terraform code in {unit.source.folder}"] = None
    for entry in draft.shared_imports:
        found[f"import {entry} (shared, not cloned)"] = None
    for unit in draft.units:
        if unit.target is None:
            continue
        for section, values in unit.source.sections().items():
            if section == "settings":
                continue
            for key, value in values.items():
                if policy.isolated_key(key, section) is None and unit.target.sections()[section].get(key) == value:
                    found[f"{section}.{key}" + (" (shared)" if isinstance(key, str) and policy.is_shared_key(key) else "")] = None
    return list(found)


def _context_bound(draft: _Draft) -> list[str]:
    lines = []
    for change in draft.changes:
        if change.kind == PLACEHOLDER:
            lines.append(f"{change.file}: {change.path}: a new value is required (isolated, never copied)")
        elif change.kind == REFERENCE:
            lines.append(f"{change.file}: {change.path}: from {change.new} (isolated, never copied; not in the file)")
        elif change.kind == STATE:
            lines.append(f"{change.file}: {change.path}: {change.old or '(unset)'} -> {change.new} (separate state)")
        else:
            lines.append(f"{change.file}: {change.path}: {change.old!s} -> {change.new!s}".replace("\n", " "))
    return lines


def references(draft: _Draft, policy: EnvironmentPolicy) -> list[SecretReference]:
    """The target's isolated values written as references, one per variable."""
    found: dict[str, SecretReference] = {}
    for change in draft.changes:
        if change.kind == REFERENCE and change.new not in found:
            declared = policy.key(change.key)
            found[change.new] = reference(draft.target, change.key, change.new, file=change.file, path=change.path, section=change.section,
                                          hint=declared.hint if declared is not None else "")
    return list(found.values())


def secret_items(refs: Sequence[SecretReference], stored: Sequence[SecretStored]) -> list[str]:
    """Checklist lines: what to create for each reference, and where it goes (the plugin's store, or the variable)."""
    items = []
    for ref in refs:
        verb = "Create a new credential" if ref.credential else "Set a new value for"
        hint = f": {ref.hint}" if ref.hint else ""
        where = stored_text(stored, ref.variable)
        place = f"{where}; make sure it holds the new value" if where else f"set it in the environment as {ref.variable} (a secret store or CI secret, never a file)"
        items.append(f"{verb} {ref.key} for {ref.environment}{hint}; {place}")
    return items


def _commands(draft: _Draft) -> list[Commands]:
    """Per environment (the target first), each component's init/plan/apply, in dependency order."""
    found: list[Commands] = []
    for env, side_of_unit in ((draft.target, lambda u: u.target), (draft.source, lambda u: u.source)):
        for unit in ordered(draft.units):
            side = side_of_unit(unit)
            if side is None:
                continue
            variables = tuple(c.new for c in draft.changes if c.kind == REFERENCE and c.file in side.varfiles + side.backend_files) if env == draft.target else ()
            found.append(atmos_commands(side, env) if unit.layout == ATMOS else plain_commands(side, draft.binary, variables))
    return found


def _checklist(draft: _Draft, policy: EnvironmentPolicy, provision: bool, cost: CostReport) -> list[str]:
    items: list[str] = []
    by_key: dict[str, list[str]] = {}
    for change in draft.changes:
        if change.kind == PLACEHOLDER:
            by_key.setdefault(change.key, []).append(f"{change.file} ({change.path})")
    for key, where in by_key.items():
        declared = policy.key(key)
        hint = f": {declared.hint}" if declared is not None and declared.hint else ""
        verb = "Create a new credential" if is_secret_key(key) else "Set a new value for"
        items.append(f"{verb} {key} for {draft.target}{hint}; put it in {', '.join(where)}")
    items += secret_items(references(draft, policy), ())
    for line in cost.lines:
        if line.delta:
            items.append(f"Approve the cost of {line.instances} new {line.label} ({line.type}) in {line.component}: about +${line.delta:,.2f}/month")
    if cost.delta is None:
        items.append(f"Find out the cost: {cost.headline(draft.target)}")
    atmos_units = [u for u in ordered(draft.units) if u.layout == ATMOS and u.target is not None]
    backends = [u.target for u in atmos_units if u.target is not None and u.target.backend_enabled()]
    if backends and not provision:
        commands = ", ".join(f"`provision backend {t.component} -s {t.stack}`" for t in backends)
        items.append(f"Create the state backends: {commands} (or create with --provision)")
    to_create = [u.target for u in draft.units if u.layout == TFVARS and u.target is not None and needs_backend(u.target.backend_type)]
    if to_create and not provision and not policy.terraform.backend_enabled():
        located = ", ".join(f"{t.backend_type} in {t.folder}" for t in to_create)
        items.append(f"Create the state backends ({located}): `provision env backends {draft.target}` (or create with --provision)")
    items.append(f"Check the new environment: `provision env verify {draft.target} --against {draft.source}`")
    for unit in atmos_units:
        assert unit.target is not None
        items.append(f"Apply: `provision terraform apply {unit.target.component} -s {unit.target.stack}`")
    for plain in _commands(draft):
        if plain.environment == draft.target and plain.cwd:
            items.append(f"Apply: `cd {plain.cwd} && {plain.init} && {plain.apply}`")
    items.append(f"When done: `provision env destroy {draft.target} --force`")
    return items


def _safe_yaml(text: str, where: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="safe")
    try:
        check_bounds(text, where, yaml)  # a hostile file is refused before anything walks it
        return yaml.load(text)
    except YAMLError:
        return None
