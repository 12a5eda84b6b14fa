"""Environment cloning: ``provision env create|verify|destroy`` (see docs/environments.md).

Modules, one concern each: ``names`` (environment names, provider name limits),
``substitute`` (name-part substitution), ``policy`` (the ``environments:`` policy),
``layouts`` (finding an environment's files), ``yaml_clone`` and ``tfvars`` (cloning each
layout's files), ``preview`` and ``units`` (resolving and pairing both environments),
``state`` (state locations), ``mapping`` (the mapping table and name rules), ``plan``
(frozen plan values), ``planner``, ``writer`` (atomic writes, locks), ``hooks`` (env hooks),
``create``, ``verify``, ``destroy``, ``order`` and ``report``.
"""

from provisioner_core.env.create import CreateResult, create_environment
from provisioner_core.env.destroy import DestroyResult, destroy_environment, plan_destroy
from provisioner_core.env.names import normalise_env_name
from provisioner_core.env.plan import EnvironmentPlan
from provisioner_core.env.planner import build_plan
from provisioner_core.env.policy import EnvironmentPolicy, load_policy
from provisioner_core.env.substitute import substitute
from provisioner_core.env.verify import VerifyResult, verify_environment

__all__ = [
    "CreateResult",
    "DestroyResult",
    "EnvironmentPlan",
    "EnvironmentPolicy",
    "VerifyResult",
    "build_plan",
    "create_environment",
    "destroy_environment",
    "load_policy",
    "normalise_env_name",
    "plan_destroy",
    "substitute",
    "verify_environment",
]
