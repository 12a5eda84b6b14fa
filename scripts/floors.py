"""Check that a venv holds every declared dependency floor exactly (scripts/test-lowest).

Usage: floors.py VENV_PYTHON DIST_FOLDER[EXTRAS]...

`uv pip install --resolution lowest-direct` installs the lowest version of each direct
dependency that resolves. A floor that cannot be installed together with the others (a
google-auth floor below what the lowest google-cloud-storage requires) resolves higher, and
then the floor was never tested: this says which. Our own distributions are not checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as canonical
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def installed_versions(python: str) -> dict[str, Version]:
    code = "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    found = json.loads(subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout)
    return {canonical(name): Version(version) for name, version in found.items()}


def declared(folder: str, extras: set[str]) -> list[Requirement]:
    project = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(r) for r in project.get("dependencies", [])]
    for extra in extras:
        requirements += [Requirement(r) for r in project.get("optional-dependencies", {})[extra]]
    return [r for r in requirements if not canonical(r.name).startswith("provisioner-") and (r.marker is None or r.marker.evaluate({"extra": ""}))]


def floor(requirement: Requirement) -> Version | None:
    lows = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    return max(lows) if lows else None


def main(python: str, targets: list[str]) -> int:
    versions = installed_versions(python)
    problems: list[str] = []
    checked = 0
    for target in targets:
        folder, _, rest = target.partition("[")
        for requirement in declared(folder, {e for e in rest.rstrip("]").split(",") if e}):
            low = floor(requirement)
            have = versions.get(canonical(requirement.name))
            if low is None:
                problems.append(f"{folder}: {requirement} has no '>=' floor")
            elif have is None:
                problems.append(f"{folder}: {requirement.name} is not installed")
            elif have != low:
                problems.append(f"{folder}: {requirement} resolved to {have}: the floor {low} cannot be installed with the others; declare >={have}")
            checked += 1
    for line in problems:
        print(f"floors: {line}", file=sys.stderr)
    if not problems:
        print(f"floors: {checked} declared floors installed exactly")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
