"""Resolve the planned stack files before writing them: a temporary copy of the stacks folder.

The copy is resolved by the same StackRepository as the real project (imports, inherits,
name_pattern), so the plan checks what terraform will really get, and nothing in the project
is touched until every check has passed.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs

from provisioner_core import BackendType, ProjectConfig, StackRepository


@contextlib.contextmanager
def preview_repository(config: ProjectConfig, planned: Mapping[str, str], backend_types: Mapping[str, BackendType]) -> Iterator[StackRepository]:
    """The project's stacks plus ``planned`` (stacks-relative path -> text), resolvable, in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="provision-env-") as tmp:
        base = Path(tmp) / "stacks"
        shutil.copytree(config.stacks_base_path, base, symlinks=True, ignore=shutil.ignore_patterns(".terraform", ".git"))
        for relative, text in planned.items():
            path = base / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        yield StackRepository(attrs.evolve(config, stacks_base_path=base), backend_types=backend_types)
