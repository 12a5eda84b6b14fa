"""Benchmark 5: what the state-collision guard adds to a single-component run's resolution.

A single `provision terraform plan COMPONENT -s STACK` must already read every stack file (stack
names come from their vars); the guard then resolves every other component's state location.
Baseline: resolving the one component (stack discovery included), measured in the same run.
Target (issue 12): the guard adds at most 25 % to it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench_resolve import tree
from common import machine, timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()

    from provisioner_core.stacks.config import load_project_config
    from provisioner_core.stacks.resolver import StackRepository
    from provisioner_core.state.guard import StateIndex

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tree(root, args.stacks, 30)
        counts: dict[str, int] = {}

        def one_component() -> None:
            repo = StackRepository(load_project_config(None, root))
            repo.component("acme-s0000", "app0")

        def one_component_and_guard() -> None:
            repo = StackRepository(load_project_config(None, root))
            component = repo.component("acme-s0000", "app0")
            index = StateIndex(repo)
            index.check([component])
            counts["indexed"] = sum(len(v) for v in index._built().values())

        # Interleaved, so a change of load on a shared machine hits both sides alike.
        pairs = [(timed(one_component), timed(one_component_and_guard)) for _ in range(args.repeat)]
        base_s = statistics.median(base for base, _ in pairs)
        guarded_s = statistics.median(guarded for _, guarded in pairs)
    added = guarded_s - base_s
    print("runs (without, with the guard):", ", ".join(f"({b:.2f}, {g:.2f})" for b, g in pairs))
    print(f"machine: {machine()}")
    print(f"{args.stacks} stacks, {counts['indexed']} components indexed by the guard")
    print(f"resolve one component (stack discovery included): {base_s:.3f} s")
    print(f"the same + state-collision guard:                 {guarded_s:.3f} s")
    print(f"guard adds {added:.3f} s = {added / base_s:.0%} of the single-component resolution (target <= 25%)")


if __name__ == "__main__":
    main()
