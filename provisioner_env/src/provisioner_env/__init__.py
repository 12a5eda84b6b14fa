"""Environment cloning: ``provision env create|verify|destroy`` (see docs/environments.md).

Modules, one concern each: ``names`` (environment names, provider name limits),
``substitute`` (name-part substitution), ``policy`` (the ``environments:`` policy),
``layouts`` (an environment's files by exact identity), ``hcl`` (reading HCL files),
``yaml_clone`` and ``tfvars`` (cloning each layout's files), ``preview`` and ``units``
(resolving and pairing both environments), ``state`` (state locations), ``backends``
(provisioning and checking backends), ``inventory`` (resource blocks and their counts),
``mapping`` (the mapping table, name rules, cost), ``secrets`` (references, secrets hooks),
``commands`` (commands per environment, shared folders), ``plainrun``, ``live``
(``verify --live``), ``plan`` (frozen plan values), ``planner``, ``writer`` (atomic writes,
locks), ``hooks`` (env hooks), ``create``, ``verify``, ``destroy``, ``order``; presentation in
``cli`` and ``report``; the plugin (commands, env hooks, the placeholder check) in ``plugin``.
"""

from typing import Any

# Loaded on first use: the entry point imports this package whenever plugins are listed.
_EXPORTS = {
    "CreateResult": "provisioner_env.create",
    "create_environment": "provisioner_env.create",
    "DestroyResult": "provisioner_env.destroy",
    "destroy_environment": "provisioner_env.destroy",
    "plan_destroy": "provisioner_env.destroy",
    "normalise_env_name": "provisioner_env.names",
    "EnvironmentPlan": "provisioner_env.plan",
    "build_plan": "provisioner_env.planner",
    "EnvironmentPolicy": "provisioner_env.policy",
    "SecretReference": "provisioner_env.secrets",
    "SecretStored": "provisioner_env.secrets",
    "load_policy": "provisioner_env.policy",
    "substitute": "provisioner_env.substitute",
    "VerifyResult": "provisioner_env.verify",
    "verify_environment": "provisioner_env.verify",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'provisioner_env' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
