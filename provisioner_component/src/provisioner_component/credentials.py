"""Credentials for private git sources: ``auth.providers.git`` of the component.

::

    auth:
      providers:
        git:
          type: token              # an https token, sent as an HTTP header (never on a command line)
          token_env: GITHUB_TOKEN  # the environment variable that holds it (or token: "...", discouraged)
          username: x-access-token # the user name to pair it with (GitHub's default shown)
          hosts: [github.com]      # optional: send it to these hosts only

        git:
          type: ssh-key            # for git@ / ssh:// URLs when your agent does not hold the key
          key_file: ~/.ssh/deploy_key

Without a ``git`` provider, https sources are fetched anonymously and ssh sources use your SSH
agent (and your ``~/.ssh/config``), exactly as ``git`` does on the command line.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from attrs import field, frozen

from provisioner_component.git import GitAccess, access_for, basic_header
from provisioner_core import ConfigError

PROVIDER_TYPES = ("token", "ssh-key")


@frozen
class GitCredentials:
    """``method``: ``token`` (https header) or ``ssh-key`` (``ssh -i KEY``)."""

    method: str
    token: str | None = field(default=None, repr=False)
    username: str = "x-access-token"
    hosts: tuple[str, ...] = ()
    key_file: str | None = None

    def secrets(self) -> tuple[str, ...]:
        """The token and the header value built from it, for redaction everywhere."""
        if not self.token:
            return ()
        return (self.token, basic_header(self.username, self.token).split(" ", 2)[2])

    def fingerprint(self) -> str:
        raw = "\0".join([self.method, self.token or "", self.username, ",".join(self.hosts), self.key_file or ""])
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def terraform_env(self) -> dict[str, str]:
        return {}  # for fetching sources only; terraform gets nothing from it

    def access(self, url: str) -> GitAccess:
        """What git needs for ``url``: the header for a token (on its hosts), the ssh command for a key."""
        if self.method == "ssh-key":
            assert self.key_file is not None
            command = f"ssh -i {shlex.quote(self.key_file)} -o IdentitiesOnly=yes -o BatchMode=yes"
            return access_for(url, ssh_command=command)
        host = urlsplit(url).hostname or ""
        if self.hosts and host not in self.hosts:
            return GitAccess()
        return access_for(url, username=self.username, secret=self.token)


def git_credentials(provider_type: str, settings: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> GitCredentials:
    """Build the credentials of ``auth.providers.git``; a ConfigError names what is missing."""
    environ = os.environ if environ is None else environ
    where = "auth.providers.git"
    if provider_type == "token":
        token = settings.get("token")
        variable = settings.get("token_env")
        if variable is not None:
            if not isinstance(variable, str) or not variable:
                raise ConfigError(f"{where}.token_env must name an environment variable", hint="Write token_env: GITHUB_TOKEN.")
            token = environ.get(variable)
            if not token:
                raise ConfigError(f"{where}: the environment variable {variable} is not set (or empty)", hint=f"Export {variable} with the token before running.")
        if not isinstance(token, str) or not token:
            raise ConfigError(f"{where} (type: token) needs token_env (or token)", hint="Write token_env: GITHUB_TOKEN; keep the token itself out of stack files.")
        username = settings.get("username") or "x-access-token"
        hosts = settings.get("hosts") or []
        if isinstance(hosts, str):
            hosts = [hosts]
        if not isinstance(username, str) or not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise ConfigError(f"{where}: username must be a string and hosts a list of host names", hint="Write hosts: [github.com].")
        return GitCredentials("token", token=token, username=username, hosts=tuple(hosts))
    if provider_type == "ssh-key":
        key_file = settings.get("key_file")
        if not isinstance(key_file, str) or not key_file:
            raise ConfigError(f"{where} (type: ssh-key) needs key_file", hint="Write key_file: ~/.ssh/deploy_key.")
        path = os.path.expanduser(key_file)
        if not os.path.isfile(path):
            raise ConfigError(f"{where}.key_file {key_file} does not exist", hint="Point it at a private key file readable by you.")
        return GitCredentials("ssh-key", key_file=path)
    raise ConfigError(f"{where}: unknown type {provider_type!r}", hint=f"Types: {', '.join(PROVIDER_TYPES)}.")
