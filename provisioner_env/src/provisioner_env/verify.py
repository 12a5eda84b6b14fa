"""``provision env verify``: the invariants between a target environment and its source.

Each check is named; every violation is one line naming the offending value. Checks:
``env-name``, ``files``, ``name-limit``, ``same-name``, ``same-state``, ``renamed``,
``missing-key``, ``isolated-key``, ``secret-in-file``, ``placeholder``; with
``--check-backends``, ``backend-exists``; with ``--live`` (live.py), ``backend-exists``,
``secret-set`` and (``--plan``) ``plan-clean``, or after a destroy ``leftover-state`` and
``leftover-backend``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import IO, Any

from attrs import define, field

from provisioner_core import ConfigError, ProvisionerError, Provisioning, install_hint, is_secret_key
from provisioner_env.backends import missing_backend, needs_backend, plain_component, serves
from provisioner_env.layouts import ATMOS, TFVARS, EnvProject
from provisioner_env.live import DESTROYED_CHECKS, LIVE_CHECKS, LiveComponent, destroyed_checks, live_checks
from provisioner_env.mapping import NAME_LIMIT, SAME_NAME, SAME_STATE, Finding, mapping_rows
from provisioner_env.names import normalise_env_name, validate_env_name
from provisioner_env.placeholders import find_placeholders
from provisioner_env.policy import EnvironmentPolicy, load_policy
from provisioner_env.secrets import file_references
from provisioner_env.substitute import contains
from provisioner_env.units import Unit, atmos_units, disk_reader, tfvars_units
from provisioner_env.values import is_placeholder

CHECKS: tuple[str, ...] = (
    "env-name", "files", NAME_LIMIT, SAME_NAME, SAME_STATE, "renamed", "missing-key", "isolated-key", "secret-in-file", "placeholder", "backend-exists",
)  # fmt: skip


@define
class VerifyResult:
    source: str
    target: str
    checks: list[str] = field(factory=list)
    violations: list[Finding] = field(factory=list)
    units: int = 0
    live: list[LiveComponent] | None = None  # --live: what the backends say, per component
    destroyed: bool = False  # --live on an environment without files: checked for leftovers

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        data = {"source": self.source, "target": self.target, "ok": self.ok, "checks": self.checks, "components": self.units,
                "violations": [v.to_dict() for v in self.violations]}
        if self.live is not None:
            data |= {"live": [c.to_dict() for c in self.live], "destroyed": self.destroyed}
        return data

    def error(self) -> ConfigError:
        return ConfigError(
            f"environment '{self.target}' fails {len(self.violations)} check(s) against '{self.source}'",
            hint=[f"[{v.check}] {v.message}" for v in self.violations],
            context={"source": self.source, "target": self.target},
        )


def verify_environment(
    provisioning: Provisioning,
    target: str,
    against: str | None = None,
    *,
    check_backends: bool = False,
    live: bool = False,
    plan: bool = False,
    out: IO[str] | None = None,
    status: Callable[[str], None] = lambda _: None,
) -> VerifyResult:
    """Check TARGET against SOURCE; ``live``: against the real backends too (``plan``: and a terraform plan per component)."""
    policy = load_policy(provisioning.config)
    source = normalise_env_name(against or policy.default_source)
    target = normalise_env_name(target)
    checks = [c for c in CHECKS if check_backends or live or c != "backend-exists"]
    checks += [c for c in LIVE_CHECKS if live and (plan or c != "plan-clean") and c not in checks]
    result = VerifyResult(source, target, checks)
    add = result.violations.append
    try:
        validate_env_name(target, max_length=policy.naming.max_length, pattern=policy.naming.pattern)
    except ConfigError as error:
        add(Finding("env-name", error.message))
    root = provisioning.config.root
    project = EnvProject(provisioning, policy)
    protect = project.protect(target)
    source_files = project.files(source)
    target_files = project.files(target)
    if not source_files:
        raise ConfigError(f"no files of environment '{source}' found", hint="Name the source with --against.")
    if not target_files:
        if live:
            return _verify_destroyed(provisioning, policy, result)
        add(Finding("files", f"environment '{target}' has no files (expected the clones of {', '.join(f.relative for f in source_files)})"))
        return result
    units: list[Unit] = []
    atmos = [f for f in source_files if f.layout == ATMOS]
    plain = [f for f in source_files if f.layout == TFVARS]
    if atmos:
        found, missing = atmos_units(provisioning.stacks, provisioning.stacks, atmos, source, target, root, protect)
        units += found
        result.violations += [Finding("files", f"{target} has no {m}") for m in missing]
    if plain:
        found, missing = tfvars_units(root, plain, source, target, disk_reader(root), provisioning.registry.backend_types())
        units += found
        result.violations += [Finding("files", f"{target} has no {m}") for m in missing]
    result.units = len(units)
    result.violations += mapping_rows(units, policy, provisioning.registry.backend_types())[1]
    for unit in units:
        if unit.target is not None:
            result.violations += _unit_findings(unit, policy, source, protect)
    if check_backends and not live:
        result.violations += _backend_findings(provisioning, units, policy)
    if live:
        result.live, live_findings = live_checks(provisioning, units, policy, file_references(target_files, target), plan=plan, out=out, status=status)
        result.violations += live_findings
    return result


def _verify_destroyed(provisioning: Provisioning, policy: EnvironmentPolicy, result: VerifyResult) -> VerifyResult:
    """TARGET has no files (destroyed): its components as create would plan them, checked for leftovers by name."""
    from provisioner_env.planner import build_plan

    planned = build_plan(provisioning, result.source, result.target)
    result.destroyed = True
    result.checks = ["env-name", *DESTROYED_CHECKS]
    result.live, found = destroyed_checks(provisioning, planned.units, policy)
    result.units = len(result.live)
    result.violations += found
    return result


def _unit_findings(unit: Unit, policy: EnvironmentPolicy, source: str, protect: frozenset[str]) -> list[Finding]:
    assert unit.target is not None
    found: list[Finding] = []
    where = unit.target.label if unit.layout == ATMOS else unit.target.file
    source_sections, target_sections = unit.source.sections(), unit.target.sections()
    for section in ("vars", "env"):
        for key, value in source_sections[section].items():
            if key not in target_sections[section]:
                if unit.layout == TFVARS and policy.isolated_key(key, section) is not None:
                    continue  # a reference: terraform reads it from TF_VAR_<key> (verify --live checks it is set)
                found.append(Finding("missing-key", f"{where}: {section}.{key} is defined in {source} ({unit.source.label}) but missing"))
                continue
            isolated = policy.isolated_key(key, section)
            if isolated is not None and value not in (None, "") and target_sections[section][key] == value:
                found.append(Finding("isolated-key", f"{where}: {section}.{key} has the same value as in {source}; it is isolated and must be new"))
    if unit.layout == TFVARS:
        for key, value in unit.target.vars.items():
            if is_secret_key(key) and policy.isolated_key(key, "vars") is not None and value not in (None, "") and not is_placeholder(value):
                found.append(Finding("secret-in-file", f"{where}: vars.{key} is written in the file; an isolated credential belongs in TF_VAR_{key} "
                                                       "(a secret store or CI secret), never in a file"))
    checked: dict[str, Any] = {"vars": dict(unit.target.vars), "env": dict(unit.target.env), "backend": dict(unit.target.backend), "settings": dict(unit.target.settings)}
    for path in find_placeholders(checked):
        found.append(Finding("placeholder", f"{where}: {path} is still a REQUIRED: placeholder"))
    for path, value in _strings(checked):
        key = path.rsplit(".", 1)[-1]
        if contains(value, source, protect, ignore_case=policy.ignores_case(key)) and not is_placeholder(value) and not policy.is_shared_key(key) and not path.startswith("settings.depends_on"):
            shown = "***" if is_secret_key(key) else repr(value)
            found.append(Finding("renamed", f"{where}: {path} = {shown} still names {source}"))
    return found


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    """(dotted path, text) of every string value, in document order (iterative)."""
    found: list[tuple[str, str]] = []
    work: list[tuple[Any, str]] = [(value, path)]
    while work:
        item, where = work.pop()
        if isinstance(item, Mapping):
            work.extend((child, f"{where}.{key}" if where else str(key)) for key, child in reversed(list(item.items())))
        elif isinstance(item, list):
            work.extend((child, f"{where}[{index}]") for index, child in reversed(list(enumerate(item))))
        elif isinstance(item, str):
            found.append((where, item))
    return found


def _backend_findings(provisioning: Provisioning, units: list[Unit], policy: EnvironmentPolicy) -> list[Finding]:
    """Each target backend that does not exist yet (a dry run of its backend provisioner would create it)."""
    found = []
    for unit in units:
        target = unit.target
        if target is None:
            continue
        if unit.layout == ATMOS:
            if not target.backend_enabled() or not target.stack or not target.component:
                continue
            call = functools.partial(provisioning.component, target.stack, target.component)
        else:
            if not needs_backend(target.backend_type):
                continue
            if not serves(provisioning.registry, target.backend_type):
                found.append(Finding("backend-exists", f"{target.folder}: cannot check the {target.backend_type} backend of {target.environment}: "
                                                       f"no installed backend provisioner serves it ({install_hint(str(target.backend_type))})"))
                continue
            call = functools.partial(plain_component, target, policy, provision=True)
        try:
            missing = missing_backend(provisioning, call())
        except ProvisionerError as error:
            found.append(Finding("backend-exists", f"{target.label}: cannot check the backend: {error.message}"))
            continue
        if missing:
            found.append(Finding("backend-exists", f"{target.label}: the state backend does not exist yet (provisioning would {missing})"))
    return found
