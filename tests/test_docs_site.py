"""The documentation site builds with `mkdocs build --strict` (a broken link or anchor fails),
every page of docs/ is in its nav, and the API reference documents the whole public façade."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]


def nav_pages(entries: list) -> set[str]:
    pages: set[str] = set()
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages |= nav_pages(value) if isinstance(value, list) else {value}
    return pages


def public_names() -> list[str]:
    tree = ast.parse((ROOT / "provisioner_core" / "src" / "provisioner_core" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return [ast.literal_eval(e) for e in node.value.elts]  # type: ignore[attr-defined]
    raise AssertionError("provisioner_core defines no __all__")


def test_every_docs_page_is_in_the_nav():
    config = YAML(typ="safe").load((ROOT / "mkdocs.yml").read_text())
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert nav_pages(config["nav"]) == pages


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}{run.stderr}"
    return out


def test_the_site_builds_strictly_with_every_page(site: Path):
    for page in (ROOT / "docs").rglob("*.md"):
        relative = page.relative_to(ROOT / "docs").with_suffix("")
        built = site / ("index.html" if relative.name == "index" else f"{relative.as_posix()}/index.html")
        assert built.is_file(), f"{page} was not built"


def test_the_api_reference_documents_every_public_name(site: Path):
    html = (site / "reference" / "index.html").read_text()
    documented = set(re.findall(r'id="provisioner_core\.([A-Za-z_]+)"', html))
    assert set(public_names()) - documented == set()


def test_the_changelog_and_contributing_guide_are_on_the_site(site: Path):
    assert "Keep a Changelog" in (site / "changelog" / "index.html").read_text()
    assert "Adding a distribution" in (site / "contributing" / "index.html").read_text()
