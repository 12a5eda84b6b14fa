"""Benchmark 1: `provision backend --all` vs the per-component CLI loop, against one moto server.

200 stacks x 5 components sharing 20 backends. The loop runs one `provision backend C -s S`
process per component; by default it is measured on the first --loop-sample components
(which already touch all 20 backends) and extrapolated linearly to all of them; pass
--loop-sample 1000 to run it whole. API calls are counted at the wire by a recording proxy.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from common import PROVISION, machine, run, s3_tree, timed

from support.s3_recorder import RecordingProxy
from support.servers import reset_moto, start_moto


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--components", type=int, default=5)
    parser.add_argument("--backends", type=int, default=20)
    parser.add_argument("--loop-sample", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    server = start_moto()
    proxy = RecordingProxy(server.url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            targets = s3_tree(root, proxy.url, args.stacks, args.components, args.backends)
            total = len(targets)

            reset_moto(server.url)
            proxy.reset()
            batch_s = timed(lambda: run([PROVISION, "backend", "--all", "--jobs", str(args.jobs), "-o", "json"], cwd=root))
            batch_calls = len(proxy.calls)
            summary = json.loads(run([PROVISION, "backend", "--all", "--dry-run", "-o", "json"], cwd=root).stdout)

            reset_moto(server.url)
            proxy.reset()
            sample = targets[: min(args.loop_sample, total)]

            def loop() -> None:
                for stack, component in sample:
                    run([PROVISION, "backend", component, "-s", stack], cwd=root)

            loop_sample_s = timed(loop)
            loop_calls_sample = len(proxy.calls)
            scale = total / len(sample)
            loop_s = loop_sample_s * scale
            loop_calls = loop_calls_sample * scale
    finally:
        proxy.stop()
        server.stop()
    print(f"machine: {machine()}")
    print(f"tree: {args.stacks} stacks x {args.components} components = {total} components, {summary['metrics']['distinct_units']} distinct backends")
    print(f"batch (--all --jobs {args.jobs}): {batch_s:.2f} s, {batch_calls} API calls")
    print(f"loop: {loop_sample_s:.2f} s for {len(sample)} components -> {loop_s:.1f} s for {total} (x{scale:g}), ~{loop_calls:.0f} API calls")
    print(f"speed-up: {loop_s / batch_s:.1f}x (target >= 20x); API calls: loop/batch = {loop_calls / max(batch_calls, 1):.1f}x")
    print(f"API calls per distinct backend (batch): {batch_calls / summary['metrics']['distinct_units']:.1f}")


if __name__ == "__main__":
    main()
