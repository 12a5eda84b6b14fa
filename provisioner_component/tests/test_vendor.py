"""The engine with real git and a real local HTTP server: lock, idempotency, local edits, filters, archives.

Terraform runs on vendored trees through ``provision terraform`` in test_terraform.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provisioner_core import ConfigError, ResourceConflict, Status
from support.component_helpers import Engine, FileServer, GitCounter, GitRepo, module_tf, sha256_of, tar_gz


def git_source(repo: GitRepo, ref: str, subdir: str = "modules/vpc") -> dict[str, str]:
    return {"source": f"git::{repo.url}//{subdir}?ref={ref}"}


def lock(engine: Engine) -> dict:
    return json.loads((engine.root / ".provisioner/component.lock.json").read_text())


def test_the_lock_records_commit_tree_and_files(engine: Engine, repo: GitRepo) -> None:
    result = engine.vendor("dev", "vpc", git_source(repo, "v1"))
    assert result.status is Status.CREATED and result.workdir == str(engine.workdir("dev", "vpc"))  # where terraform runs
    entry = lock(engine)["components"]["dev/vpc"]
    assert entry["source"]["ref"] == "v1" and entry["source"]["location"] == repo.url
    assert entry["resolved"] == {"commit": repo.git("rev-parse", "v1^{commit}")}
    assert entry["tree"].startswith("sha256:") and sorted(entry["files"]) == ["main.tf", "test/fixture.tf"]
    assert entry["vendored_at"].endswith("Z")


def test_local_edits_exit_4_naming_the_files_and_force_restores(engine: Engine, repo: GitRepo, git_counter: GitCounter) -> None:
    engine.vendor("dev", "vpc", git_source(repo, "v1"))
    workdir = engine.workdir("dev", "vpc")
    original = (workdir / "main.tf").read_text()
    (workdir / "main.tf").write_text(original + "\n# my fix\n")
    (workdir / "extra.tf").write_text("# mine\n")
    (workdir / "test/fixture.tf").unlink()
    git_counter.reset()
    with pytest.raises(ResourceConflict) as caught:
        engine.fresh().vendor("dev", "vpc", git_source(repo, "v1"))
    assert caught.value.exit_code == 4
    assert "modified main.tf; deleted test/fixture.tf; added extra.tf" in caught.value.message
    assert "--force" in caught.value.hints[0]
    assert git_counter.count() == 0
    restored = engine.fresh().vendor("dev", "vpc", git_source(repo, "v1"), force=True)
    assert restored.status is Status.UPDATED
    assert (workdir / "main.tf").read_text() == original and not (workdir / "extra.tf").exists() and (workdir / "test/fixture.tf").exists()
    assert engine.fresh().vendor("dev", "vpc", git_source(repo, "v1")).status is Status.UNCHANGED


def test_a_changed_ref_with_local_edits_is_refused_too(engine: Engine, repo: GitRepo) -> None:
    engine.vendor("dev", "vpc", git_source(repo, "v1"))
    (engine.workdir("dev", "vpc") / "main.tf").write_text("# mine\n")
    with pytest.raises(ResourceConflict, match="edited locally: modified main.tf"):
        engine.fresh().vendor("dev", "vpc", git_source(repo, "v2"))


def test_terraform_files_are_neither_drift_nor_lost(engine: Engine, repo: GitRepo) -> None:
    engine.vendor("dev", "vpc", git_source(repo, "v1"))
    workdir = engine.workdir("dev", "vpc")
    for name in ("terraform.tfstate", ".terraform.lock.hcl", "backend.tf.json", "dev-vpc.terraform.tfvars.json"):
        (workdir / name).write_text("{}")
    (workdir / ".terraform").mkdir()
    (workdir / ".terraform/environment").write_text("dev")
    assert engine.fresh().vendor("dev", "vpc", git_source(repo, "v1")).status is Status.UNCHANGED
    engine.fresh().vendor("dev", "vpc", git_source(repo, "v2"))
    assert (workdir / ".terraform/environment").read_text() == "dev" and (workdir / "terraform.tfstate").exists()


def test_a_fresh_clone_vendors_the_locked_commit_even_after_the_tag_moved(engine: Engine, repo: GitRepo) -> None:
    engine.vendor("dev", "vpc", git_source(repo, "v1"))
    locked = lock(engine)["components"]["dev/vpc"]
    shutil.rmtree(engine.root / ".provisioner/workdir")
    shutil.rmtree(engine.root / ".provisioner/cache")
    repo.commit({"modules/vpc/main.tf": module_tf("v1-moved")}, "moved", tag="v1")  # someone force-moved the tag
    result = engine.fresh().vendor("dev", "vpc", git_source(repo, "v1"))
    assert result.status is Status.CREATED
    assert "v1-moved" not in (engine.workdir("dev", "vpc") / "main.tf").read_text()
    assert lock(engine)["components"]["dev/vpc"]["tree"] == locked["tree"]


def test_a_missing_working_folder_is_restored_from_the_cache_without_git(engine: Engine, repo: GitRepo, git_counter: GitCounter) -> None:
    engine.vendor("dev", "vpc", git_source(repo, "v1"))
    shutil.rmtree(engine.workdir("dev", "vpc"))
    git_counter.reset()
    assert engine.fresh().vendor("dev", "vpc", git_source(repo, "v1")).status is Status.CREATED
    assert git_counter.count() == 0


def test_dry_run_writes_nothing_and_runs_no_git(engine: Engine, repo: GitRepo, git_counter: GitCounter) -> None:
    result = engine.vendor("dev", "vpc", git_source(repo, "v1"), dry_run=True)
    assert result.status is Status.PLANNED and result.actions[0].planned and result.actions[0].verb == "vendor"
    assert result.workdir == str(engine.workdir("dev", "vpc"))  # the folder it would create
    assert not (engine.root / ".provisioner").exists() and git_counter.count() == 0
    engine.vendor("dev", "vpc", git_source(repo, "v1"))
    git_counter.reset()
    bump = engine.fresh().vendor("dev", "vpc", git_source(repo, "v2"), dry_run=True)
    assert bump.actions[0].verb == "re-vendor" and "configured source changed" in bump.actions[0].detail
    assert git_counter.count() == 0 and "v1" in (engine.workdir("dev", "vpc") / "main.tf").read_text()


def test_path_filters_apply(engine: Engine, repo: GitRepo) -> None:
    engine.vendor("dev", "vpc", {**git_source(repo, "v1"), "included_paths": ["**/*.tf", "!**/test/**"]})
    assert sorted(p.name for p in engine.workdir("dev", "vpc").iterdir()) == ["main.tf"]
    with pytest.raises(ConfigError, match="no files to vendor"):
        engine.vendor("qa", "vpc", {**git_source(repo, "v1"), "included_paths": ["**/*.py"]})


def test_ttl_zero_resolves_the_ref_every_time(engine: Engine, repo: GitRepo, git_counter: GitCounter) -> None:
    options = {**git_source(repo, "main"), "ttl": "0s"}
    engine.vendor("dev", "vpc", options)
    repo.commit({"modules/vpc/main.tf": module_tf("v3")}, "v3")
    git_counter.reset()
    assert engine.fresh().vendor("dev", "vpc", options).status is Status.UPDATED
    assert git_counter.count("fetch") == 1 and "v3" in (engine.workdir("dev", "vpc") / "main.tf").read_text()


def test_a_branch_stays_on_its_locked_commit_until_forced(engine: Engine, repo: GitRepo) -> None:
    engine.vendor("dev", "vpc", git_source(repo, "main"))
    repo.commit({"modules/vpc/main.tf": module_tf("v3")}, "v3")
    assert engine.fresh().vendor("dev", "vpc", git_source(repo, "main")).status is Status.UNCHANGED
    assert "v2" in (engine.workdir("dev", "vpc") / "main.tf").read_text()
    engine.fresh().vendor("dev", "vpc", git_source(repo, "main"), force=True)
    assert "v3" in (engine.workdir("dev", "vpc") / "main.tf").read_text()


# --- local folders ------------------------------------------------------------------------


def test_a_local_folder_is_vendored_and_followed(engine: Engine, git_counter: GitCounter) -> None:
    source = engine.root / "vendor-src/vpc"
    source.mkdir(parents=True)
    (source / "main.tf").write_text(module_tf("local-1"))
    options = {"source": "./vendor-src/vpc"}
    assert engine.vendor("dev", "vpc", options).status is Status.CREATED
    assert engine.fresh().vendor("dev", "vpc", options).status is Status.UNCHANGED
    (source / "main.tf").write_text(module_tf("local-2"))
    assert engine.fresh().vendor("dev", "vpc", options).status is Status.UPDATED
    assert "local-2" in (engine.workdir("dev", "vpc") / "main.tf").read_text()
    assert git_counter.count() == 0
    assert "source_tree" in lock(engine)["components"]["dev/vpc"]["resolved"]


# --- archives -----------------------------------------------------------------------------


def serve_module(served: FileServer, name: str, version: str) -> Path:
    return tar_gz(served.root / name, {f"vpc-{version}/": ("dir", None), f"vpc-{version}/main.tf": module_tf(version)})


def test_a_wrong_checksum_exits_2_and_writes_nothing(engine: Engine, served: FileServer) -> None:
    serve_module(served, "vpc-wrong.tar.gz", "1.0.0")
    with pytest.raises(ConfigError, match="checksum mismatch") as caught:
        engine.vendor("dev", "vpc", {"source": served.url("vpc-wrong.tar.gz"), "checksum": "sha256:" + "0" * 64})
    assert caught.value.exit_code == 2
    assert_nothing_written(engine)


@pytest.mark.parametrize(
    ("entries", "why"),
    [
        ({"vpc/main.tf": "x", "../../escape.tf": "boom"}, "climbs out"),
        ({"vpc/main.tf": "x", "vpc/passwd": ("symlink", "../../../../etc/passwd")}, "points outside"),
    ],
    ids=["tar-slip", "symlink-escape"],
)
def test_unsafe_archives_exit_2_and_write_nothing(engine: Engine, served: FileServer, entries: dict, why: str) -> None:
    bundle = tar_gz(served.root / "evil.tar.gz", entries)
    with pytest.raises(ConfigError, match=why) as caught:
        engine.vendor("dev", "vpc", {"source": served.url("evil.tar.gz"), "checksum": sha256_of(bundle)})
    assert caught.value.exit_code == 2
    assert_nothing_written(engine)
    assert not (engine.root / "escape.tf").exists()


def test_an_oversize_archive_exits_2_and_writes_nothing(engine: Engine, served: FileServer) -> None:
    bundle = tar_gz(served.root / "big.tar.gz", {"vpc/main.tf": "x", "vpc/blob.bin": "0" * 300_000})
    with pytest.raises(ConfigError, match="byte limit") as caught:
        engine.vendor("dev", "vpc", {"source": served.url("big.tar.gz"), "checksum": sha256_of(bundle), "max_size": "64KiB"})
    assert caught.value.exit_code == 2
    assert_nothing_written(engine)


def test_plain_http_without_checksum_is_refused_before_any_request(engine: Engine, served: FileServer) -> None:
    serve_module(served, "vpc-plain.tar.gz", "1.0.0")
    with pytest.raises(ConfigError, match="plain http archive .* refused without a checksum"):
        engine.vendor("dev", "vpc", {"source": served.url("vpc-plain.tar.gz")})
    with pytest.raises(ConfigError, match="refused without a checksum"):
        engine.vendor("dev", "vpc", {"source": served.url("vpc-plain.tar.gz")}, dry_run=True)
    assert served.requests == []


def test_a_local_archive_without_checksum_is_locked_by_its_digest(engine: Engine, served: FileServer) -> None:
    bundle = serve_module(served, "vpc-local.tar.gz", "0.9.0")
    copy = engine.root / "vendor-src/vpc.tgz"
    copy.parent.mkdir(parents=True)
    shutil.copy(bundle, copy)
    assert engine.vendor("dev", "vpc", {"source": "./vendor-src/vpc.tgz//vpc-0.9.0"}).status is Status.CREATED
    assert lock(engine)["components"]["dev/vpc"]["resolved"] == {"archive_sha256": sha256_of(copy)}


def assert_nothing_written(engine: Engine) -> None:
    state = engine.root / ".provisioner"
    assert not (state / "workdir").exists() or not any((state / "workdir").rglob("*"))
    assert not (state / "cache/archive").exists() or not any((state / "cache/archive").iterdir())
    assert not (state / "cache/tmp").exists() or not any((state / "cache/tmp").iterdir())
    lock_file = state / "component.lock.json"
    assert not lock_file.exists() or json.loads(lock_file.read_text())["components"] == {}


def test_a_committed_terraform_lock_is_seeded_once_then_left_to_terraform(engine: Engine, repo: GitRepo) -> None:
    repo.commit({"modules/vpc/.terraform.lock.hcl": "# upstream v3\n"}, "lock", tag="v3")
    engine.vendor("dev", "vpc", git_source(repo, "v3"))
    lock_hcl = engine.workdir("dev", "vpc") / ".terraform.lock.hcl"
    assert lock_hcl.read_text() == "# upstream v3\n"
    lock_hcl.write_text("# terraform's own\n")  # terraform init -upgrade rewrote it: not a local edit
    repo.commit({"modules/vpc/.terraform.lock.hcl": "# upstream v4\n"}, "lock", tag="v4")
    assert engine.fresh().vendor("dev", "vpc", git_source(repo, "v4")).status is Status.UPDATED
    assert lock_hcl.read_text() == "# terraform's own\n"
