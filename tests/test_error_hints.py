"""Every error our code raises carries a hint: a bad input always gets one (checked on the source)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ERRORS = {"ConfigError", "PermissionDenied", "ResourceConflict", "NetworkError", "ProvisionerError"}


def raised_without_hint() -> list[str]:
    found = []
    for source in sorted(ROOT.glob("provisioner_*/src/**/*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ERRORS and not any(k.arg in ("hint", None) for k in node.keywords):
                found.append(f"{source.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_raised_error_has_a_hint():
    assert raised_without_hint() == []
