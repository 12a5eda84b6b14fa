"""Benchmark 3: resolving 1,000 stack files with imports vs only parsing the same files.

Each stack imports three of 30 catalog files and defines four components, two of which inherit.
Baseline: ruamel.yaml's own safe loader over every file once (what any resolver must at least
do). ``--templates``: every component also has two Go templates and one ``!env`` (the baseline's
constructor then reads those tags as plain values: ruamel's safe loader refuses unknown tags).
The stack loader's parse alone is printed too, so the cost beyond parsing is visible.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from common import machine, timed, write_yaml

# Two templates and one !env in every component's vars (with the env and settings they read).
TEMPLATED_VARS = ", label: '{{ .vars.stage }}-{{ .atmos_component }}', owner: '{{ .settings.team | default \"none\" }}', mode: !env APP"
TEMPLATED_SECTIONS = "\n      env: {{APP: app{k}}}\n      settings: {{team: t{k}}}"


def tree(root: Path, stacks: int, catalogs: int, templates: bool = False) -> list[Path]:
    settings = "templates:\n  settings:\n    enabled: true\n" if templates else ""
    write_yaml(root / "atmos.yaml", f"stacks:\n  base_path: stacks\n  excluded_paths: ['catalog/**']\n  name_pattern: '{{tenant}}-{{stage}}'\n{settings}")
    for c in range(catalogs):
        write_yaml(
            root / "stacks" / "catalog" / f"cat{c:02d}.yaml",
            f"vars: {{tenant: acme, region_{c}: r{c}}}\ncomponents:\n  terraform:\n    base{c}:\n      metadata: {{type: abstract}}\n      vars: {{size: {c}, tags: {{team: t{c}}}}}\n      settings: {{depends_on: [a, b]}}\n",
        )
    for s in range(stacks):
        imports = ", ".join(f"catalog/cat{(s + k) % catalogs:02d}" for k in range(3))
        comps = "\n".join(
            f"    app{k}:\n      metadata: {{inherits: [base{(s + k % 2) % catalogs}]}}\n      vars: {{name: app{k}-{s}, tags: {{owner: o{s}}}{TEMPLATED_VARS if templates else ''}}}\n      backend: {{s3: {{key: 's{s}/app{k}.tfstate'}}}}"
            + (TEMPLATED_SECTIONS.format(k=k) if templates else "")
            for k in range(4)
        )
        write_yaml(root / "stacks" / f"stack{s:04d}.yaml", f"import: [{imports}]\nvars: {{stage: s{s:04d}}}\nbackend_type: s3\nbackend: {{s3: {{bucket: b{s % 10}}}}}\ncomponents:\n  terraform:\n{comps}\n")
    return sorted((root / "stacks").rglob("*.yaml"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--templates", action="store_true", help="two templates and one !env per component")
    args = parser.parse_args()
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import SafeConstructor

    from provisioner_core.stacks.config import load_project_config
    from provisioner_core.stacks.loader import YamlCache
    from provisioner_core.stacks.resolver import StackRepository

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = tree(root, args.stacks, 30, args.templates)

        def stock_yaml() -> YAML:
            yaml = YAML(typ="safe")
            if args.templates:

                class TagsAsValues(SafeConstructor):
                    pass

                TagsAsValues.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))
                yaml.Constructor = TagsAsValues
            return yaml

        def parse_only() -> None:
            yaml = stock_yaml()
            for path in files:
                yaml.load(path.read_text())

        def stack_parse() -> None:
            cache = YamlCache(root)
            for path in files:
                cache.load(path)

        counts = {}

        def resolve() -> None:
            repo = StackRepository(load_project_config(None, root))
            counts["components"] = sum(1 for _ in repo.components())

        # Interleaved, so a change of load on a shared machine hits both sides alike.
        parse_runs, stack_runs, resolve_runs = [], [], []
        for _ in range(args.repeat):
            parse_runs.append(timed(parse_only))
            stack_runs.append(timed(stack_parse))
            resolve_runs.append(timed(resolve))
        parse_s, stack_s, resolve_s = (statistics.median(runs) for runs in (parse_runs, stack_runs, resolve_runs))
        print("runs (parse, resolve):", ", ".join(f"({p:.2f}, {r:.2f})" for p, r in zip(parse_runs, resolve_runs, strict=True)))
    print(f"machine: {machine()}")
    print(f"{len(files)} files ({args.stacks} stacks), {counts['components']} components resolved")
    print(f"parse only (ruamel safe loader): {parse_s:.3f} s")
    print(f"parse only (the stack loader, bounds checked): {stack_s:.3f} s ({stack_s / parse_s:.2f}x)")
    print(f"resolution beyond the stack loader's parse: {resolve_s - stack_s:.3f} s")
    what = "imports, merge, inherits, names, 2 templates + 1 !env per component" if args.templates else "imports, merge, inherits, names"
    print(f"resolve ({what}): {resolve_s:.3f} s")
    print(f"ratio: {resolve_s / parse_s:.2f}x the raw parse (target <= {'2.5' if args.templates else '1.6'}x)")


if __name__ == "__main__":
    main()
