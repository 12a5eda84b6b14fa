"""Archives: safe extraction (everything refused is refused whole) and downloads from a real local HTTP server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner_component import archive
from provisioner_core import ConfigError, NetworkError, PermissionDenied
from support.component_helpers import FileServer, sha256_of, tar_gz, zip_file

LIMIT = 1024 * 1024


def extract(tmp_path: Path, bundle: Path, fmt: str = "tar.gz", max_size: int = LIMIT) -> Path:
    destination = tmp_path / "out"
    archive.extract(bundle, fmt, destination, max_size=max_size, where="source")
    return destination


def test_a_good_tar_gz_keeps_exec_bits_folders_and_inside_links(tmp_path: Path) -> None:
    bundle = tar_gz(tmp_path / "good.tar.gz", {
        "./": ("dir", None), "vpc/": ("dir", None), "vpc/main.tf": "x", "vpc/run.sh": ("exec", "echo"),
        "vpc/alias.tf": ("symlink", "main.tf"), "vpc/copy.tf": ("hardlink", "vpc/main.tf"),
    })
    out = extract(tmp_path, bundle)
    assert (out / "vpc/main.tf").read_text() == "x"
    assert os.access(out / "vpc/run.sh", os.X_OK) and not os.access(out / "vpc/main.tf", os.X_OK)
    assert os.readlink(out / "vpc/alias.tf") == "main.tf"
    assert (out / "vpc/copy.tf").read_text() == "x"


def test_a_good_zip(tmp_path: Path) -> None:
    out = extract(tmp_path, zip_file(tmp_path / "good.zip", {"vpc/main.tf": "x", "vpc/alias.tf": ("symlink", "main.tf")}), "zip")
    assert (out / "vpc/main.tf").read_text() == "x" and os.readlink(out / "vpc/alias.tf") == "main.tf"


@pytest.mark.parametrize(
    ("entries", "why"),
    [
        ({"main.tf": "x", "../evil.tf": "boom"}, "climbs out with '..'"),
        ({"main.tf": "x", "a/../../evil.tf": "boom"}, "climbs out with '..'"),
        ({"/etc/evil.tf": "boom"}, "absolute path"),
        ({"main.tf": "x", "link": ("symlink", "../../etc")}, "points outside the archive"),
        ({"link": ("symlink", "/etc/passwd")}, "is absolute"),
        ({"dir/": ("dir", None), "dir/up": ("symlink", ".."), "dir/deep/": ("dir", None), "dir/deep/x": ("symlink", "../up/..")}, "outside the archive"),
        ({"link": ("symlink", "."), "link/evil.tf": "through a link"}, "not a folder"),
        ({"main.tf": "x", "copy": ("hardlink", "../../etc/passwd")}, "climbs out"),
        ({"copy": ("hardlink", "missing.tf")}, "does not point to a file extracted before it"),
        ({"null": ("chr", None)}, "device file"),
        ({"main.tf": "x", "./main.tf": "y"}, "appears twice"),
    ],
)
def test_unsafe_tar_members_refuse_the_whole_archive(tmp_path: Path, entries: dict, why: str) -> None:
    bundle = tar_gz(tmp_path / "bad.tar.gz", entries)
    with pytest.raises(ConfigError, match=why) as caught:
        extract(tmp_path, bundle)
    assert caught.value.exit_code == 2
    assert not (tmp_path / "evil.tf").exists() and not (tmp_path.parent / "evil.tf").exists()


def test_symlink_chain_that_resolves_outside_is_caught_on_disk(tmp_path: Path) -> None:
    # Each link looks inside on its own; followed through "up", "x" lands above the root.
    bundle = tar_gz(tmp_path / "chain.tar.gz", {"a/": ("dir", None), "a/b/": ("dir", None), "a/b/up": ("symlink", "../.."), "x": ("symlink", "a/b/up/..")})
    with pytest.raises(ConfigError, match="resolves outside the archive"):
        extract(tmp_path, bundle)


def test_oversize_archive_is_refused(tmp_path: Path) -> None:
    bundle = tar_gz(tmp_path / "big.tar.gz", {"a.bin": "0" * 4096, "b.bin": "1" * 4096})
    with pytest.raises(ConfigError, match="unpacks to more than the 6000 byte limit"):
        extract(tmp_path, bundle, max_size=6000)


def test_zip_slip_and_zip_symlink_escape(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="climbs out"):
        extract(tmp_path, zip_file(tmp_path / "slip.zip", {"../evil.tf": "x"}), "zip")
    with pytest.raises(ConfigError, match="points outside"):
        extract(tmp_path, zip_file(tmp_path / "link.zip", {"l": ("symlink", "../../x")}), "zip")


def test_a_corrupt_archive_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(ConfigError, match="not a valid tar.gz"):
        extract(tmp_path, bad)


# --- downloads ----------------------------------------------------------------------------


def test_download_hashes_while_streaming(tmp_path: Path, served: FileServer) -> None:
    bundle = tar_gz(served.root / "vpc-1.tar.gz", {"main.tf": "x"})
    digest = archive.download(served.url("vpc-1.tar.gz"), tmp_path / "d", max_size=LIMIT, pinned=True, where="s")
    assert f"sha256:{digest}" == sha256_of(bundle)


def test_download_over_the_limit_stops_by_content_length_and_by_counting(tmp_path: Path, served: FileServer) -> None:
    (served.root / "big.bin").write_bytes(b"x" * 5000)
    with pytest.raises(ConfigError, match="larger than the 2048 byte limit"):
        archive.download(served.url("big.bin"), tmp_path / "a", max_size=2048, pinned=True, where="s")
    with pytest.raises(ConfigError, match="larger than the 2048 byte limit"):
        archive.download(served.url("nolength/big.bin"), tmp_path / "b", max_size=2048, pinned=True, where="s")


@pytest.mark.parametrize(("code", "error"), [(404, ConfigError), (403, PermissionDenied), (503, NetworkError)])
def test_http_errors_map_to_exit_codes(tmp_path: Path, served: FileServer, code: int, error: type) -> None:
    with pytest.raises(error):
        archive.download(served.url(f"status/{code}"), tmp_path / "x", max_size=LIMIT, pinned=True, where="s")


def test_an_unreachable_server_is_a_network_error(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="cannot download"):
        archive.download("http://127.0.0.1:9/x.tar.gz", tmp_path / "x", max_size=LIMIT, pinned=True, where="s", timeout_s=2)


def test_url_credentials_travel_in_a_header_only(tmp_path: Path, served: FileServer) -> None:
    (served.root / "private.tar.gz").write_bytes(b"x")
    archive.download(served.url("private.tar.gz"), tmp_path / "p", max_size=LIMIT, pinned=True, where="s", username="bot", password="hunter22")
    assert served.requests[-1]["path"] == "/private.tar.gz"
    assert served.requests[-1]["authorization"] == "Basic Ym90Omh1bnRlcjIy"
