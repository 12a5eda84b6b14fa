"""Declares ``after.audit.ready`` (fired right after before.terraform.init) and nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from provisioner_core import EventSpec, hookimpl

EVENT = EventSpec("after.audit.ready", "The audit trail is ready for this component", after="before.terraform.init")


class Provider:
    @hookimpl
    def register_events(self) -> Sequence[EventSpec]:
        return (EVENT,)


plugin = Provider()
