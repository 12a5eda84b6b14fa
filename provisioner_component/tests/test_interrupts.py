"""Interruptions: SIGKILL mid-fetch (git and HTTP) and a swap stopped halfway; the rerun converges."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provisioner_component import vendor as vendor_module
from provisioner_core import Status
from provisioner_core.testing import StackTree
from support.component_helpers import Engine, FileServer, GitCounter, GitRepo, module_tf, sha256_of, tar_gz


def stack(project: StackTree, options: dict[str, Any]) -> None:
    project.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"provision": {"component": {"enabled": True, **options}}}}}})


def start_provision(project: StackTree, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``provision component vpc -s dev`` in its own process group (so the kill takes git with it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "provisioner_core.cli.main", "component", "vpc", "-s", "dev"],
        cwd=project.root, env={**os.environ, "PROVISIONER_LOAD_PLUGINS": "component,component-git-auth", **(env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def kill_group(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def lock_entry(project: StackTree) -> dict[str, Any]:
    data = json.loads((project.root / ".provisioner/component.lock.json").read_text())
    assert "pending" not in data
    return data["components"]["dev/vpc"]


def test_sigkill_while_git_fetches_leaves_the_previous_tree_and_the_rerun_converges(project: StackTree, repo: GitRepo, git_counter: GitCounter) -> None:
    engine = Engine(project.root)
    stack(project, {"source": f"git::{repo.url}//modules/vpc?ref=v1"})
    engine.vendor("dev", "vpc", {"source": f"git::{repo.url}//modules/vpc?ref=v1"})
    workdir = engine.workdir("dev", "vpc")
    before = lock_entry(project)

    stack(project, {"source": f"git::{repo.url}//modules/vpc?ref=v2"})
    git_counter.reset()
    process = start_provision(project, {"GIT_WRAPPER_SLEEP_ON_FETCH": "60"})
    wait_for(lambda: git_counter.count("fetch") >= 1)
    kill_group(process)
    assert process.returncode == -signal.SIGKILL
    assert "v1" in (workdir / "main.tf").read_text()
    assert lock_entry(project) == before
    assert any((project.root / ".provisioner/cache/tmp").iterdir())  # the killed fetch's scratch folder

    result = engine.fresh().vendor("dev", "vpc", {"source": f"git::{repo.url}//modules/vpc?ref=v2"})
    assert result.status is Status.UPDATED
    assert "v2" in (workdir / "main.tf").read_text()
    assert lock_entry(project)["resolved"]["commit"] == repo.git("rev-parse", "v2^{commit}")
    assert not any((project.root / ".provisioner/cache/tmp").iterdir())  # swept: its process is gone


def test_sigkill_during_a_slow_download_leaves_the_previous_tree(project: StackTree, served: FileServer) -> None:
    engine = Engine(project.root)
    old = tar_gz(served.root / "vpc-a.tar.gz", {"vpc/main.tf": module_tf("a")})
    new = tar_gz(served.root / "vpc-b.tar.gz", {"vpc/main.tf": module_tf("b"), "vpc/padding.txt": os.urandom(3000).hex()})
    first = {"source": served.url("vpc-a.tar.gz") + "//vpc", "checksum": sha256_of(old)}
    engine.vendor("dev", "vpc", first)
    before = lock_entry(project)

    slow = {"source": served.url("slow/vpc-b.tar.gz") + "//vpc", "checksum": sha256_of(new)}
    stack(project, slow)
    process = start_provision(project)
    wait_for(lambda: any(r["path"] == "/slow/vpc-b.tar.gz" for r in served.requests))
    time.sleep(0.5)
    kill_group(process)
    assert "\"a\"" in (engine.workdir("dev", "vpc") / "main.tf").read_text()
    assert lock_entry(project) == before
    assert not (project.root / ".provisioner/cache/archive" / sha256_of(new).split(":")[1]).exists()

    assert engine.fresh().vendor("dev", "vpc", slow).status is Status.UPDATED
    assert "\"b\"" in (engine.workdir("dev", "vpc") / "main.tf").read_text()


def test_a_swap_stopped_between_its_renames_is_undone(engine: Engine, repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    engine.vendor("dev", "vpc", {"source": f"git::{repo.url}//modules/vpc?ref=v1"})
    workdir = engine.workdir("dev", "vpc")
    real_rename = os.rename

    def rename(source: Any, target: Any) -> None:
        if ".new-" in str(source):  # the old tree is aside, the new one not yet in place
            raise KeyboardInterrupt
        real_rename(source, target)

    monkeypatch.setattr(vendor_module.os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        engine.fresh().vendor("dev", "vpc", {"source": f"git::{repo.url}//modules/vpc?ref=v2"})
    monkeypatch.setattr(vendor_module.os, "rename", real_rename)
    assert not workdir.exists()  # killed right there
    assert engine.fresh().vendor("dev", "vpc", {"source": f"git::{repo.url}//modules/vpc?ref=v1"}).status is Status.UNCHANGED
    assert "v1" in (workdir / "main.tf").read_text()
    assert not any((engine.root / ".provisioner/swap").iterdir())


def test_a_swap_stopped_before_the_lock_was_written_is_settled(engine: Engine, repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    engine.vendor("dev", "vpc", {"source": f"git::{repo.url}//modules/vpc?ref=v1"})
    second = engine.fresh()
    real_update = second.vendorer.lock.update

    def update(key: str, **changes: Any) -> None:
        if changes.get("pending", "keep") is None and "entry" in changes:
            raise KeyboardInterrupt  # the new tree is in place; the lock still says v1 (pending v2)
        real_update(key, **changes)

    monkeypatch.setattr(second.vendorer.lock, "update", update)
    with pytest.raises(KeyboardInterrupt):
        second.vendor("dev", "vpc", {"source": f"git::{repo.url}//modules/vpc?ref=v2"})
    assert "v2" in (engine.workdir("dev", "vpc") / "main.tf").read_text()
    assert engine.fresh().vendor("dev", "vpc", {"source": f"git::{repo.url}//modules/vpc?ref=v2"}).status is Status.UNCHANGED
    assert lock_entry_of(engine)["source"]["ref"] == "v2"


def lock_entry_of(engine: Engine) -> dict[str, Any]:
    data = json.loads((Path(engine.root) / ".provisioner/component.lock.json").read_text())
    assert "pending" not in data
    return data["components"]["dev/vpc"]
