"""``!terraform.output``: a component's outputs, read with ``terraform output -json`` through our flow.

The component is prepared as for any run (its files written, ``init``, its workspace selected),
without provisioners or hooks; the result is cached per run by ``Provisioning``.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from provisioner_core.errors import ConfigError, ProvisionerError

if TYPE_CHECKING:
    from provisioner_core.session import Provisioning


def terraform_outputs(provisioning: Provisioning, stack: str, component: str) -> dict[str, Any]:
    """Outputs by name, each ``{"value": ..., "sensitive": ...}`` as terraform prints them."""
    from provisioner_core.terraform.flow import run_terraform

    captured, setup, errors = io.StringIO(), io.StringIO(), io.StringIO()
    where = f"!terraform.output of component '{component}' in stack '{stack}'"
    try:
        run = run_terraform(
            provisioning, "output", stack, component, ["-json"],
            stdout=setup, stderr=errors, setup_stdout=setup, capture=captured, interactive=False, events=False,
        )  # fmt: skip
    except ProvisionerError as error:
        raise ConfigError(f"{where}: {error.message}", hint=list(error.hints) or "Check that component.", context={"stack": stack, "component": component}) from None
    if run.exit_code != 0:
        last = (errors.getvalue().strip().splitlines() or ["(no message)"])[-1]
        raise ConfigError(
            f"{where}: terraform exited {run.exit_code}: {last}",
            hint="Apply that component first (its state must exist), and check its backend.",
            context={"stack": stack, "component": component},
        )
    text = captured.getvalue().strip()
    try:
        outputs = json.loads(text) if text else {}
    except ValueError:
        raise ConfigError(f"{where}: terraform output -json printed no JSON", hint="Check the terraform version (1.0 or later).") from None
    return outputs if isinstance(outputs, dict) else {}
