"""The ``hello`` provisioner: writes ``greeting`` to ``<folder>/<stack>-<component>.txt``.

Stack config::

    provision:
      hello:
        enabled: true
        folder: /tmp/greetings     # required
        greeting: Hello            # optional
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provisioner_core import (
    BEFORE_TERRAFORM_INIT,
    MANUAL_PROVISION,
    ChangeRecorder,
    OptionReader,
    ProvisionerSpec,
    ProvisionResult,
    ResolvedComponent,
    provisioner,
)

SPEC = ProvisionerSpec(
    name="hello",
    type="hello",
    events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION),
    description="Writes a greeting file for each component",
)


def provision(component: ResolvedComponent, options: Mapping[str, Any], dry_run: bool) -> ProvisionResult:
    reader = OptionReader(options, "provision.hello")
    folder = Path(reader.str("folder", required=True, hint="Add `folder: /some/path` under provision.hello.") or "")
    greeting = reader.str("greeting", "Hello") or "Hello"
    target = folder / f"{component.stack}-{component.name}.txt"
    recorder = ChangeRecorder(f"file {target}", dry_run=dry_run)
    for warning in reader.unknown_keys(("enabled", "timeout")):
        recorder.warn(warning)
    content = f"{greeting}, {component.name}!\n"
    current = target.read_text() if target.exists() else None
    if current != content:

        def write() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(content)

        recorder.write("write", f"file {target}", write, creates=current is None)
    recorder.details["greeting"] = greeting
    return recorder.result()


# The plugin: declares SPEC and runs `provision` at each of its events (entry point "...plugin:plugin").
plugin = provisioner(SPEC, provision)
