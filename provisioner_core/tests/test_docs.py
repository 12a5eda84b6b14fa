"""Meta-tests (datasette style): every hookspec is documented and exercised by a test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from provisioner_core import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(
    name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "provisioner_spec")
)
TEST_SOURCES = "\n".join(p.read_text() for folder in (ROOT / "provisioner_core" / "tests", ROOT / "tests") for p in folder.glob("test_*.py"))


def test_there_are_hookspecs():
    assert "before_terraform_init" in HOOKS and "manual_provision" in HOOKS and len(HOOKS) == 18


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hookspec_is_documented(hook):
    assert f"`{hook}" in (ROOT / "docs" / "hooks.md").read_text()


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hookspec_has_a_test(hook):
    from provisioner_core.events import event_name

    # Lifecycle hooks are also exercised by name through their dotted event (the recording plugin).
    assert hook in TEST_SOURCES or event_name(hook) in TEST_SOURCES


@pytest.mark.parametrize("page", ["architecture", "concepts", "configuration", "hooks", "writing-a-provisioner", "cli", "errors", "terraform", "api"])
def test_reference_pages_exist(page):
    assert (ROOT / "docs" / f"{page}.md").stat().st_size > 500


def test_architecture_names_every_core_module():
    text = (ROOT / "docs" / "architecture.md").read_text()
    package = ROOT / "provisioner_core" / "src" / "provisioner_core"
    for module in package.rglob("*.py"):
        if module.name == "__init__.py":
            continue
        stem = module.relative_to(package).with_suffix("").as_posix()
        short = stem.split("/")[-1]
        assert f"`{stem}`" in text or f"`{short}`" in text or f"{stem.split('/')[0]}/*" in text, f"docs/architecture.md does not name {stem}"
