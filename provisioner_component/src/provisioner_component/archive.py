"""Archives: download over HTTP(S) with a size limit and sha256, and extract only what is safe.

Extraction reads every member first and refuses the whole archive (exit 2, nothing written
outside a temporary folder) when one of them is unsafe: an absolute path or ``..``, a path that
runs through a symlink, a symlink or hard link that points outside, a device, fifo or socket,
a duplicate, or more bytes or members than the limit. Links are created last, so no file is
ever written through one, and every symlink is checked again against the real file system
before the folder is handed on.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
import stat
import tarfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

from attrs import frozen

from provisioner_component.uri import redact_url
from provisioner_core import ConfigError, NetworkError, PermissionDenied

DEFAULT_TIMEOUT_S = 60.0
MAX_MEMBERS = 100_000
_CHUNK = 256 * 1024
_TAR_MODES: dict[str, Literal["r:gz", "r:bz2", "r:xz", "r:"]] = {"tar.gz": "r:gz", "tar.bz2": "r:bz2", "tar.xz": "r:xz", "tar": "r:"}
MemberKind = Literal["dir", "file", "symlink", "hardlink"]


# --- download -----------------------------------------------------------------------------


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but never from https to plain http unless the content is pinned by a checksum."""

    def __init__(self, pinned: bool) -> None:
        self.pinned = pinned

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if req.full_url.lower().startswith("https:") and newurl.lower().startswith("http:") and not self.pinned:
            raise ConfigError(
                f"{redact_url(req.full_url)} redirects to plain http ({redact_url(newurl)})",
                hint="Refused without a checksum: add checksum: sha256:<hex> to pin the content, or use an https URL that stays https.",
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download(
    url: str,
    sink: Path,
    *,
    max_size: int,
    pinned: bool,
    where: str,
    username: str | None = None,
    password: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> str:
    """Stream ``url`` into ``sink`` (a new file); return its sha256 (hex). Over ``max_size``: exit 2."""
    shown = redact_url(url)
    request = urllib.request.Request(url, headers={"User-Agent": "provisioner-component", "Accept-Encoding": "identity"})
    if username or password:
        # Unredirected: the credentials never follow a redirect to another host.
        token = base64.b64encode(f"{username or ''}:{password or ''}".encode()).decode()
        request.add_unredirected_header("Authorization", f"Basic {token}")
    opener = urllib.request.build_opener(_Redirects(pinned))
    try:
        response = opener.open(request, timeout=timeout_s)
    except urllib.error.HTTPError as error:
        raise _http_error(error.code, shown, where) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise NetworkError(f"{where}: cannot download {shown}: {reason}", hint="Check the URL, the network and any proxy; the previous tree was left as it was.") from None
    digest = hashlib.sha256()
    written = 0
    with response:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_size:
            raise _too_big(where, shown, int(declared), max_size)
        try:
            with open(sink, "xb") as stream:
                while chunk := response.read(_CHUNK):
                    written += len(chunk)
                    if written > max_size:
                        raise _too_big(where, shown, written, max_size)
                    digest.update(chunk)
                    stream.write(chunk)
        except (OSError, urllib.error.URLError) as error:
            if isinstance(error, FileExistsError):
                raise
            raise NetworkError(f"{where}: the download of {shown} broke off after {written} bytes: {error}", hint="Run again; the previous tree was left as it was.") from None
    if declared and declared.isdigit() and written != int(declared):
        raise NetworkError(f"{where}: the download of {shown} ended after {written} of {declared} bytes", hint="Run again; the previous tree was left as it was.")
    return digest.hexdigest()


def hash_file(path: Path, *, max_size: int, where: str) -> str:
    """sha256 (hex) of a local archive, refusing one over ``max_size``."""
    size = path.stat().st_size
    if size > max_size:
        raise _too_big(where, str(path), size, max_size)
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _http_error(code: int, shown: str, where: str) -> Exception:
    if code in (401, 403):
        return PermissionDenied(f"{where}: {shown} answered HTTP {code}", hint="The archive needs credentials: put them in the URL's user part only if you must (they are moved to a header and redacted).")
    if code in (404, 410):
        return ConfigError(f"{where}: {shown} answered HTTP {code} (not found)", hint="Check the URL and the version in it.")
    if code == 429 or code >= 500:
        return NetworkError(f"{where}: {shown} answered HTTP {code}", hint="The server is busy or failing; run again later (retry: {max_attempts: 3} retries by itself).")
    return ConfigError(f"{where}: {shown} answered HTTP {code}", hint="Check the URL.")


def _too_big(where: str, shown: str, size: int, limit: int) -> ConfigError:
    return ConfigError(
        f"{where}: {shown} is larger than the {limit} byte limit (at least {size} bytes)",
        hint="Raise provision.component.max_size (e.g. max_size: 1GiB) if the archive is meant to be that large.",
    )


# --- extraction ---------------------------------------------------------------------------


@frozen
class Member:
    """One archive member, validated: a safe relative path and what to make there."""

    path: str
    kind: MemberKind
    size: int = 0
    executable: bool = False
    link: str = ""  # symlink: its target; hardlink: the member path it repeats
    handle: Any = None  # the TarInfo or ZipInfo to read it from


def extract(archive: Path, fmt: str, destination: Path, *, max_size: int, where: str) -> None:
    """Extract ``archive`` into the new folder ``destination`` after validating every member."""
    try:
        if fmt == "zip":
            with zipfile.ZipFile(archive) as bundle:
                members = _validate(_zip_members(bundle, where), max_size, where)
                _write(members, destination, lambda m: bundle.open(m.handle), max_size, where)
        else:
            with tarfile.open(archive, _TAR_MODES[fmt]) as bundle:
                members = _validate(_tar_members(bundle, max_size, where), max_size, where)
                _write(members, destination, lambda m: bundle.extractfile(m.handle), max_size, where)
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
        if isinstance(error, (FileExistsError, PermissionError)):
            raise
        raise ConfigError(f"{where}: the archive is not a valid {fmt} file: {error}", hint="Check the URL and the archive= format (tar.gz, tgz, zip).") from None
    _check_links(destination, where)


def _tar_members(bundle: tarfile.TarFile, max_size: int, where: str) -> Iterator[Member]:
    total = 0
    for info in bundle:
        path = _safe_path(info.name, where)
        if info.isdir():
            yield Member(path, "dir", handle=info)
        elif info.isreg():
            total += info.size
            if total > max_size:  # stop reading a bomb as soon as it is one
                raise _unpacked_too_big(where, max_size)
            yield Member(path, "file", info.size, bool(info.mode & 0o111), handle=info)
        elif info.issym():
            yield Member(path, "symlink", link=info.linkname, handle=info)
        elif info.islnk():
            yield Member(path, "hardlink", link=_safe_path(info.linkname, where, what="hard link target"), handle=info)
        elif info.ischr() or info.isblk():
            raise _refuse(where, f"{info.name} is a device file")
        elif info.isfifo():
            raise _refuse(where, f"{info.name} is a fifo")
        else:
            raise _refuse(where, f"{info.name} has tar member type {info.type!r}, which is not extracted")


def _zip_members(bundle: zipfile.ZipFile, where: str) -> Iterator[Member]:
    for info in bundle.infolist():
        if info.flag_bits & 0x1:
            raise _refuse(where, f"{info.filename} is encrypted")
        path = _safe_path(info.filename, where)
        mode = info.external_attr >> 16
        if info.is_dir():
            yield Member(path, "dir", handle=info)
        elif stat.S_ISLNK(mode):
            if info.file_size > 4096:
                raise _refuse(where, f"symlink {info.filename} has a {info.file_size} byte target")
            yield Member(path, "symlink", link=bundle.read(info).decode("utf-8", "replace"), handle=info)
        elif mode and not stat.S_ISREG(mode) and stat.S_IFMT(mode) != 0:
            raise _refuse(where, f"{info.filename} is not a regular file (mode {oct(mode)})")
        else:
            yield Member(path, "file", info.file_size, bool(mode & 0o111), handle=info)


def _validate(found: Iterator[Member], max_size: int, where: str) -> list[Member]:
    members: list[Member] = []
    kinds: dict[str, MemberKind] = {}
    total = 0
    for member in found:
        if len(members) >= MAX_MEMBERS:
            raise _refuse(where, f"it has more than {MAX_MEMBERS} members")
        if member.path == "":
            continue  # "./": the root itself
        previous = kinds.get(member.path)
        if previous is not None and not (previous == "dir" and member.kind == "dir"):
            raise _refuse(where, f"{member.path} appears twice")
        for parent in _parents(member.path):
            if kinds.get(parent) in ("symlink", "hardlink", "file"):
                raise _refuse(where, f"{member.path} lies under {parent}, which is not a folder")
        if member.kind == "symlink":
            _check_symlink(member, where)
        elif member.kind == "hardlink":
            if kinds.get(member.link) != "file":
                raise _refuse(where, f"hard link {member.path} -> {member.link} does not point to a file extracted before it")
        elif member.kind == "file":
            total += member.size
            if total > max_size:
                raise _unpacked_too_big(where, max_size)
        kinds[member.path] = member.kind
        members.append(member)
    return members


def _check_symlink(member: Member, where: str) -> None:
    target = member.link
    if not target or "\0" in target:
        raise _refuse(where, f"symlink {member.path} has an empty target")
    if target.startswith("/") or target.startswith("\\") or (len(target) > 1 and target[1] == ":"):
        raise _refuse(where, f"symlink {member.path} -> {target} is absolute")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(member.path), target))
    if resolved == ".." or resolved.startswith("../"):
        raise _refuse(where, f"symlink {member.path} -> {target} points outside the archive")


def _write(members: list[Member], destination: Path, reader: Any, max_size: int, where: str) -> None:
    destination.mkdir(parents=True)
    written = 0
    # Folders and files first, then hard links, then symlinks: nothing is ever written through a link.
    for member in members:
        target = destination / member.path
        if member.kind == "dir":
            target.mkdir(parents=True, exist_ok=True)
        elif member.kind == "file":
            target.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            descriptor = os.open(target, flags, 0o755 if member.executable else 0o644)
            source: IO[bytes] | None = reader(member)
            with os.fdopen(descriptor, "wb") as sink:
                if source is None:
                    continue
                with source:
                    while chunk := source.read(_CHUNK):
                        written += len(chunk)
                        if written > max_size:
                            raise _unpacked_too_big(where, max_size)
                        sink.write(chunk)
    for member in members:
        if member.kind == "hardlink":
            target = destination / member.path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(destination / member.link, target)
    for member in members:
        if member.kind == "symlink":
            target = destination / member.path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(member.link, target)


def _check_links(root: Path, where: str) -> None:
    """Every symlink, resolved on disk (links through links included), still lands inside ``root``."""
    real_root = os.path.realpath(root)
    for folder, dirs, names in os.walk(root):
        for name in [*dirs, *names]:
            full = os.path.join(folder, name)
            if os.path.islink(full):
                resolved = os.path.realpath(full)
                if resolved != real_root and not resolved.startswith(real_root + os.sep):
                    raise _refuse(where, f"symlink {os.path.relpath(full, root)} -> {os.readlink(full)} resolves outside the archive")


def _parents(path: str) -> Iterator[str]:
    parts = path.split("/")
    for index in range(1, len(parts)):
        yield "/".join(parts[:index])


def _safe_path(name: str, where: str, *, what: str = "member") -> str:
    """A member name as a normalised relative path; absolute paths, drive letters and '..' are refused."""
    if "\0" in name or "\\" in name:
        raise _refuse(where, f"{what} {name!r} has a NUL or backslash in its name")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise _refuse(where, f"{what} {name} is an absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise _refuse(where, f"{what} {name} climbs out with '..'")
    return "/".join(parts)


def _refuse(where: str, why: str) -> ConfigError:
    return ConfigError(f"{where}: unsafe archive refused, nothing extracted: {why}", hint="Use an archive without such members (see docs/provisioners/component.md#safety).")


def _unpacked_too_big(where: str, limit: int) -> ConfigError:
    return ConfigError(
        f"{where}: unsafe archive refused, nothing extracted: it unpacks to more than the {limit} byte limit",
        hint="Raise provision.component.max_size if the archive is meant to be that large.",
    )
