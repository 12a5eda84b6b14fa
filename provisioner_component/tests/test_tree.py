"""Trees: path filters, digests, symlink rules, terraform's own files, the folder swap's pieces."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner_component.tree import PathFilter, carry_runtime, compare, is_runtime, materialize, scan, select, tree_digest
from provisioner_core import ConfigError


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("included", "excluded", "expected"),
    [
        ((), (), ["README.md", "main.tf", "modules/net/main.tf", "test/fixture.tf"]),
        (("**/*.tf",), (), ["main.tf", "modules/net/main.tf", "test/fixture.tf"]),
        (("*.tf",), (), ["main.tf"]),  # * does not cross folders (doublestar, as Atmos)
        (("**/*.tf",), ("**/test/**",), ["main.tf", "modules/net/main.tf"]),
        ((), ("test",), ["README.md", "main.tf", "modules/net/main.tf"]),  # an excluded folder prunes its files
        (("modules/**",), (), ["modules/net/main.tf"]),
    ],
)
def test_path_filters(tmp_path: Path, included: tuple[str, ...], excluded: tuple[str, ...], expected: list[str]) -> None:
    write(tmp_path, {"main.tf": "a", "README.md": "b", "modules/net/main.tf": "c", "test/fixture.tf": "d", ".git/config": "x"})
    picks = select(tmp_path, "", PathFilter(included, excluded), where="t")
    assert sorted(p.path for p in picks) == expected


def test_dotfiles_match_globs(tmp_path: Path) -> None:
    write(tmp_path, {".terraform-version": "1.11", "main.tf": "x"})
    assert sorted(p.path for p in select(tmp_path, "", PathFilter(("**",)), where="t")) == [".terraform-version", "main.tf"]


def test_digest_covers_paths_bytes_and_the_exec_bit(tmp_path: Path) -> None:
    write(tmp_path / "a", {"main.tf": "x", "bin/run.sh": "echo"})
    first = scan(tmp_path / "a")
    assert tree_digest(first) == tree_digest(dict(reversed(list(first.items()))))
    (tmp_path / "a" / "bin" / "run.sh").chmod(0o755)
    second = scan(tmp_path / "a")
    assert tree_digest(second) != tree_digest(first)
    assert compare(first, second).modified == ("bin/run.sh",)
    (tmp_path / "a" / "main.tf").write_text("y")
    (tmp_path / "a" / "extra.tf").write_text("z")
    (tmp_path / "a" / "bin" / "run.sh").unlink()
    changes = compare(first, scan(tmp_path / "a"))
    assert (changes.modified, changes.deleted, changes.added) == (("main.tf",), ("bin/run.sh",), ("extra.tf",))
    assert changes.summary() == "modified main.tf; deleted bin/run.sh; added extra.tf"


def test_terraform_and_core_files_are_not_part_of_the_tree(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": "x", ".terraform/providers/p": "bin", "terraform.tfstate": "{}", "terraform.tfstate.d/dev/terraform.tfstate": "{}",
                     ".terraform.lock.hcl": "lock", "backend.tf.json": "{}", "dev-vpc.terraform.tfvars.json": "{}", "modules/backend.tf.json": "kept"})
    assert sorted(scan(tmp_path)) == ["main.tf", "modules/backend.tf.json"]
    assert is_runtime(".terraform/x") and is_runtime("terraform.tfstate") and not is_runtime("modules/terraform.tfstate")


def test_symlinks_inside_are_kept_and_escapes_refused(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"modules/vpc/main.tf": "x", "shared/common.tf": "common", "modules/vpc/sub/variables.tf": "v"})
    os.symlink("sub/variables.tf", root / "modules/vpc/vars.tf")
    os.symlink("../../shared/common.tf", root / "modules/vpc/common.tf")
    picks = {p.path: p for p in select(root, "modules/vpc", PathFilter(), where="t")}
    assert picks["vars.tf"].link == "sub/variables.tf"  # stays inside: kept as a link
    assert picks["common.tf"].origin == str((root / "shared/common.tf").resolve())  # leaves the subfolder: copied as the file
    os.symlink("../../../outside", root / "modules/vpc/escape.tf")
    with pytest.raises(ConfigError, match="points outside the source"):
        select(root, "modules/vpc", PathFilter(), where="t")


def test_absolute_symlinks_are_refused(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"main.tf": "x"})
    os.symlink("/etc/passwd", root / "passwd.tf")
    with pytest.raises(ConfigError, match="is absolute"):
        select(root, "", PathFilter(), where="t")


def test_missing_subfolder_names_what_is_there(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"modules/vpc/main.tf": "x"})
    with pytest.raises(ConfigError, match="has no folder 'modules/vcp'") as caught:
        select(root, "modules/vcp", PathFilter(), where="t")
    assert "modules" in caught.value.hints[0]


def test_materialize_then_scan_agree(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"main.tf": "x", "bin/run.sh": "echo"})
    (root / "bin/run.sh").chmod(0o755)
    os.symlink("main.tf", root / "alias.tf")
    manifest = materialize(select(root, "", PathFilter(), where="t"), tmp_path / "out")
    assert manifest == scan(tmp_path / "out")
    assert os.access(tmp_path / "out/bin/run.sh", os.X_OK)


def test_carry_runtime_hard_links_state_and_leaves_the_old_folder_whole(tmp_path: Path) -> None:
    old = write(tmp_path / "old", {"main.tf": "v1", "terraform.tfstate": "{state}", ".terraform/modules/m.json": "{}"})
    new = write(tmp_path / "new", {"main.tf": "v2"})
    assert carry_runtime(old, new) == [".terraform", "terraform.tfstate"]
    assert (new / "terraform.tfstate").read_text() == "{state}"
    assert os.stat(new / "terraform.tfstate").st_ino == os.stat(old / "terraform.tfstate").st_ino
    assert (old / "terraform.tfstate").exists() and (old / ".terraform/modules/m.json").exists()
    assert (new / "main.tf").read_text() == "v2"
