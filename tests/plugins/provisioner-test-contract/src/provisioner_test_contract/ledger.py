"""A careless third-party provisioner: a read-modify-write of one shared JSON file, no lock.

Written as a newcomer writes one (the issue's case). It is safe only because the concurrency
contract runs a type that did not declare itself PARALLEL one component at a time. It also
prints (a secret, even) and logs, as plugins do: core captures and redacts both.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from attrs import frozen

from provisioner_core import MANUAL_PROVISION, ProvisionerSpec, ProvisionResult, ResolvedComponent, Status, option, provisioner

log = logging.getLogger("provisioner.ledger")


@frozen
class LedgerOptions:
    file: str = option("ledger.json", description="the shared ledger, relative to the project root")
    note: str = option("", description="a note printed with each entry")


SPEC = ProvisionerSpec(name="ledger", type="ledger", events=(MANUAL_PROVISION,), description="Appends the component to a shared ledger file", options=LedgerOptions)


def run(component: ResolvedComponent, options: LedgerOptions, project_root: Path, dry_run: bool) -> ProvisionResult:
    path = project_root / options.file
    if dry_run:
        return ProvisionResult(status=Status.PLANNED, resource=str(path))
    entries = json.loads(path.read_text()) if path.exists() else []
    time.sleep(0.002)  # the read-modify-write window a careless plugin leaves open
    entries.append(f"{component.stack}/{component.name}")
    path.write_text(json.dumps(entries))
    print(f"recorded {component.stack}/{component.name} (token {component.vars.get('api_token', '-')}) {options.note}")
    log.info("the ledger has %d entries", len(entries))
    log.debug("ledger file %s", path)
    return ProvisionResult(status=Status.CREATED, resource=str(path))


plugin = provisioner(SPEC, run)
