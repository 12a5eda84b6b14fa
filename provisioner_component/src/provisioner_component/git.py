"""Fetch one ref of a git repository with the real ``git`` binary: shallow, quiet, never prompting.

``git init`` + ``git fetch --depth 1 <url> <ref>`` + ``git checkout --detach <commit>``: only the
one commit travels. A commit SHA is fetched directly; a server that refuses that (protocol v0
without ``uploadpack.allowReachableSHA1InWant``) gets a full fetch of its branches and tags.

Credentials never appear on a command line: an https token travels as an HTTP header set
through ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n`` in git's environment,
scoped to the repository's host; SSH uses the user's agent (or ``GIT_SSH_COMMAND``). Every
message built from git's output is redacted first.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from attrs import field, frozen

from provisioner_component.uri import redact_url
from provisioner_core import ConfigError, NetworkError, PermissionDenied, ProvisionerError

DEFAULT_TIMEOUT_S = 600.0
_HEX_SHA = re.compile(r"^[0-9a-f]{7,64}$")
_FULL_SHA = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")
_AUTH = ("authentication failed", "could not read username", "could not read password", "permission denied", "403", "401", "access denied", "invalid credentials")
_MISSING_REF = ("couldn't find remote ref", "not our ref", "unadvertised object", "no such remote ref", "invalid refspec", "upload-pack: not our ref")
_NO_REPO = ("repository not found", "does not appear to be a git repository", "not found", "no such file or directory", "does not exist")
_NETWORK = ("could not resolve host", "connection refused", "connection timed out", "timed out", "network is unreachable", "unable to access",
            "connection reset", "early eof", "the remote end hung up", "ssl", "tls", "rpc failed", "operation timed out")


@frozen
class GitAccess:
    """How git reaches one repository: extra environment (never arguments) and secrets to mask."""

    env: Mapping[str, str] = field(factory=dict)
    secrets: tuple[str, ...] = field(default=(), repr=False)


def basic_header(username: str, secret: str) -> str:
    return "Authorization: Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


def access_for(url: str, *, username: str | None = None, secret: str | None = None, ssh_command: str | None = None) -> GitAccess:
    """The environment that hands ``secret`` (an https token or password) to git for ``url``'s host only."""
    env: dict[str, str] = {}
    secrets: list[str] = []
    parts = urlsplit(url)
    if secret and parts.scheme in ("https", "http"):
        header = basic_header(username or "x-access-token", secret)
        scope = f"{parts.scheme}://{parts.netloc}/"
        env.update(_config_env({f"http.{scope}.extraHeader": header}))
        secrets += [secret, header.split(" ", 2)[2]]
        if username and len(username) >= 8:
            secrets.append(username)  # a token given as the user name
    if ssh_command:
        env["GIT_SSH_COMMAND"] = ssh_command
    return GitAccess(env, tuple(secrets))


def _config_env(settings: Mapping[str, str]) -> dict[str, str]:
    """Settings for git through GIT_CONFIG_COUNT, after any the user already passes that way."""
    try:
        start = int(os.environ.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        start = 0
    env = {}
    for offset, (key, value) in enumerate(settings.items()):
        env[f"GIT_CONFIG_KEY_{start + offset}"] = key
        env[f"GIT_CONFIG_VALUE_{start + offset}"] = value
    env["GIT_CONFIG_COUNT"] = str(start + len(settings))
    return env


class Git:
    """Runs ``git`` (found on PATH at each call) with a fixed, non-interactive environment."""

    def __init__(self, access: GitAccess, redact: Callable[[str], str] | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.access = access
        self.timeout_s = timeout_s
        self._redact = redact
        self.calls = 0

    def redact(self, text: str) -> str:
        for secret in sorted(self.access.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        text = redact_url(text)
        return self._redact(text) if self._redact is not None else text

    def run(self, args: Sequence[str], cwd: Path | None = None) -> str:
        binary = shutil.which("git")
        if binary is None:
            raise ConfigError("git is not installed (needed for git sources)", hint="Install git (apt-get install git, brew install git) and run again.")
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "LANG": "C", **self.access.env}
        env.pop("GIT_DIR", None)
        env.pop("GIT_WORK_TREE", None)
        self.calls += 1
        try:
            done = subprocess.run([binary, *args], cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=self.timeout_s)
        except subprocess.TimeoutExpired as error:
            raise NetworkError(f"git {args[0]} timed out after {self.timeout_s:g}s", hint="Check that the repository is reachable, or raise provision.component.timeout.") from error
        if done.returncode != 0:
            raise GitFailed(list(args), done.returncode, self.redact(done.stderr.strip()))
        return done.stdout


class GitFailed(Exception):
    """A git command exited non-zero; ``stderr`` is already redacted."""

    def __init__(self, args: list[str], code: int, stderr: str) -> None:
        super().__init__(f"git {args[0]} exited {code}: {stderr}")
        self.args_ = args
        self.code = code
        self.stderr = stderr

    def lowered(self) -> str:
        return self.stderr.lower()


def fetch_commit(git: Git, url: str, want: str | None, work: Path, *, where: str) -> str:
    """Fetch ``want`` (a ref, a commit or None for the default branch) into the new folder ``work``;
    check it out without ``.git``; return the commit SHA."""
    shown = redact_url(url)
    git.run(["init", "-q", str(work)])
    try:
        try:
            git.run(["fetch", "--depth", "1", "--no-tags", "-q", "--end-of-options", url, want or "HEAD"], cwd=work)
            commit = git.run(["rev-parse", "--verify", "-q", "FETCH_HEAD^{commit}"], cwd=work).strip()
        except GitFailed as error:
            if want is None or not _HEX_SHA.match(want) or not any(marker in error.lowered() for marker in _MISSING_REF):
                raise
            # A server that will not hand out a commit by SHA: fetch its branches and tags, then look.
            git.run(["fetch", "--no-tags", "-q", "--end-of-options", url, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"], cwd=work)
            try:
                commit = git.run(["rev-parse", "--verify", "-q", f"{want}^{{commit}}"], cwd=work).strip()
            except GitFailed:
                raise ConfigError(
                    f"{where}: commit {want} is not in {shown}",
                    hint="Check the SHA (a short SHA must be reachable from a branch or tag), or pin a tag.",
                ) from None
        if want and _FULL_SHA.match(want) and commit != want:
            raise ConfigError(f"{where}: {shown} answered {commit} for commit {want}", hint="Check the SHA.")
        git.run(["-c", "advice.detachedHead=false", "checkout", "-q", "--detach", commit], cwd=work)
    except GitFailed as error:
        raise _classify(error, shown, want, where) from None
    shutil.rmtree(work / ".git")
    return commit


def _classify(error: GitFailed, shown: str, want: str | None, where: str) -> ProvisionerError:
    text = error.lowered()
    tail = _tail(error.stderr)
    ref = f" ref {want!r}" if want else " its default branch"
    if any(marker in text for marker in _MISSING_REF):
        return ConfigError(f"{where}:{ref} not found in {shown}: {tail}", hint="Check the tag, branch or commit (git ls-remote URL lists them).")
    if any(marker in text for marker in _AUTH):
        return PermissionDenied(
            f"{where}: git could not authenticate to {shown}: {tail}",
            hint="For https, set auth.providers.git (type: token, token_env: NAME); for git@ / ssh:// URLs, load your key into ssh-agent. See docs/provisioners/component.md#credentials.",
        )
    if any(marker in text for marker in _NETWORK):
        return NetworkError(f"{where}: git could not reach {shown}: {tail}", hint="Check the network, the host name and any proxy; the previous tree was left as it was.")
    if any(marker in text for marker in _NO_REPO):
        return ConfigError(f"{where}: {shown} is not a git repository git can read: {tail}", hint="Check the URL (and that you may read the repository).")
    return ProvisionerError(f"{where}: git failed on {shown}: {tail}", hint="Run the same git fetch by hand to see why; the previous tree was left as it was.")


def _tail(stderr: str, lines: int = 3) -> str:
    kept = [line.strip() for line in stderr.splitlines() if line.strip()]
    return " | ".join(kept[-lines:]) or "(no message)"


def is_full_sha(text: str | None) -> bool:
    return bool(text and _FULL_SHA.match(text))

