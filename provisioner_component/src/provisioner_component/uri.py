"""go-getter style source addresses (``git::https://host/repo.git//subdir?ref=v1``), split into parts.

Only parsing happens here: no file is read and nothing is fetched. The rules follow
go-getter as Atmos uses it: a forced getter (``git::``), a ``//subdir`` after the address, query
parameters (``ref``, ``depth``, ``checksum``, ``archive``), the ``github.com/owner/repo``
shorthand, scp-like ``git@host:path`` addresses, and plain paths for local folders.
"""

from __future__ import annotations

import posixpath
import re
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from attrs import field, frozen

from provisioner_core import ConfigError

Kind = Literal["git", "local", "archive"]

# Longest first: ".tar.gz" must win over ".gz".
ARCHIVE_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".tar.gz", "tar.gz"),
    (".tgz", "tar.gz"),
    (".tar.bz2", "tar.bz2"),
    (".tbz2", "tar.bz2"),
    (".tar.xz", "tar.xz"),
    (".txz", "tar.xz"),
    (".tar", "tar"),
    (".zip", "zip"),
)
ARCHIVE_FORMATS = frozenset(fmt for _, fmt in ARCHIVE_SUFFIXES) | {"tgz"}

# Getters and schemes go-getter (or Atmos) knows and we do not fetch yet: named in the error.
UNSUPPORTED_GETTERS = {"s3": "Amazon S3", "gcs": "Google Cloud Storage", "hg": "Mercurial", "oci": "OCI registries"}
UNSUPPORTED_SCHEMES = {"s3": "Amazon S3", "gs": "Google Cloud Storage", "gcs": "Google Cloud Storage", "oci": "OCI registries", "hg": "Mercurial"}
# go-getter's host shorthands for git over https.
GIT_HOSTS = ("github.com", "gitlab.com")

_FORCED = re.compile(r"^([A-Za-z0-9]+)::(.*)$", re.DOTALL)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SCP = re.compile(r"^(?P<user>[A-Za-z0-9_][A-Za-z0-9._-]*)@(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*):(?P<path>[^/].*)$")
_DOMAIN_LIKE = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?/")
_REGISTRY = re.compile(r"^([A-Za-z0-9.-]+\.[A-Za-z]+/)?[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$")
# A git ref we pass to git: never an option (no leading "-"), no whitespace, no "..", no "@{".
_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/+-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
GIT_QUERY_KEYS = frozenset({"ref", "depth", "sshkey"})
ARCHIVE_QUERY_KEYS = frozenset({"checksum", "archive"})


@frozen
class Address:
    """A parsed source address: what to fetch, from where, and which part of it."""

    kind: Kind
    location: str  # git: the repository URL; archive: the URL or file path; local: the path
    subdir: str = ""  # the part of the fetched tree to vendor ("" for all of it)
    ref: str | None = None  # git only: a tag, branch or commit
    checksum: str | None = None  # "sha256:<hex>" (archives)
    archive_format: str | None = None  # archives: tar.gz, tar.bz2, tar.xz, tar or zip
    username: str | None = None  # from https://user:secret@host/… (moved out of the URL)
    password: str | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()

    def secrets(self) -> tuple[str, ...]:
        """Credentials written into the address (both parts: a lone user name is often a token)."""
        return tuple(s for s in (self.username, self.password) if s)


def is_registry_address(text: str) -> bool:
    """``namespace/name/provider`` or ``host/namespace/name/provider`` (the Terraform registry)."""
    return bool(_REGISTRY.match(text))


def parse_address(text: str, *, where: str, version: str | None = None) -> Address:
    """Parse ``text`` (a go-getter address); ``version`` is Atmos's separate ``version`` field."""
    original = text
    text = text.strip()
    if not text:
        raise ConfigError(f"{where} is empty", hint='Write a source such as "git::https://github.com/org/repo.git//modules/vpc?ref=v1.2.0".')
    if text.startswith("-") or "\0" in text or "\n" in text:
        raise ConfigError(f"{where}: {redact_url(text)!r} is not a source address", hint="An address may not start with '-' or hold control characters.")
    forced = None
    match = _FORCED.match(text)
    if match and not _SCHEME.match(text):
        forced, text = match.group(1).lower(), match.group(2)
        if forced in UNSUPPORTED_GETTERS:
            raise _unsupported(f"{forced}::", UNSUPPORTED_GETTERS[forced], where)
        if forced not in ("git", "file", "http", "https"):
            raise _unsupported(f"{forced}::", f"the '{forced}' getter", where)
    scheme_match = _SCHEME.match(text)
    scheme = scheme_match.group(1).lower() if scheme_match else None
    if scheme in UNSUPPORTED_SCHEMES:
        raise _unsupported(f"{scheme}://", UNSUPPORTED_SCHEMES[scheme], where)
    if scheme is not None and scheme not in ("https", "http", "ssh", "file", "git"):
        raise _unsupported(f"{scheme}://", f"the '{scheme}' scheme", where)

    base, query = _split_query(text)
    base, subdir = _split_subdir(base)
    params = parse_qsl(query, keep_blank_values=True)
    keys = [k for k, _ in params]
    duplicated = sorted({k for k in keys if keys.count(k) > 1 and k in GIT_QUERY_KEYS | ARCHIVE_QUERY_KEYS})
    if duplicated:
        raise ConfigError(f"{where}: query parameter '{duplicated[0]}' is given twice in {_redact_url(original)}", hint="Give each of ref, checksum and archive once.")
    values = dict(params)

    kind = _kind(forced, scheme, base, values, where)
    warnings: list[str] = []
    if kind == "git":
        location, extra_subdir, username, password = _git_location(base, scheme, where)
        subdir = _join_subdir(extra_subdir, subdir)
        unknown = [k for k in keys if k not in GIT_QUERY_KEYS]
        if unknown:
            raise ConfigError(
                f"{where}: unknown query parameter '{unknown[0]}' for a git source",
                hint="A git source takes ?ref=<tag, branch or commit>; put a subfolder after // (repo.git//modules/vpc).",
            )
        if "sshkey" in values:
            raise ConfigError(
                f"{where}: ?sshkey= (a private key in the URL) is not supported",
                hint="Load the key into your SSH agent (ssh-add) or set GIT_SSH_COMMAND; see docs/provisioners/component.md#credentials.",
            )
        if "depth" in values:
            warnings.append(f"{where}: ?depth= is ignored; only the pinned ref is fetched, always with depth 1")
        ref = values.get("ref") or None
        if version and ref and version != ref:
            # Atmos appends version only when the address has no ref: the address wins.
            warnings.append(f"{where}: the address pins ref={ref}; version {version!r} is ignored (as Atmos does)")
        ref = ref or version or None
        if ref is not None:
            _check_ref(ref, where)
        return Address("git", location, _clean_subdir(subdir, where), ref=ref, username=username, password=password, warnings=tuple(warnings))

    if kind == "archive":
        checksum = _checksum(values.get("checksum"), where) if "checksum" in values else None
        fmt = values.get("archive") or _suffix_format(_path_of(base, scheme))
        if fmt == "tgz":
            fmt = "tar.gz"
        if fmt not in ARCHIVE_FORMATS:
            raise ConfigError(
                f"{where}: archive={fmt} is not a format we extract",
                hint="Supported: tar.gz (tgz), tar.bz2, tar.xz, tar, zip.",
            )
        rest = [(k, v) for k, v in params if k not in ARCHIVE_QUERY_KEYS and k != "ref"]
        if "ref" in values:
            raise ConfigError(f"{where}: ?ref= applies to git sources, not archives", hint="Put the version in the archive's URL (…/vpc-1.2.0.tar.gz).")
        if version:
            warnings.append(f"{where}: version {version!r} is ignored for an archive; put the version in its URL (as Atmos documents)")
        location, username, password = _archive_location(base, scheme, rest, where)
        return Address(
            "archive", location, _clean_subdir(subdir, where), checksum=checksum, archive_format=fmt,
            username=username, password=password, warnings=tuple(warnings),
        )

    if query:
        raise ConfigError(f"{where}: a local folder takes no query parameters ({_redact_url(original)})", hint="Write the path alone, e.g. ./vendor-src/vpc.")
    if version:
        warnings.append(f"{where}: version {version!r} is ignored for a local folder")
    path = base[len("file://"):] if scheme == "file" else base
    return Address("local", path, _clean_subdir(subdir, where), warnings=tuple(warnings))


def _kind(forced: str | None, scheme: str | None, base: str, values: dict[str, str], where: str) -> Kind:
    path = _path_of(base, scheme)
    archive = "archive" in values or _suffix_format(path) is not None
    if forced == "git" or scheme in ("ssh", "git") or _SCP.match(base):
        return "git"
    if forced in ("http", "https"):
        return "archive"
    if scheme in ("https", "http"):
        if archive:
            return "archive"
        if path.endswith(".git") or urlsplit(base).hostname in GIT_HOSTS:
            return "git"
        raise ConfigError(
            f"{where}: cannot tell whether {_redact_url(base)} is a git repository or an archive",
            hint="Prefix git:: for a repository (git::https://host/org/repo.git?ref=v1), or give an archive URL ending in .tar.gz, .tgz or .zip.",
        )
    if scheme == "file" or forced == "file":
        return "archive" if archive else "local"
    if base.startswith(tuple(f"{host}/" for host in GIT_HOSTS)):
        return "git"
    if base.startswith(("/", "./", "../", "~/")) or base in (".", ".."):
        return "archive" if archive else "local"
    if _DOMAIN_LIKE.match(base):
        raise _unsupported(base.split("/", 1)[0], "this host without a getter prefix", where, hint_extra=" Prefix git:: for a git repository on it.")
    # Atmos: anything else without a scheme is a path relative to the project.
    return "archive" if archive else "local"


def _split_query(text: str) -> tuple[str, str]:
    if "?" in text:
        base, query = text.split("?", 1)
        return base, query
    return text, ""


def _split_subdir(base: str) -> tuple[str, str]:
    """``https://host/repo.git//modules/vpc`` -> (``https://host/repo.git``, ``modules/vpc``), as go-getter."""
    start = 0
    scheme = _SCHEME.match(base)
    if scheme:
        start = scheme.end()
        if base[start:].startswith("/"):
            start += 1  # file:///abs: the path's own leading slash
    index = base.find("//", start)
    if index == -1:
        return base, ""
    return base[:index], base[index + 2 :]


def _join_subdir(first: str, second: str) -> str:
    return "/".join(part for part in (first.strip("/"), second.strip("/")) if part)


def _clean_subdir(subdir: str, where: str) -> str:
    subdir = subdir.strip("/")
    if not subdir or subdir == ".":
        return ""
    if "\\" in subdir or "\0" in subdir or any(part == ".." for part in subdir.split("/")):
        raise ConfigError(f"{where}: the subfolder //{subdir} must stay inside the source", hint="Remove '..' and backslashes from the part after //.")
    return posixpath.normpath(subdir)


def _path_of(base: str, scheme: str | None) -> str:
    if scheme in ("http", "https", "file"):
        return urlsplit(base).path
    return base


def _suffix_format(path: str) -> str | None:
    lowered = path.lower()
    for suffix, fmt in ARCHIVE_SUFFIXES:
        if lowered.endswith(suffix):
            return fmt
    return None


def _git_location(base: str, scheme: str | None, where: str) -> tuple[str, str, str | None, str | None]:
    """The URL git fetches from, a subfolder carried in the shorthand, and https credentials moved out of it."""
    if scheme is None and not _SCP.match(base):
        for host in GIT_HOSTS:
            if base.startswith(f"{host}/"):
                segments = base.split("/")
                if len(segments) < 3 or not segments[1] or not segments[2]:
                    raise ConfigError(f"{where}: {base} must name an owner and a repository", hint=f"Write {host}/OWNER/REPO//path?ref=v1.")
                repo = segments[2] if segments[2].endswith(".git") else segments[2] + ".git"
                return f"https://{host}/{segments[1]}/{repo}", "/".join(segments[3:]), None, None
        if base.startswith(("/", "./", "../")):
            raise ConfigError(
                f"{where}: a git repository on disk is written git::file:///absolute/path/to/repo",
                hint="git needs an absolute file:// URL; relative repository paths are ambiguous.",
            )
        raise ConfigError(f"{where}: cannot read {base!r} as a git URL", hint="Use git::https://host/org/repo.git, git::ssh://git@host/org/repo.git or git@host:org/repo.git.")
    if scheme in ("https", "http"):
        parts = urlsplit(base)
        if parts.username is not None or parts.password is not None:
            # Credentials never reach git's command line: they go in an HTTP header (docs: credentials).
            host = parts.hostname or ""
            netloc = host + (f":{parts.port}" if parts.port else "")
            return urlunsplit((parts.scheme, netloc, parts.path, "", "")), "", parts.username or None, parts.password or None
    if scheme == "file" and not base.startswith("file:///"):
        raise ConfigError(f"{where}: {base} must be an absolute file:/// URL", hint="Write git::file:///absolute/path/to/repo.")
    return base, "", None, None


def _archive_location(base: str, scheme: str | None, rest: list[tuple[str, str]], where: str) -> tuple[str, str | None, str | None]:
    if scheme in ("https", "http"):
        parts = urlsplit(base)
        username = parts.username or None
        password = parts.password or None
        netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, urlencode(rest), "")), username, password
    if rest:
        raise ConfigError(f"{where}: a local archive takes no query parameters but checksum and archive", hint="Remove the other parameters.")
    if scheme == "file":
        return urlsplit(base).path, None, None
    return base, None, None


def _check_ref(ref: str, where: str) -> None:
    if not _REF.match(ref) or ".." in ref or "@{" in ref or ref.endswith((".lock", "/", ".")):
        raise ConfigError(
            f"{where}: {ref!r} is not a git ref we accept",
            hint="Give a tag (v1.2.0), a branch (main) or a commit SHA; it may not start with '-' or contain spaces or '..'.",
        )


def _checksum(value: str | None, where: str) -> str:
    text = (value or "").strip()
    algorithm, _, digest = text.partition(":")
    if not digest:
        algorithm, _, digest = text.partition("=")
    algorithm, digest = algorithm.lower(), digest.strip().lower()
    if algorithm != "sha256":
        raise ConfigError(
            f"{where}: checksum {text!r}: only sha256 is supported",
            hint="Write checksum: sha256:<64 hex digits> (sha256sum FILE prints it).",
        )
    if not _SHA256.match(digest):
        raise ConfigError(f"{where}: checksum {text!r} is not a sha256 digest", hint="A sha256 digest is 64 hexadecimal digits: sha256:<hex>.")
    return f"sha256:{digest}"


def parse_checksum(value: str, where: str) -> str:
    """``sha256:<hex>`` (or ``sha256=<hex>``), normalised; anything else is a ConfigError."""
    return _checksum(value, where)


def _unsupported(what: str, name: str, where: str, hint_extra: str = "") -> ConfigError:
    return ConfigError(
        f"{where}: {what} sources ({name}) are not supported yet",
        hint="Supported now: git (git::https://, git::ssh://, git@host:path, git::file:///), HTTP(S) archives (.tar.gz, .tgz, .zip) and local folders." + hint_extra,
        context={"source": what},
    )


def redact_url(text: str) -> str:
    """``https://user:secret@host/x`` -> ``https://user:***@host/x`` (for every message)."""
    return _redact_url(text)


_USERINFO = re.compile(r"(?P<scheme>https?://)(?P<user>[^/@:\s]*)(?::(?P<password>[^/@\s]*))?@", re.IGNORECASE)


def _redact_url(text: str) -> str:
    # http(s) user names are masked too (a token is often given as the user); ssh's git@ is kept.
    return _USERINFO.sub(lambda m: f"{m.group('scheme')}***@", text)
