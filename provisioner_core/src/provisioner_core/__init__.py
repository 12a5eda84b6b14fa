"""provisioner-core: provision what a Terraform component needs before Terraform runs.

The public API for plugin authors and Python tools. Write a provisioner by implementing
hooks from :mod:`provisioner_core.hookspecs` with :data:`hookimpl`, and register it in the
``provisioner`` entry-point group of your distribution::

    [project.entry-points.provisioner]
    my-provisioner = "my_package.plugin"
"""

from provisioner_core.auth import AuthContext, AwsCredentials, AzureCredentials, GcpCredentials
from provisioner_core.cache import ClientCache
from provisioner_core.changes import ChangeRecorder
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
)
from provisioner_core.hookspecs import hookimpl, hookspec
from provisioner_core.options import OptionReader
from provisioner_core.results import Action, Drift, Outcome, ProvisionResult, Resolution, Status
from provisioner_core.simple import provisioner
from provisioner_core.spec import EventSpec, ProvisionerSpec
from provisioner_core.stacks.component import ResolvedComponent

__version__ = "0.1.0"

__all__ = [
    "AFTER_COMPONENT_LOAD",
    "AFTER_TERRAFORM_APPLY",
    "AFTER_TERRAFORM_INIT",
    "AFTER_TERRAFORM_PLAN",
    "BEFORE_COMPONENT_LOAD",
    "BEFORE_TERRAFORM_APPLY",
    "BEFORE_TERRAFORM_INIT",
    "BEFORE_TERRAFORM_PLAN",
    "BUILTIN_EVENTS",
    "EXIT_CONFIG",
    "EXIT_CONFLICT",
    "EXIT_GENERAL",
    "EXIT_NETWORK",
    "EXIT_OK",
    "EXIT_PERMISSION",
    "MANUAL_PROVISION",
    "Action",
    "AuthContext",
    "AwsCredentials",
    "AzureCredentials",
    "ChangeRecorder",
    "ClientCache",
    "ConfigError",
    "Drift",
    "EventSpec",
    "GcpCredentials",
    "NetworkError",
    "OptionReader",
    "Outcome",
    "PermissionDenied",
    "ProvisionResult",
    "ProvisionerError",
    "ProvisionerFailed",
    "ProvisionerSpec",
    "Resolution",
    "ResolvedComponent",
    "ResourceConflict",
    "Status",
    "hookimpl",
    "hookspec",
    "provisioner",
]
