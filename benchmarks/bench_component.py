"""Benchmark 6: a warm ``provision component --all`` (everything locked and unchanged) vs ``provision list components``.

100 components (20 stacks x 5) vendored from 3 git sources (a local repository made here, two
tags and a branch), each tree a few files. After one cold ``--all``, every run is warm: the lock
and each working folder's digest match, so there is no git run and no network call.

Core does not register plugin commands yet (the coming ``register_commands`` hook), so the
``--all`` process registers this distribution's command group first, exactly as the hook will:
``python -c "…BUILTIN_COMMANDS['component'] = component_commands; main()" component --all``.
Both commands run as separate processes (start-up, plugin loading and stack resolution
included), and in-process (the engine's warm path alone vs resolving the components).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ENV, PROVISION, machine, run, timed, write_yaml

LAUNCH = (
    "import sys\n"
    "from provisioner_core.cli import main\n"
    "from provisioner_component.cli import component_commands\n"
    "main.BUILTIN_COMMANDS['component'] = component_commands\n"
    "main.main(sys.argv[1:])\n"
)
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
        component_all = [sys.executable, "-c", LAUNCH, "component", "--all"]
        cold = run(component_all, cwd=root)
        assert f"{components} components, 3 distinct sources to fetch, 3 fetches, 0 failed" in cold.stdout, cold.stdout[-500:]
        warm_check = run(component_all, cwd=root)
        assert f"{components} components, 0 distinct sources to fetch, 0 fetches, 0 failed" in warm_check.stdout, warm_check.stdout[-500:]
        assert warm_check.stdout.count("\tunchanged\t") == components

        ours = timed(lambda: run(component_all, cwd=root), args.repeat)
        baseline = timed(lambda: run([PROVISION, "list", "components"], cwd=root), args.repeat)

        # In-process: the engine's warm path (plan every component from the lock and the disk) vs resolving them.
        from provisioner_component.batch import Item, vendor_all
        from provisioner_component.config import resolve_source
        from provisioner_component.vendor import Vendorer
        from provisioner_core.stacks.config import load_project_config
        from provisioner_core.stacks.resolver import StackRepository

        def resolve_only() -> None:
            repo_ = StackRepository(load_project_config(None, root))
            assert sum(1 for _ in repo_.components()) == components

        def warm_engine() -> None:
            repo_ = StackRepository(load_project_config(None, root))
            vendorer = Vendorer(root)
            items = []
            for component in repo_.components():
                source = resolve_source(component.provision_options("component"))
                assert source is not None
                items.append(Item(vendorer.target(component.stack, component.name), source))
            report = vendor_all(vendorer, items)
            assert report.fetches == 0 and report.exit_code == 0

        in_ours = timed(warm_engine, args.repeat)
        in_baseline = timed(resolve_only, args.repeat)
    print(f"machine: {machine()}")
    print(f"components: {components} ({args.stacks} stacks x {args.per_stack}), 3 distinct git sources, 4 files each")
    print(f"warm `provision component --all` (process): {ours:.3f} s (median of {args.repeat})")
    print(f"`provision list components` (process):       {baseline:.3f} s (median of {args.repeat})")
    print(f"ratio: {ours / baseline:.2f}x (target <= 2x)")
    print(f"in-process: warm engine {in_ours * 1000:.0f} ms vs resolving the components {in_baseline * 1000:.0f} ms: {in_ours / in_baseline:.2f}x")


if __name__ == "__main__":
    ENV.setdefault("CHECKPOINT_DISABLE", "1")
    main()
