"""The ``hello`` provisioner: writes ``greeting`` to ``<folder>/<stack>-<component>.txt``.

Stack config::

    provision:
      hello:
        enabled: true
        folder: greetings          # required; relative paths are relative to the project root
        greeting: Hello            # optional
"""

from __future__ import annotations

import logging
from pathlib import Path

from attrs import frozen

from provisioner_core import (
    BEFORE_TERRAFORM_INIT,
    MANUAL_PROVISION,
    ChangeRecorder,
    ProvisionerSpec,
    ProvisionResult,
    ResolvedComponent,
    option,
    provisioner,
)

log = logging.getLogger("provisioner.hello")  # what it logs is shown with its result, redacted


@frozen
class HelloOptions:
    """``provision.hello``: core checks these before anything runs (exit 2 listing every problem)."""

    folder: str = option(description="where the greeting files go; relative to the project root")
    greeting: str = option("Hello", description="the first word of each greeting")


SPEC = ProvisionerSpec(
    name="hello",  # unique among installed plugins
    type="hello",  # the key under `provision:` that enables it
    events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION),  # when it runs
    description="Writes a greeting file for each component",
    options=HelloOptions,  # its options, typed and validated by core
)


def provision(component: ResolvedComponent, options: HelloOptions, dry_run: bool, project_root: Path) -> ProvisionResult:
    folder = project_root / options.folder  # an absolute folder stays absolute
    target = folder / f"{component.stack}-{component.name}.txt"
    recorder = ChangeRecorder(f"file {target}", dry_run=dry_run)
    content = f"{options.greeting}, {component.name}!\n"
    current = target.read_text() if target.exists() else None
    if current != content:  # idempotent: write only when needed

        def write() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(content)

        recorder.write("write", f"file {target}", write, creates=current is None)
        log.info("greeting for %s/%s: %s", component.stack, component.name, content.strip())
    recorder.details["greeting"] = options.greeting
    return recorder.result()  # created / updated / unchanged (dry run: planned, or unchanged when nothing to do)


# The plugin: declares SPEC and runs `provision` at each of its events (entry point "...plugin:plugin").
plugin = provisioner(SPEC, provision)
