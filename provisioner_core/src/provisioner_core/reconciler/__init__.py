"""One reconcile template for every backend: read, create, plan (pure), write, verify.

A backend describes each resource it manages as a :class:`Resource` (read, create, a pure plan,
apply one write) and calls :func:`reconcile`; the flow itself (report_only, a lost create race,
drift, dry runs, a guarded write refused as stale, the partial state after a failure) is
written once, here. :func:`retry` and :func:`wait_until` bound every retry and every wait;
:func:`prefetched` issues independent reads together; :func:`translating` turns an SDK's errors
into core's with the backend's mapping; :class:`BackendOptions` is the options vocabulary the
backends share. See docs/reconcile.md.
"""

from provisioner_core.reconciler.errors import translating
from provisioner_core.reconciler.flow import LostRace, Reconciled, Resource, Stale, reconcile
from provisioner_core.reconciler.options import BackendOptions, read_backend_options
from provisioner_core.reconciler.plan import Change, Plan, PlanBuilder, Write
from provisioner_core.reconciler.prefetch import prefetched
from provisioner_core.reconciler.retries import backoff, retry, wait_until

__all__ = [
    "BackendOptions",
    "Change",
    "LostRace",
    "Plan",
    "PlanBuilder",
    "Reconciled",
    "Resource",
    "Stale",
    "Write",
    "backoff",
    "prefetched",
    "read_backend_options",
    "reconcile",
    "retry",
    "translating",
    "wait_until",
]
