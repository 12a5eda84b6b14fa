"""Where vendored trees, the fetch cache and the lock file live in a project.

::

    <project>/.provisioner/
      component.lock.json             the lock: one entry per working folder (commit it)
      workdir/<stack>/<component>/    one stack's vendored copy: terraform runs here
      swap/<key hash>.new-…, .old-…   a tree being swapped in, the tree being swapped out
      locks/<key hash>.lk             held while a run changes one working folder
      cache/git/<url hash>/<commit>/  fetched trees, shared by every stack and component
      cache/archive/<sha256>/
      cache/tmp/                      fetches in progress (removed when their process is gone)

A stack's copy never holds another stack's version: two stacks pinning different tags get two
folders, and bumping one replaces only its own. Stack and component are one folder each:
``/`` (and ``%``) in their names are %-escaped, so ``orgs/acme/dev`` is ``orgs%2Facme%2Fdev``
and no stack's folder can nest inside another's.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from attrs import frozen

from provisioner_core import ConfigError

STATE_FOLDER = ".provisioner"
LOCK_NAME = "component.lock.json"


@frozen
class Target:
    """One component of one stack, and the folder its vendored tree lives in."""

    stack: str
    component: str
    workdir: Path
    key: str  # the lock's key: the workdir relative to .provisioner/workdir, e.g. "dev/vpc"

    @property
    def label(self) -> str:
        return f"{self.component} in {self.stack}"


class Layout:
    """The project's ``.provisioner`` folder (paths computed once: a warm --all asks for them per component)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.state_folder = self.root / STATE_FOLDER
        self.lock_path = self.state_folder / LOCK_NAME
        self.workdirs = self.state_folder / "workdir"
        self.cache = self.state_folder / "cache"
        self.cache_tmp = self.cache / "tmp"
        self._workdirs_text = str(self.workdirs)

    def __repr__(self) -> str:
        return f"Layout({str(self.root)!r})"

    def target(self, stack: str, component: str) -> Target:
        """The working folder of ``component`` in ``stack``: one escaped folder each, so no name can escape."""
        stack_folder, component_folder = escape_name(_check_stack(stack)), escape_name(component)
        key = f"{stack_folder}/{component_folder}"
        return Target(stack, component, Path(f"{self._workdirs_text}/{key}"), key)

    def swap_prefix(self, target: Target) -> Path:
        """Siblings of the working folder's swap: ``<prefix>.new-…`` and ``<prefix>.old-…`` (same file system)."""
        return self.state_folder / "swap" / _short_hash(target.key)

    def folder_lock(self, target: Target) -> Path:
        return self.state_folder / "locks" / f"{_short_hash(target.key)}.lk"

    def git_cache(self, location: str, commit: str) -> Path:
        return self.cache / "git" / _short_hash(location) / commit

    def archive_cache(self, sha256_hex: str) -> Path:
        return self.cache / "archive" / sha256_hex



def escape_name(name: str) -> str:
    """One folder name per stack or component: ``%``, ``/`` and ``\\`` are escaped, ``.`` and ``..`` too."""
    if not name or "\0" in name:
        raise ConfigError(f"name {name!r} cannot name a folder", hint="Use letters, digits, '-', '_', '/' and '.'.")
    escaped = name.replace("%", "%25").replace("/", "%2F").replace("\\", "%5C")
    if escaped in (".", ".."):
        escaped = escaped.replace(".", "%2E")
    return escaped


def _check_stack(stack: str) -> str:
    segments = stack.split("/")
    if not stack or "\\" in stack or "\0" in stack or any(s in ("", ".", "..") for s in segments):
        raise ConfigError(
            f"stack name {stack!r} cannot name a working folder",
            hint="A stack name may nest with '/', but no segment may be empty, '.' or '..', and it may not hold a backslash.",
        )
    return stack


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
