"""Benchmark 6: a warm ``provision component --all`` (everything locked and unchanged) vs ``provision list components``.

100 components (20 stacks x 5) vendored from 3 git sources (a local repository made here, two
tags and a branch), each tree a few files. After one cold ``--all``, every run is warm: the lock
and each working folder's digest match, so there is no git run and no network call.

``provision component --all`` is the distribution's own command (registered through core's
``register_commands``): it runs the provisioner for each component through
``Provisioning.provision`` (core's checks, typed options, a thread per run for the timeout),
``--jobs`` at a time. Both commands run as separate processes (start-up, plugin loading and
stack resolution included), and in-process (``Provisioning.provision`` for every component vs
resolving them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from common import ENV, PROVISION, machine, run, timed, write_yaml

GIT_ENV = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)


def upstream(root: Path) -> Path:
    repo = root / "upstream"
    (repo / "modules/vpc").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for version in ("v1", "v2"):
        (repo / "modules/vpc/main.tf").write_text(f'resource "terraform_data" "v" {{ input = "{version}" }}\n')
        (repo / "modules/vpc/variables.tf").write_text('variable "name" { default = "vpc" }\n')
        (repo / "modules/vpc/outputs.tf").write_text('output "id" { value = terraform_data.v.id }\n')
        (repo / "modules/vpc/versions.tf").write_text('terraform { required_version = ">= 1.5" }\n')
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", version)
        git(repo, "tag", version)
    return repo


def project(root: Path, repo: Path, stacks: int, per_stack: int) -> None:
    write_yaml(root / "atmos.yaml", "stacks:\n  base_path: stacks\n  name_pattern: '{stage}'\ncomponents:\n  terraform:\n    base_path: components/terraform\n")
    refs = ["v1", "v2", "main"]
    for s in range(stacks):
        body = [f"vars: {{stage: s{s:03d}}}\ncomponents:\n  terraform:"]
        for c in range(per_stack):
            ref = refs[(s * per_stack + c) % len(refs)]
            body.append(
                f"    c{c}:\n      vars: {{name: c{c}}}\n      provision:\n        component:\n          enabled: true\n"
                f"          source: 'git::file://{repo}//modules/vpc?ref={ref}'"
            )
        write_yaml(root / "stacks" / f"s{s:03d}.yaml", "\n".join(body) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stacks", type=int, default=20)
    parser.add_argument("--per-stack", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    components = args.stacks * args.per_stack
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        repo = upstream(base)
        root = base / "project"
        project(root, repo, args.stacks, args.per_stack)
        component_all = [PROVISION, "component", "--all"]
        cold = run(component_all, cwd=root)
        assert f"{components} components ({components} created); 3 source fetches" in cold.stdout, cold.stdout[-500:]
        warm_check = run(component_all, cwd=root)
        assert f"{components} components ({components} unchanged); 0 source fetches" in warm_check.stdout, warm_check.stdout[-500:]

        # Interleaved, so a change in the machine's load hits both sides alike (a shared 2-core machine).
        samples: dict[str, list[float]] = {"ours": [], "baseline": []}
        for _ in range(args.repeat):
            samples["ours"].append(timed(lambda: run(component_all, cwd=root)))
            samples["baseline"].append(timed(lambda: run([PROVISION, "list", "components"], cwd=root)))
        ours, baseline = statistics.median(samples["ours"]), statistics.median(samples["baseline"])

        # In-process: the explicit run of every component through core's façade vs resolving them.
        from provisioner_core import PluginRegistry, Provisioning

        registry = PluginRegistry().load()

        def resolve_only() -> None:
            provisioning = Provisioning.from_path(cwd=root, registry=registry)
            assert sum(1 for _ in provisioning.components()) == components

        def warm_runs() -> None:
            provisioning = Provisioning.from_path(cwd=root, registry=registry)
            for component in list(provisioning.components()):
                [outcome] = provisioning.provision("component", component.stack, component.name)
                assert outcome.result.status.value == "unchanged"

        in_ours = timed(warm_runs, args.repeat)
        in_baseline = timed(resolve_only, args.repeat)
    print(f"machine: {machine()}")
    print(f"components: {components} ({args.stacks} stacks x {args.per_stack}), 3 distinct git sources, 4 files each")
    print(f"warm `provision component --all` (process): {ours:.3f} s (median of {args.repeat})")
    print(f"`provision list components` (process):       {baseline:.3f} s (median of {args.repeat})")
    print(f"ratio: {ours / baseline:.2f}x (target <= 2x)")
    print(f"in-process: Provisioning.provision for each {in_ours * 1000:.0f} ms vs resolving the components {in_baseline * 1000:.0f} ms: {in_ours / in_baseline:.2f}x")


if __name__ == "__main__":
    ENV.setdefault("CHECKPOINT_DISABLE", "1")
    main()
