"""The Terraform workspace of a component, chosen as Atmos chooses it.

Rules (Atmos ``internal/exec/stack_utils.go`` BuildTerraformWorkspace, checked at 0a1cb44):

1. workspaces off (``components.terraform.workspaces_enabled: false``, or a backend type
   without workspaces, such as ``http``) -> ``default``;
2. ``metadata.terraform_workspace_pattern`` -> its ``{tokens}`` replaced from the vars;
3. ``metadata.terraform_workspace`` -> taken literally;
4. a derived component (``metadata.component`` names another folder) -> ``<stack>-<component>``;
5. otherwise the stack name.

``/`` becomes ``-`` in every case. Where we differ (an unknown token or a missing var is an
error instead of an empty string) docs/configuration.md says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from provisioner_core.errors import ConfigError

DEFAULT_WORKSPACE = "default"
_TOKEN = re.compile(r"\{([a-z_-]+)\}")
# Pattern tokens read from the component's vars (Atmos's context).
_VAR_TOKENS = ("namespace", "tenant", "environment", "stage", "region")
# What terraform accepts as a workspace name: URL-safe, no path separator.
_VALID = re.compile(r"^[A-Za-z0-9._~-]+$")


def workspace_for(
    *,
    enabled: bool,
    stack: str,
    component: str,
    base_component: str,
    metadata: Mapping[str, Any],
    vars_: Mapping[str, Any],
    where: str,
    template: Callable[[str], str] | None = None,
) -> str:
    """The workspace name; ``where`` names the component in errors (``stacks/dev.yaml: vpc``).

    ``enabled``: workspaces are on for the project and the component's backend type has them.
    ``template``: renders ``metadata.terraform_workspace_template`` with the component's data.
    """
    if not enabled:
        return DEFAULT_WORKSPACE
    pattern = metadata.get("terraform_workspace_pattern")
    literal = metadata.get("terraform_workspace")
    go_template = metadata.get("terraform_workspace_template")
    if go_template is not None:
        if not isinstance(go_template, str) or not go_template or template is None:
            raise ConfigError(f"{where}: metadata.terraform_workspace_template must be a non-empty Go template", hint="For example: '{{ .vars.tenant }}-{{ .vars.stage }}'.")
        workspace = template(go_template)
    elif pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError(f"{where}: metadata.terraform_workspace_pattern must be a non-empty string", hint="For example: terraform_workspace_pattern: '{tenant}-{environment}-{stage}'.")
        workspace = _replace_tokens(pattern, component, base_component, vars_, where)
    elif literal is not None:
        if not isinstance(literal, str) or not literal:
            raise ConfigError(f"{where}: metadata.terraform_workspace must be a non-empty string", hint="For example: terraform_workspace: dev-vpc.")
        workspace = literal
    elif base_component:
        workspace = f"{stack}-{component}"
    else:
        workspace = stack
    workspace = workspace.replace("/", "-")
    if not _VALID.match(workspace):
        raise ConfigError(
            f"{where}: terraform workspace {workspace!r} is not a valid workspace name",
            hint="Terraform accepts letters, digits and . _ ~ - only; change the stack name or set metadata.terraform_workspace.",
        )
    return workspace


def _replace_tokens(pattern: str, component: str, base_component: str, vars_: Mapping[str, Any], where: str) -> str:
    def value(match: re.Match[str]) -> str:
        token = match.group(1)
        if token == "component":
            return component
        if token == "base-component":
            return base_component
        if token == "attributes":
            attributes = vars_.get("attributes") or []
            return "-".join(str(a) for a in attributes) if isinstance(attributes, list) else str(attributes)
        if token in _VAR_TOKENS:
            found = vars_.get(token)
            if found is None or found == "" or isinstance(found, (Mapping, list)):
                raise ConfigError(
                    f"{where}: metadata.terraform_workspace_pattern {pattern!r} needs vars.{token}, which the component does not define",
                    hint=f"Add vars.{token} to the component or its stack, or change the pattern.",
                )
            return str(found)
        raise ConfigError(
            f"{where}: metadata.terraform_workspace_pattern {pattern!r} has unknown token {{{token}}}",
            hint="Known tokens: {namespace} {tenant} {environment} {stage} {region} {attributes} {component} {base-component}.",
        )

    return _TOKEN.sub(value, pattern)
