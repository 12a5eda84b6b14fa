"""Every distribution is ready for PyPI: license, metadata, one version, README links, sdists
that carry what their tests import, and a place in every CI check (issue 20).

What needs a build (twine check, wheels installed, sdist tests run) is scripts/test-packaging;
the dependency floors are scripts/test-lowest. These checks are the static half, and they are
what fails first when a new distribution (say provisioner_component) is added without them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
REPO_URL = "https://github.com/provisioner-dev/provisioner"
DISTRIBUTIONS = sorted(p.parent.name for p in ROOT.glob("provisioner_*/pyproject.toml"))
PROVISIONERS = [d for d in DISTRIBUTIONS if d != "provisioner_core"]


def project(folder: str) -> dict:
    return tomllib.loads((ROOT / folder / "pyproject.toml").read_text())


def test_every_distribution_is_found():
    assert {"provisioner_core", "provisioner_env", "provisioner_backend_s3", "provisioner_backend_pg"} <= set(DISTRIBUTIONS)


def test_the_root_license_is_apache_2():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text) > 11000


@pytest.mark.parametrize("folder", DISTRIBUTIONS)
def test_each_distribution_ships_the_same_license(folder):
    assert (ROOT / folder / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    meta = project(folder)["project"]
    assert meta["license"] == "Apache-2.0" and meta["license-files"] == ["LICENSE"]


@pytest.mark.parametrize("folder", DISTRIBUTIONS)
def test_metadata_is_complete(folder):
    data = project(folder)
    meta = data["project"]
    assert data["build-system"]["build-backend"] == "hatchling.build"
    assert meta["readme"] == "README.md" and meta["requires-python"] == ">=3.10"
    assert meta["authors"] and len(meta["keywords"]) >= 4 and "terraform" in meta["keywords"]
    classifiers = set(meta["classifiers"])
    assert {"Programming Language :: Python :: 3.11", "Typing :: Typed", "Development Status :: 3 - Alpha"} <= classifiers
    assert not any(c.startswith("License ::") for c in classifiers), "the SPDX license expression replaces license classifiers"
    urls = meta["urls"]
    assert set(urls) == {"Homepage", "Documentation", "Source", "Issues", "Changelog"}
    assert urls["Source"] == f"{REPO_URL}/tree/main/{folder}"
    assert all(u.startswith((REPO_URL, "https://provisioner-dev.github.io/provisioner/")) for u in urls.values())
    assert data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [f"src/{package_of(folder)}"]


def package_of(folder: str) -> str:
    return next(p.parent.name for p in (ROOT / folder / "src").glob("*/__init__.py"))


@pytest.mark.parametrize("folder", DISTRIBUTIONS)
def test_the_version_is_written_once_in_pyproject(folder):
    meta = project(folder)["project"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["version"]) and "version" not in meta.get("dynamic", [])
    for source in (ROOT / folder / "src").rglob("*.py"):
        assert not re.search(r"^__version__\s*=\s*['\"]", source.read_text(), re.M), f"{source} writes the version a second time"


@pytest.mark.parametrize("folder", DISTRIBUTIONS)
def test_every_dependency_declares_a_tested_floor(folder):
    meta = project(folder)["project"]
    requirements = list(meta["dependencies"]) + [r for extra, reqs in meta.get("optional-dependencies", {}).items() if extra not in ("test", "testing") for r in reqs]
    for requirement in requirements:
        if not requirement.startswith("provisioner-"):
            assert ">=" in requirement, f"{folder}: {requirement} has no floor for scripts/test-lowest to install"


def test_s3_depends_on_botocore_not_boto3():
    dependencies = project("provisioner_backend_s3")["project"]["dependencies"]
    assert any(d.startswith("botocore>=") for d in dependencies) and not any(d.startswith("boto3") for d in dependencies)
    sources = "\n".join(p.read_text() for p in (ROOT / "provisioner_backend_s3" / "src").rglob("*.py"))
    assert not re.search(r"^\s*(import boto3|from boto3)", sources, re.M)


LINK = re.compile(r"\]\(([^)]+)\)")


@pytest.mark.parametrize("folder", DISTRIBUTIONS)
def test_the_readme_works_as_a_pypi_page(folder):
    text = (ROOT / folder / "README.md").read_text()
    name = project(folder)["project"]["name"]
    assert len(text) > 800, "a real page: what it is, how to install it, where the docs are"
    assert re.search(rf"pip install [^\n`]*\b{re.escape(name)}\b", text), f"the README shows `pip install {name}`"
    assert not re.search(r"pip install (-e )?\.?\./", text), "PyPI readers have no folder to install from"
    for target in LINK.findall(text):
        assert target.startswith("https://"), f"{folder}/README.md: {target} is relative (broken on PyPI)"
        if target.startswith(f"{REPO_URL}/blob/main/"):
            path = target.removeprefix(f"{REPO_URL}/blob/main/").split("#")[0]
            assert (ROOT / path).is_file(), f"{folder}/README.md links to {path}, which does not exist"


def support_modules_imported(paths: list[Path]) -> set[str]:
    """tests/support modules imported by these files, and by those modules in turn."""
    found: set[str] = set()
    pending = list(paths)
    while pending:
        tree = ast.parse(pending.pop().read_text())
        for node in ast.walk(tree):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name.startswith("support."):
                    module = name.split(".")[1]
                    if module not in found:
                        found.add(module)
                        pending.append(ROOT / "tests" / "support" / f"{module}.py")
    return found


@pytest.mark.parametrize("folder", DISTRIBUTIONS)
def test_the_sdist_carries_what_its_tests_import(folder):
    forced = project(folder)["tool"]["hatch"]["build"]["targets"]["sdist"]["force-include"]
    assert forced.get("../conftest.py") == "conftest.py"
    for source, target in forced.items():
        assert (ROOT / folder / source).resolve().is_file(), source
        assert target == source.removeprefix("../"), "the sdist keeps the repository's layout under tests/"
    needed = support_modules_imported(sorted((ROOT / folder / "tests").rglob("*.py")))
    shipped = {Path(s).stem for s in forced if s.startswith("../tests/support/")}
    if needed:
        needed.add("__init__")
    assert needed <= shipped, f"{folder}'s sdist lacks tests/support/{sorted(needed - shipped)}: add them to its force-include"


def _array(script: str, name: str) -> list[str]:
    match = re.search(rf"^{name}=\(([^)]*)\)", (ROOT / "scripts" / script).read_text(), re.M)
    assert match, f"scripts/{script} defines {name}=(...)"
    return [w.strip('"').split("[")[0] for w in match.group(1).split()]


def test_every_distribution_is_in_every_ci_check():
    assert sorted(_array("test-lowest", "targets")) == DISTRIBUTIONS
    assert sorted(_array("test-packaging", "dists")) == DISTRIBUTIONS
    assert sorted(_array("test", "gated")) == PROVISIONERS
    bootstrap = (ROOT / "scripts" / "bootstrap").read_text()
    assert all(f"./{d}" in bootstrap for d in DISTRIBUTIONS)
