"""terraform's ``http`` backend as a third party would add it: backend type, credentials, provisioner, command.

The state server (tests/support/http_state.py) keeps states in namespaces that must exist
before terraform can use them: the provisioner creates the namespace of ``backend.http.address``.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import click
from attrs import field, frozen

from provisioner_core import (
    BEFORE_TERRAFORM_INIT,
    MANUAL_PROVISION,
    AuthContext,
    BackendType,
    ChangeRecorder,
    ClientCache,
    ConfigError,
    CredentialProvider,
    NetworkError,
    ProvisionerSpec,
    ProvisionResult,
    ResolvedComponent,
    provisioner,
)


@frozen
class BasicCredentials:
    username: str
    password: str = field(repr=False)

    def fingerprint(self) -> str:
        return f"basic:{self.username}"

    def secrets(self) -> tuple[str, ...]:
        return (self.password,)

    def terraform_env(self) -> dict[str, str]:
        return {"TF_HTTP_USERNAME": self.username, "TF_HTTP_PASSWORD": self.password}


def _basic(settings: Mapping[str, Any]) -> BasicCredentials:
    return BasicCredentials(str(settings["username"]), str(settings["password"]))


PROVIDER = CredentialProvider(
    "httpstate", "basic", _basic, required=("username", "password"), description="basic auth for an http state server",
    example="auth:\n  providers:\n    httpstate:\n      type: basic\n      username: ...\n      password: ...",
    ambient_env=("TF_HTTP_USERNAME", "TF_HTTP_PASSWORD"),
)  # fmt: skip


def _request(method: str, url: str, creds: BasicCredentials) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method)
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the test server on loopback
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError as error:
        raise NetworkError(f"http state server {url} unreachable: {error}", hint="Start the server, or check backend.http.address.") from None


def _namespace(address: str) -> tuple[str, str]:
    parts = urlsplit(address)
    segments = parts.path.strip("/").split("/")
    if len(segments) < 3 or segments[0] != "state":
        raise ConfigError(f"backend.http.address {address!r} must look like http://host/state/<namespace>/<name>", hint="Fix backend.http.address.")
    return f"{parts.scheme}://{parts.netloc}", segments[1]


def read_state(component: ResolvedComponent, auth: AuthContext, clients: ClientCache) -> bytes | None:
    creds = auth.require("httpstate")
    assert isinstance(creds, BasicCredentials)
    status, body = _request("GET", str(component.backend["address"]), creds)
    return body if status == 200 else None


HTTP_BACKEND = BackendType(
    "http", scheme="http-state:", address_keys=("address",), identity_keys=("address",),
    state_object=lambda backend, workspace: "", workspaces=False, secret_env={"password": "TF_HTTP_PASSWORD"}, read_state=read_state,
    url_env={"address": "TF_HTTP_ADDRESS", "lock_address": "TF_HTTP_LOCK_ADDRESS", "unlock_address": "TF_HTTP_UNLOCK_ADDRESS"},
    description="terraform's http backend (no workspaces)",
)  # fmt: skip

SPEC = ProvisionerSpec(
    name="backend-http", type="backend", events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION),
    description="Creates the namespace of an http state server", backend_types=("http",),
)  # fmt: skip


def run(component: ResolvedComponent, auth: AuthContext, dry_run: bool) -> ProvisionResult:
    creds = auth.require("httpstate")
    assert isinstance(creds, BasicCredentials)
    base, namespace = _namespace(str(component.backend.get("address") or ""))
    recorder = ChangeRecorder(f"namespace {namespace}", dry_run=dry_run)
    status, _ = _request("GET", f"{base}/admin/{namespace}", creds)
    if status == 404:
        recorder.write("create-namespace", f"namespace {namespace}", lambda: _request("PUT", f"{base}/admin/{namespace}", creds), creates=True)
    elif status != 200:
        raise ConfigError(f"the state server answered {status} for namespace {namespace}", hint="Check the credentials under auth.providers.httpstate.")
    return recorder.result()


def commands(cli: click.Group) -> None:
    @cli.command("contract-store")
    @click.argument("url")
    def contract_store(url: str) -> None:
        """List the namespaces of an http state server (credentials from CONTRACT_USER / CONTRACT_PASSWORD)."""
        creds = BasicCredentials(os.environ.get("CONTRACT_USER", ""), os.environ.get("CONTRACT_PASSWORD", ""))
        status, body = _request("GET", f"{url.rstrip('/')}/admin/_all", creds)
        click.echo(", ".join(json.loads(body)) if status == 200 else f"error {status}")


plugin = provisioner(SPEC, run, backend_types=(HTTP_BACKEND,), credential_providers=(PROVIDER,), commands=commands, requires_api="1.0")
