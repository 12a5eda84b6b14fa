"""provisioner-core: provision what a Terraform component needs before Terraform runs.

This module is the public API (plugin contract v1, ``API_VERSION``): everything a plugin
author or a Python tool needs is importable from here, and nothing else is public (see
docs/api.md). Write a provisioner with :func:`provisioner` (or ``@hookimpl`` functions; see
:mod:`provisioner_core.hookspecs`) and register it in the ``provisioner`` entry-point group::

    [project.entry-points.provisioner]
    my-provisioner = "my_package.plugin:plugin"
"""

import logging as _logging

from provisioner_core.auth import AuthContext, CredentialProvider, Credentials
from provisioner_core.cache import ClientCache
from provisioner_core.capture import RunCancelled, check_cancelled, get_logger
from provisioner_core.changes import ChangeRecorder
from provisioner_core.cli.commands import OUTPUT as OUTPUT_OPTION
from provisioner_core.cli.commands import state_of as cli_state
from provisioner_core.cli.complete import complete_components, complete_stacks
from provisioner_core.cli.render import outcomes_text as render_outcomes
from provisioner_core.cli.state import CliState
from provisioner_core.errors import (
    EXIT_CONFIG,
    EXIT_CONFLICT,
    EXIT_GENERAL,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_PERMISSION,
    ConfigError,
    NetworkError,
    PermissionDenied,
    ProvisionerError,
    ProvisionerFailed,
    ResourceConflict,
)
from provisioner_core.events import (
    AFTER_COMPONENT_LOAD,
    AFTER_TERRAFORM_APPLY,
    AFTER_TERRAFORM_INIT,
    AFTER_TERRAFORM_PLAN,
    BEFORE_COMPONENT_LOAD,
    BEFORE_TERRAFORM_APPLY,
    BEFORE_TERRAFORM_INIT,
    BEFORE_TERRAFORM_PLAN,
    BUILTIN_EVENTS,
    MANUAL_PROVISION,
    EventSpec,
)
from provisioner_core.hookspecs import hookimpl, hookspec
from provisioner_core.interrupts import RunInterrupted, Stop
from provisioner_core.options import OptionReader
from provisioner_core.plugins.manager import PluginInfo, PluginRegistry
from provisioner_core.reconciler import (
    BackendOptions,
    Change,
    LostRace,
    Plan,
    PlanBuilder,
    Reconciled,
    Resource,
    Stale,
    Write,
    backoff,
    prefetched,
    read_backend_options,
    reconcile,
    retry,
    translating,
    wait_until,
)
from provisioner_core.redaction import Redactor, is_secret_key, secret_values
from provisioner_core.results import Action, Drift, Message, Outcome, ProvisionResult, Resolution, Status
from provisioner_core.runner import EventFailed
from provisioner_core.schema import json_schema, option
from provisioner_core.sections import ComponentSection
from provisioner_core.session import Provisioning
from provisioner_core.simple import SimpleProvisioner, provisioner
from provisioner_core.spec import Concurrency, ProvisionerSpec
from provisioner_core.stacks.component import ResolvedComponent
from provisioner_core.stacks.config import ProjectConfig, load_project_config
from provisioner_core.stacks.loader import check_bounds
from provisioner_core.stacks.resolver import StackRepository
from provisioner_core.state import DEFAULT_WORKSPACE, StateLocation, locate
from provisioner_core.state.backend_types import BackendType, DefaultsContext, NameRule, install_hint
from provisioner_core.terraform import TerraformRun, run_terraform
from provisioner_core.terraform.files import BACKEND_FILE, backend_config
from provisioner_core.terraform.initialised import initialised_backend
from provisioner_core.terraform.process import find_binary as find_terraform_binary
from provisioner_core.terraform.process import run as run_process
from provisioner_core.version import API_VERSION, distribution_version

__version__ = distribution_version()

# A library must not print on its own: tools that embed us configure logging (the CLI routes it).
_logging.getLogger("provisioner").addHandler(_logging.NullHandler())

__all__ = [
    "AFTER_COMPONENT_LOAD",
    "AFTER_TERRAFORM_APPLY",
    "AFTER_TERRAFORM_INIT",
    "AFTER_TERRAFORM_PLAN",
    "API_VERSION",
    "BACKEND_FILE",
    "BEFORE_COMPONENT_LOAD",
    "BEFORE_TERRAFORM_APPLY",
    "BEFORE_TERRAFORM_INIT",
    "BEFORE_TERRAFORM_PLAN",
    "BUILTIN_EVENTS",
    "DEFAULT_WORKSPACE",
    "EXIT_CONFIG",
    "EXIT_CONFLICT",
    "EXIT_GENERAL",
    "EXIT_NETWORK",
    "EXIT_OK",
    "EXIT_PERMISSION",
    "MANUAL_PROVISION",
    "OUTPUT_OPTION",
    "Action",
    "AuthContext",
    "BackendOptions",
    "BackendType",
    "Change",
    "ChangeRecorder",
    "CliState",
    "ClientCache",
    "ComponentSection",
    "Concurrency",
    "ConfigError",
    "CredentialProvider",
    "Credentials",
    "DefaultsContext",
    "Drift",
    "EventFailed",
    "EventSpec",
    "LostRace",
    "Message",
    "NameRule",
    "NetworkError",
    "OptionReader",
    "Outcome",
    "PermissionDenied",
    "Plan",
    "PlanBuilder",
    "PluginInfo",
    "PluginRegistry",
    "ProjectConfig",
    "ProvisionResult",
    "ProvisionerError",
    "ProvisionerFailed",
    "ProvisionerSpec",
    "Provisioning",
    "Reconciled",
    "Redactor",
    "Resolution",
    "ResolvedComponent",
    "Resource",
    "ResourceConflict",
    "RunCancelled",
    "RunInterrupted",
    "SimpleProvisioner",
    "StackRepository",
    "Stale",
    "StateLocation",
    "Stop",
    "Status",
    "TerraformRun",
    "Write",
    "backend_config",
    "backoff",
    "check_bounds",
    "check_cancelled",
    "cli_state",
    "complete_components",
    "complete_stacks",
    "find_terraform_binary",
    "get_logger",
    "hookimpl",
    "hookspec",
    "initialised_backend",
    "install_hint",
    "is_secret_key",
    "json_schema",
    "load_project_config",
    "locate",
    "option",
    "prefetched",
    "provisioner",
    "read_backend_options",
    "reconcile",
    "render_outcomes",
    "retry",
    "run_process",
    "run_terraform",
    "secret_values",
    "translating",
    "wait_until",
    "__version__",
]
