#!/usr/bin/env python3
"""Score ``provision describe|list`` against Atmos's own CLI golden cases.

Runs OUTSIDE this repository, on a snapshot of cloudposse/atmos: either an extracted tree
(``--atmos-dir``) or a git directory and revision (``--git-dir``, ``--rev``), which is extracted
into a temporary folder and removed afterwards. Nothing of Atmos is ever copied into this repo.

Which cases: every enabled case of ``tests/test-cases/*.yaml`` that runs ``atmos describe
component|stacks`` or ``atmos list stacks|components`` on terraform components, expects exit 0
and is not a ``--help`` case (40 at cloudposse/atmos 0a1cb44). For each case the truth is:

- its golden snapshot ``tests/snapshots/TestCLICommands_<name>.stdout.golden`` when there is
  one: describe output is compared section by section (vars, settings, env, backend_type,
  backend, metadata, workspace — those the snapshot shows), list output line by line;
- otherwise the case's own ``expect.stdout`` patterns, matched against our output rendered as
  Atmos renders it (YAML or JSON), plus the assertions the Go test of that fixture makes (the
  ``overrides`` section cases). Patterns about sections we do not model are listed, not counted.

    .venv/bin/python scripts/atmos_golden.py --git-dir /path/to/atmos.git --rev HEAD [-v] [--only NAME]

Exit status: 0 when at least ``--min`` cases match (default 0), else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

SECTIONS = ("vars", "settings", "env", "backend_type", "backend", "metadata", "workspace")
DESCRIBE_FLAGS_WITH_VALUE = {"--format", "-f", "--identity", "-q", "--query", "--stack", "-s", "--file", "--skip"}
# Patterns of expect.stdout that concern sections or keys we do not model (not counted, listed).
UNMODELLED = {
    "generate": "the `generate` section (file generation) is not modelled",
    "versions.tf": "the `generate` section (file generation) is not modelled",
    "opentofu": "`dependencies.tools` (toolchain) is not modelled",
}
# Assertions of the Go test that covers a fixture whose CLI case has no snapshot
# (internal/exec/describe_component_test.go, TestDescribeComponentWithOverridesSection): vars.test.
GO_TEST_VARS = {
    ("atmos-overrides-section", "dev"): {"a": "a-dev", "b": "b-team2", "c": "c-team1", "d": "d"},
    ("atmos-overrides-section", "staging"): {"a": "a-staging", "b": "b-team2", "c": "c-team1", "d": "d"},
    ("atmos-overrides-section", "prod"): {"a": "a-prod", "b": "b-prod", "c": "c-prod", "d": "d"},
    ("atmos-overrides-section", "sandbox"): {"a": "a-team2", "b": "b-team2", "c": "c-team1", "d": "d"},
    ("atmos-overrides-section", "test"): {"a": "a-test-2", "b": "b-test", "c": "c-team1", "d": "d"},
}


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)

    def tagged(loader: Any, suffix: str, node: Any) -> Any:
        return {"!" + suffix: getattr(node, "value", None)}

    yaml.constructor.add_multi_constructor("!", tagged)
    return yaml


# --- selecting cases --------------------------------------------------------------------------


def _words(case: dict[str, Any]) -> list[str]:
    return [str(a) for a in case.get("args") or []]


def is_comparable(case: dict[str, Any]) -> bool:
    words = _words(case)
    if case.get("command") != "atmos" or len(words) < 2 or case.get("enabled", True) is False:
        return False
    if (words[0], words[1]) not in {("describe", "component"), ("describe", "stacks"), ("list", "stacks"), ("list", "components")}:
        return False
    if any(w.startswith("--help") for w in words):
        return False
    if (case.get("expect") or {}).get("exit_code", 0) != 0:
        return False
    workdir = str(case.get("workdir") or "")
    # Ansible and packer examples describe non-terraform components.
    return not any(kind in workdir for kind in ("ansible", "packer"))


def cases(atmos: Path) -> Iterator[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(file, case, the earlier cases of its sandbox: Atmos runs them first, in one folder)."""
    yaml = _yaml()
    for path in sorted((atmos / "tests" / "test-cases").glob("*.yaml")):
        doc = yaml.load(path.read_text())
        if not isinstance(doc, dict):
            continue
        earlier: list[dict[str, Any]] = []
        for case in doc.get("tests") or []:
            if not isinstance(case, dict):
                continue
            if is_comparable(case):
                setup = [c for c in earlier if case.get("sandbox") and c.get("sandbox") == case.get("sandbox")]
                yield path.name, case, setup
            earlier.append(case)


def snapshot(atmos: Path, name: str) -> str | None:
    path = atmos / "tests" / "snapshots" / f"TestCLICommands_{name.replace(' ', '_')}.stdout.golden"
    return path.read_text() if path.is_file() else None


# --- running provision ------------------------------------------------------------------------


class Runner:
    def __init__(self, provision: list[str], atmos: Path, verbose: bool) -> None:
        self.provision = provision
        self.atmos = atmos
        self.verbose = verbose

    def run(self, args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("ATMOS_", "TF_"))}
        full_env.update({"USER": "user", "NO_COLOR": "1"})
        full_env.update(env)
        proc = subprocess.run([*self.provision, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)
        if self.verbose:
            print(f"    $ provision {shlex.join(args)}  (exit {proc.returncode})")
        return proc.returncode, proc.stdout, proc.stderr


def _describe_args(words: list[str]) -> tuple[str, str | None, str | None]:
    """(component, stack, query) of an ``atmos describe component`` command line."""
    component = ""
    stack = query = None
    i = 2
    while i < len(words):
        word = words[i]
        name, _, inline = word.partition("=")
        if name in DESCRIBE_FLAGS_WITH_VALUE:
            value = inline if inline else (words[i + 1] if i + 1 < len(words) else "")
            i += 1 if inline else 2
            if name in ("-s", "--stack"):
                stack = value
            elif name in ("-q", "--query"):
                query = value
            continue
        if not word.startswith("-") and not component:
            component = word
        i += 1
    return component, stack, query


def _query(data: Any, query: str) -> Any:
    """The value at a ``.a.b.c`` yq path (the only form the cases use)."""
    for part in [p for p in query.split(".") if p]:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _describe(runner: Runner, component: str, stack: str, cwd: Path, env: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
    code, out, err = runner.run(["describe", component, "-s", stack, "-o", "json"], cwd, env)
    if code != 0:
        return None, f"exit {code}: {err.strip().splitlines()[0] if err.strip() else out.strip()[:200]}"
    return json.loads(out), ""


def _components(runner: Runner, cwd: Path, env: dict[str, str], stack: str | None = None) -> tuple[list[dict[str, Any]] | None, str]:
    code, out, err = runner.run(["list", "components", "-o", "json", *(["-s", stack] if stack else [])], cwd, env)
    if code != 0:
        return None, f"exit {code}: {err.strip().splitlines()[0] if err.strip() else ''}"
    return json.loads(out)["components"], ""


# --- comparing --------------------------------------------------------------------------------


def _normal(section: str, value: Any) -> Any:
    if section == "backend_type":
        return value or ""
    if value is None:
        return {} if section != "workspace" else None
    return value


def compare_sections(expected: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """The sections that differ (only those the expected output shows).

    Ours are masked as `provision describe` masks secret-looking keys (by design, never printed),
    so the expected values are masked by the same rule first.
    """
    from provisioner_core.redaction import redact_mapping

    expected = redact_mapping({k: v for k, v in expected.items() if k in SECTIONS})
    differ = []
    for section in SECTIONS:
        if section not in expected:
            continue
        want = _normal(section, expected.get(section))
        got = _normal(section, ours.get(section))
        if section == "metadata" and isinstance(got, dict) and isinstance(want, dict) and "component" not in want:
            got = {k: v for k, v in got.items() if k != "component"}
        if want != got:
            differ.append(f"{section}: {_diff(want, got)}")
    return differ


def _diff(want: Any, got: Any, path: str = "") -> str:
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got), key=str):
            if key not in got:
                return f"{path}.{key} missing (want {_short(want[key])})"
            if key not in want:
                return f"{path}.{key} extra ({_short(got[key])})"
            if want[key] != got[key]:
                return _diff(want[key], got[key], f"{path}.{key}")
    return f"{path or '.'} want {_short(want)} got {_short(got)}"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) < 160 else text[:157] + "..."


def _parse_output(text: str) -> Any:
    text = text.strip()
    if text.startswith(("{", "[")):
        return json.loads(text)
    return _yaml().load(text)


def _render_like_atmos(ours: dict[str, Any], as_json: bool) -> str:
    data = {k: v for k, v in ours.items()}
    data.setdefault("atmos_component", ours.get("component"))
    data.setdefault("atmos_stack", ours.get("stack"))
    if as_json:
        return json.dumps(data, indent=2, sort_keys=True, default=str)
    from provisioner_core.cli.console import block_yaml

    return block_yaml(data)


def setup(runner: Runner, earlier: list[dict[str, Any]]) -> list[str]:
    """Run the sandbox's earlier ``terraform deploy`` cases as ``provision terraform apply`` (their state is what later cases read)."""
    problems = []
    for case in earlier:
        words = _words(case)
        if words[:2] != ["terraform", "deploy"] or len(words) < 3:
            continue
        component, stack, _ = _describe_args(["-", "-", *words[2:]])
        cwd = (runner.atmos / "tests" / str(case.get("workdir") or ".")).resolve()
        env = {str(k): str(v) for k, v in (case.get("env") or {}).items()}
        code, _, err = runner.run(["terraform", "apply", component, "-s", stack or "", "--auto-approve"], cwd, env)
        if code != 0:
            problems.append(f"setup `terraform deploy {component} -s {stack}`: exit {code}: {err.strip()[-200:]}")
    return problems


def score_case(runner: Runner, file: str, case: dict[str, Any], earlier: list[dict[str, Any]] | None = None) -> tuple[str, list[str]]:
    """('match' | 'differ' | 'error', reasons)."""
    words = _words(case)
    cwd = (runner.atmos / "tests" / str(case.get("workdir") or ".")).resolve()
    env = {str(k): str(v) for k, v in (case.get("env") or {}).items()}
    problems = setup(runner, earlier or [])
    if problems:
        return "error", problems
    golden = snapshot(runner.atmos, str(case["name"]))
    fixture = cwd.name
    if words[:2] == ["list", "stacks"]:
        code, out, err = runner.run(["list", "stacks"], cwd, env)
        if code != 0:
            return "error", [f"exit {code}: {err.strip()[:300]}"]
        ours = [line for line in out.splitlines() if line.strip()]
        if golden is None:
            return _patterns(case, out, [])
        want = [line for line in golden.splitlines() if line.strip()]
        return ("match", []) if ours == want else ("differ", [f"stacks: want {want} got {ours}"])
    if words[:2] == ["list", "components"]:
        rows, why = _components(runner, cwd, env)
        if rows is None:
            return "error", [why]
        counts: dict[str, set[str]] = {}
        for row in rows:
            counts.setdefault(row["component"], set()).add(row["stack"])
        ours = sorted(f"{name}\tterraform\t{len(stacks)}" for name, stacks in counts.items())
        want = sorted(line.strip() for line in (golden or "").splitlines() if line.strip())
        return ("match", []) if ours == want else ("differ", [f"components: want {want} got {ours}"])
    if words[:2] == ["describe", "component"]:
        component, stack, query = _describe_args(words)
        ours, why = _describe(runner, component, stack or "", cwd, env)
        if ours is None:
            return "error", [why]
        if golden is None:
            reasons = []
            expected_vars = GO_TEST_VARS.get((fixture, stack or ""))
            if expected_vars is not None:
                test = (ours.get("vars") or {}).get("test") or {}
                reasons += [f"vars.test.{k}: want {v!r} got {test.get(k)!r}" for k, v in expected_vars.items() if test.get(k) != v]
            as_json = "json" in words
            return _patterns(case, _render_like_atmos(ours, as_json), reasons)
        expected = _parse_output(golden)
        if query:
            want = expected
            got = _query(ours, query)
            return ("match", []) if want == got else ("differ", [f"{query}: {_diff(want, got)}"])
        differ = compare_sections(expected, ours)
        return ("match", []) if not differ else ("differ", differ)
    if words[:2] == ["describe", "stacks"]:
        _, stack, _ = _describe_args(words)
        rows, why = _components(runner, cwd, env, stack)
        if rows is None:
            return "error", [why]
        described: dict[str, dict[str, Any]] = {}
        for row in rows:
            one, why = _describe(runner, row["component"], row["stack"], cwd, env)
            if one is None:
                return "error", [f"{row['stack']}/{row['component']}: {why}"]
            described.setdefault(row["stack"], {})[row["component"]] = one
        if golden is None:
            text = json.dumps({s: {"components": {"terraform": c}} for s, c in described.items()}, indent=2, default=str)
            return _patterns(case, text, [])
        expected = _parse_output(golden)
        reasons = []
        want_stacks = {s for s, doc in expected.items() if ((doc or {}).get("components") or {}).get("terraform")}
        if want_stacks != set(described):
            reasons.append(f"stacks: want {sorted(want_stacks)} got {sorted(described)}")
        for stack_name in sorted(want_stacks & set(described)):
            want_components = expected[stack_name]["components"]["terraform"]
            if set(want_components) != set(described[stack_name]):
                reasons.append(f"{stack_name} components: want {sorted(want_components)} got {sorted(described[stack_name])}")
            for name in sorted(set(want_components) & set(described[stack_name])):
                reasons += [f"{stack_name}/{name} {d}" for d in compare_sections(want_components[name], described[stack_name][name])]
        return ("match", []) if not reasons else ("differ", reasons)
    return "error", [f"not scored: {shlex.join(words)}"]


def _patterns(case: dict[str, Any], text: str, reasons: list[str]) -> tuple[str, list[str]]:
    for pattern in (case.get("expect") or {}).get("stdout") or []:
        if isinstance(pattern, dict):  # !not "..."
            negated = next(iter(pattern.values()))
            if re.search(str(negated), text, re.MULTILINE):
                reasons.append(f"output matches {negated!r}, which it must not")
            continue
        if str(pattern) in UNMODELLED:
            continue
        if not re.search(str(pattern), text, re.MULTILINE):
            reasons.append(f"no line matches {pattern!r}")
    return ("match", []) if not reasons else ("differ", reasons)


def quick_start_advanced(runner: Runner, moto_url: str) -> bool:
    """Atmos's examples/quick-start-advanced, unmodified but for endpoint and credential lines:
    list its stacks, describe every component of one stack, plan ``backend --all`` against moto."""
    source = runner.atmos / "examples" / "quick-start-advanced"
    with tempfile.TemporaryDirectory(prefix="qsa-") as tmp:
        project = Path(tmp) / "quick-start-advanced"
        shutil.copytree(source, project)
        defaults = project / "stacks" / "orgs" / "acme" / "_defaults.yaml"
        # The endpoint line: its backend points at a local S3 emulator instead of AWS.
        defaults.write_text(defaults.read_text().replace("      secret_key: test\n", f'      secret_key: test\n      endpoints: {{s3: "{moto_url}"}}\n'))
        app = project / "stacks" / "catalog" / "app-config" / "defaults.yaml"
        # The credential lines: !secret (a secrets store, refused) becomes !env.
        text = re.sub(r"!secret DB_CONFIG .*", "!env DB_PASSWORD", app.read_text()).replace("!secret API_KEY", "!env API_KEY")
        app.write_text(text)
        env = {"API_KEY": "k-" + "x" * 8, "DB_PASSWORD": "p-" + "x" * 8}
        code, out, err = runner.run(["list", "stacks"], project, env)
        stacks = out.split()
        print(f"list stacks: exit {code}: {' '.join(stacks) or err.strip()}")
        ok = code == 0 and len(stacks) > 0
        rows, why = _components(runner, project, env, stacks[0] if stacks else None)
        for row in rows or []:
            one, why = _describe(runner, row["component"], row["stack"], project, env)
            rendered = one is not None and "{{" not in json.dumps(one)
            ok = ok and rendered
            print(f"describe {row['component']} -s {row['stack']}: {'rendered' if rendered else 'NOT rendered: ' + why}")
        code, out, err = runner.run(["backend", "--all", "--dry-run"], project, env)
        print(f"backend --all --dry-run: exit {code}: {(out.strip().splitlines() or err.strip().splitlines() or [''])[-1]}")
        return ok and code == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--atmos-dir", type=Path, help="an extracted cloudposse/atmos tree")
    parser.add_argument("--git-dir", type=Path, help="a cloudposse/atmos git directory (bare is fine)")
    parser.add_argument("--rev", default="HEAD", help="revision of --git-dir (default HEAD)")
    parser.add_argument("--provision", default=None, help="the provision command (default: provision beside this Python)")
    parser.add_argument("--only", default=None, help="only cases whose name contains this")
    parser.add_argument("--min", type=int, default=0, help="exit 1 when fewer cases match")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--quick-start-advanced", metavar="MOTO_URL", default=None, help="also run examples/quick-start-advanced against this S3 emulator")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    provision = shlex.split(args.provision) if args.provision else [str(Path(sys.executable).with_name("provision"))]
    temp = None
    try:
        if args.atmos_dir is not None:
            atmos = args.atmos_dir.resolve()
            commit = "(extracted tree)"
        elif args.git_dir is not None:
            temp = Path(tempfile.mkdtemp(prefix="atmos-golden-"))
            git = ["git", f"--git-dir={args.git_dir}"]
            commit = subprocess.run([*git, "rev-parse", args.rev], capture_output=True, text=True, check=True).stdout.strip()
            archive = subprocess.run([*git, "archive", commit, "tests/test-cases", "tests/snapshots", "tests/fixtures", "examples"], capture_output=True, check=False)
            subprocess.run(["tar", "-x", "-C", str(temp)], input=archive.stdout, check=True)
            atmos = temp
        else:
            parser.error("give --atmos-dir or --git-dir")
        runner = Runner(provision, atmos, args.verbose)
        results = []
        for file, case, earlier in cases(atmos):
            if args.only and args.only not in str(case["name"]):
                continue
            try:
                status, reasons = score_case(runner, file, case, earlier)
            except Exception as exc:  # noqa: BLE001 - a scorer fault is reported as the case's error, never hidden
                status, reasons = "error", [f"scorer: {type(exc).__name__}: {exc}"]
            results.append({"file": file, "name": case["name"], "status": status, "reasons": reasons})
            if not args.json:
                mark = {"match": "MATCH ", "differ": "DIFFER", "error": "ERROR "}[status]
                print(f"{mark} {file}: {case['name']}")
                for reason in reasons[: 6 if not args.verbose else None]:
                    print(f"         {reason}")
        matched = sum(r["status"] == "match" for r in results)
        if args.quick_start_advanced and not quick_start_advanced(runner, args.quick_start_advanced):
            matched = -1  # a failed example fails the run whatever --min says
        if args.json:
            print(json.dumps({"commit": commit, "matched": matched, "total": len(results), "cases": results}, indent=2))
        else:
            print(f"\n{matched} of {len(results)} comparable cases match (cloudposse/atmos {commit})")
        return 0 if matched >= args.min else 1
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
