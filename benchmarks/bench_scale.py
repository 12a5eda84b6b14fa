"""Benchmark 8: the 10,000-stack case, split across CI machines with ``--shard K/N``.

Generates 10,000 stack files (+30 catalog files; 4 components each, 40,000 components, two of
four inheriting; ``--backends`` distinct state buckets) and measures, each in its own child
process so every figure has its own peak RSS (the child's VmHWM, as tests/test_corpus.py does):

- parse: ruamel.yaml's safe loader over every file once (the baseline any resolver pays);
- resolve: every component resolved (imports, merge, inherits, names);
- shard: what one ``provision backend --all --shard 1/N`` job does before its first API call
  (``plan_units``: discover stacks, resolve every component, group into units, the guard,
  keep its share);
- shard by stacks: the same share of work when the job is given its stacks with ``-s`` (only
  those are resolved; discovery still parses every file for the stack names).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from common import machine, run, write_yaml

CHILD = r"""
import json, sys, time
from pathlib import Path
root, what, arg = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
started = time.perf_counter()
result = {}
if what == "parse":
    from ruamel.yaml import YAML
    yaml = YAML(typ="safe")
    files = sorted((root / "stacks").rglob("*.yaml"))
    for path in files:
        yaml.load(path.read_text())
    result["files"] = len(files)
elif what == "resolve":
    from provisioner_core.stacks.config import load_project_config
    from provisioner_core.stacks.resolver import StackRepository
    repo = StackRepository(load_project_config(None, root))
    result["components"] = sum(1 for _ in repo.components())
else:
    from provisioner_core.batch import Shard, plan_units
    from provisioner_core.session import Provisioning
    provisioning = Provisioning.from_path(None, root)
    count = int(arg)
    if what == "shard":
        units, _ = plan_units(provisioning, "backend", None, Shard(1, count))
    else:  # this job's stacks only (every count-th stack): what a stack-sharded matrix would pass with -s
        names = provisioning.stacks.stack_names()[::count]
        units, _ = plan_units(provisioning, "backend", names, None)
    result["units"] = len(units)
    result["components"] = sum(len(u.components) for u in units)
result["seconds"] = time.perf_counter() - started
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        result["peak_mb"] = int(line.split()[1]) / 1024
print(json.dumps(result))
"""


def tree(root: Path, stacks: int, catalogs: int, backends: int) -> None:
    write_yaml(root / "atmos.yaml", "stacks:\n  base_path: stacks\n  excluded_paths: ['catalog/**']\n  name_pattern: '{tenant}-{stage}'\n")
    for c in range(catalogs):
        write_yaml(
            root / "stacks" / "catalog" / f"cat{c:02d}.yaml",
            f"vars: {{tenant: acme, region_{c}: r{c}}}\ncomponents:\n  terraform:\n    base{c}:\n      metadata: {{type: abstract}}\n"
            f"      vars: {{size: {c}, tags: {{team: t{c}}}}}\n      settings: {{depends_on: [a, b]}}\n      provision: {{backend: {{enabled: true}}}}\n",
        )
    for s in range(stacks):
        imports = ", ".join(f"catalog/cat{(s + k) % catalogs:02d}" for k in range(3))
        comps = "\n".join(
            f"    app{k}:\n      metadata: {{inherits: [base{(s + k % 2) % catalogs}]}}\n      vars: {{name: app{k}-{s}, tags: {{owner: o{s}}}}}\n"
            f"      backend: {{s3: {{key: 's{s}/app{k}.tfstate'}}}}"
            for k in range(4)
        )
        write_yaml(
            root / "stacks" / f"stack{s:05d}.yaml",
            f"import: [{imports}]\nvars: {{stage: s{s:05d}}}\nbackend_type: s3\nbackend: {{s3: {{bucket: bench-{s % backends:05d}, region: us-east-1}}}}\n"
            f"components:\n  terraform:\n{comps}\n",
        )


def child(root: Path, what: str, arg: int = 0) -> dict[str, float]:
    return json.loads(run([sys.executable, "-c", CHILD, str(root), what, str(arg)]).stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stacks", type=int, default=10_000)
    parser.add_argument("--backends", type=int, default=1_000, help="distinct state buckets (the units of --all)")
    parser.add_argument("--shards", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tree(root, args.stacks, 30, args.backends)
        parse = child(root, "parse")
        resolve = child(root, "resolve")
        shard = child(root, "shard", args.shards)
        by_stacks = child(root, "by-stacks", args.shards)
    print(f"machine: {machine()}")
    print(f"{int(parse['files'])} files ({args.stacks} stacks), {int(resolve['components'])} components resolved, {args.backends} distinct backends")
    print(f"parse only (ruamel safe loader): {parse['seconds']:.2f} s, peak RSS {parse['peak_mb']:.0f} MB")
    print(f"resolve (imports, merge, inherits, names): {resolve['seconds']:.2f} s, peak RSS {resolve['peak_mb']:.0f} MB")
    print(f"ratio: {resolve['seconds'] / parse['seconds']:.2f}x the raw parse, {resolve['peak_mb'] / parse['peak_mb']:.2f}x its peak RSS")
    print(
        f"one job of --shard 1/{args.shards} before its first API call: {shard['seconds']:.2f} s, peak RSS {shard['peak_mb']:.0f} MB, "
        f"{int(shard['units'])} units ({int(shard['components'])} components)"
    )
    print(
        f"the same share given as -s (1/{args.shards} of the stacks): {by_stacks['seconds']:.2f} s, peak RSS {by_stacks['peak_mb']:.0f} MB, "
        f"{int(by_stacks['units'])} units ({int(by_stacks['components'])} components)"
    )


if __name__ == "__main__":
    main()
