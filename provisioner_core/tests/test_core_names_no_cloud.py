"""The plugin contract's promise: core's code names no cloud; every cloud comes from the plugin serving it.

Comments are left out (they may cite an example); every identifier, string, docstring and
attribute in core's code counts. The env distribution and the backends may name clouds.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "src" / "provisioner_core"
CLOUD = re.compile(r"(?<![a-z0-9])(s3|gcs|gcp|aws|azure|azurerm|google|boto3|botocore|amazon|amazonaws|dynamodb|arm_[a-z_]+|pg|postgres|postgresql)(?![a-z0-9])", re.IGNORECASE)
SOURCES = sorted(CORE.rglob("*.py"))



def cloud_words(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    words = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.Name):
            text = node.id
        elif isinstance(node, ast.Attribute):
            text = node.attr
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            text = node.name
        elif isinstance(node, ast.alias):
            text = node.name
        else:
            continue
        relative = path.relative_to(CORE).as_posix()
        words += [
            f"{relative}:{getattr(node, 'lineno', '?')}: {m.group(0)!r} in {text[:60]!r}"
            for m in CLOUD.finditer(text.replace("_", " "))
        ]
    return words


def test_there_is_core_code_to_check():
    assert len(SOURCES) > 40


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(CORE)))
def test_core_names_no_cloud(path):
    assert cloud_words(path) == []


def test_the_check_would_catch_one(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text('"""A docstring naming s3 counts."""\n# a comment may cite gcs\nKEYS = {"aws": "AWS_PROFILE"}\n')
    assert [word.split(": ")[1] for word in cloud_words_at(planted)] == ["'s3' in 'A docstring naming s3 counts.'", "'aws' in 'aws'", "'AWS' in 'AWS_PROFILE'"]


def cloud_words_at(path: Path) -> list[str]:
    global CORE
    saved, CORE = CORE, path.parent
    try:
        return cloud_words(path)
    finally:
        CORE = saved
