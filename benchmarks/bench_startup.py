"""Benchmark 4: `provision plugins` start-up vs `python -c pass`, and the modules it imports."""

from __future__ import annotations

import argparse
import json
import sys

from common import PROVISION, machine, run, timed

CLOUD = ("boto3", "botocore", "google", "azure")
PROBE = (
    "import sys, json\n"
    "from provisioner_core.cli.main import main\n"
    "try:\n    main(['plugins'])\nexcept SystemExit:\n    pass\n"
    "mods = list(sys.modules)\n"
    f"print(json.dumps({{'count': len(mods), 'cloud': sorted(m for m in mods if m.split('.')[0] in {CLOUD!r})}}), file=sys.stderr)\n"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    baseline = timed(lambda: run([sys.executable, "-c", "pass"]), args.repeat)
    ours = timed(lambda: run([PROVISION, "plugins"]), args.repeat)
    probe = json.loads(run([sys.executable, "-c", PROBE]).stderr.strip().splitlines()[-1])
    bare = json.loads(run([sys.executable, "-c", "import sys, json; print(json.dumps(len(sys.modules)))"]).stdout)
    print(f"machine: {machine()}")
    print(f"python -c pass: {baseline * 1000:.0f} ms; provision plugins: {ours * 1000:.0f} ms (median of {args.repeat}); ratio {ours / baseline:.1f}x")
    print(f"modules imported: {probe['count']} (a bare interpreter: {bare}); cloud SDK modules: {probe['cloud'] or 'none'} (target: none)")


if __name__ == "__main__":
    main()
