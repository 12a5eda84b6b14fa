"""Fixtures: a real Azurite (session scope), a counting proxy per test, and run helpers.

Blob service properties (soft delete) belong to an account, so every test that needs a
clean account takes a fresh one from a pool that Azurite is started with; containers are
unique per test. Nothing is reset between tests, so they may run in any order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

import provisioner_backend_azure.plugin as azure_plugin
import support.azurite as azurite_support
from provisioner_core import BEFORE_TERRAFORM_INIT, AuthContext, ClientCache, ProvisionResult, ResolvedComponent
from provisioner_core.plugins.manager import PluginRegistry
from provisioner_core.runner import run_event
from support.azure_helpers import connection_auth, make_component
from support.azurite import INSTALL_HINT, AzuriteServer, CountingProxy, account_key, make_tls_files, start_azurite

POOL = tuple(f"provacct{i:03d}" for i in range(1, 151))  # one per test that takes `account`; raise it when tests are added


def require_azurite() -> None:
    """Fail (never skip) without Azurite: these tests are only worth something against the real server."""
    if azurite_support.find_azurite() is None:
        pytest.fail(f"Azurite is required for the Azure backend tests and was not found; {INSTALL_HINT}", pytrace=False)


@pytest.fixture(scope="session")
def azurite() -> Iterator[AzuriteServer]:
    """Azurite on a free loopback port, serving devstoreaccount1 and the account pool."""
    require_azurite()
    server = start_azurite({name: account_key(name) for name in POOL})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _pool() -> Iterator[str]:
    return iter(POOL)


@pytest.fixture
def account(_pool: Iterator[str]) -> str:
    """An account no other test touches (its blob service properties start at Azurite's defaults)."""
    account = next(_pool, None)
    if account is None:
        pytest.fail(f"the Azurite account pool ({len(POOL)}) is used up; raise POOL in conftest.py", pytrace=False)
    return account


@pytest.fixture
def container() -> str:
    return f"tfstate-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def _proxy(azurite: AzuriteServer) -> Iterator[CountingProxy]:
    counting = CountingProxy(azurite.url)
    yield counting
    counting.stop()


@pytest.fixture
def proxy(_proxy: CountingProxy) -> CountingProxy:
    """A counting proxy in front of Azurite, emptied for this test: what it records is what reached the server."""
    _proxy.reset()
    return _proxy


@pytest.fixture
def admin(azurite: AzuriteServer) -> Callable[[str], Any]:
    """A BlobServiceClient straight to Azurite (not through the proxy), to arrange and to assert."""
    from azure.storage.blob import BlobServiceClient

    def client(account: str) -> Any:
        return BlobServiceClient.from_connection_string(azurite.connection_string(account))

    return client


@pytest.fixture
def registry() -> PluginRegistry:
    """Core's built-ins plus this plugin, registered as its entry point would be."""
    registry = PluginRegistry(load_entrypoints=False, environ={}).load()
    registry.register(azure_plugin.plugin, name="backend-azurerm", distribution="provisioner-backend-azurerm", version="0.1.0")
    return registry


@pytest.fixture
def run(registry: PluginRegistry) -> Callable[..., ProvisionResult]:
    """Run the provisioner through core's runner (so errors arrive wrapped, with exit codes)."""

    def go(component: ResolvedComponent, auth: AuthContext, *, dry_run: bool = False, clients: ClientCache | None = None, event: str = BEFORE_TERRAFORM_INIT) -> ProvisionResult:
        outcomes = run_event(registry, event, component, auth, dry_run=dry_run, clients=clients if clients is not None else ClientCache())
        assert [o.provisioner for o in outcomes] == ["backend-azurerm"]
        return outcomes[0].result

    return go


@pytest.fixture
def via_proxy(azurite: AzuriteServer, proxy: CountingProxy) -> Callable[..., tuple[ResolvedComponent, AuthContext]]:
    """A component and its auth for ``account``/``container``, with the blob endpoint through the proxy."""

    def make(account: str, container: str, options: Mapping[str, Any] | None = None, **backend: Any) -> tuple[ResolvedComponent, AuthContext]:
        section = {"storage_account_name": account, "container_name": container, "key": "vpc/terraform.tfstate", **backend}
        return make_component(section, options), connection_auth(azurite.connection_string(account, base=proxy.url))

    return make


@pytest.fixture(scope="session")
def azurite_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteServer]:
    """A second Azurite over HTTPS (a throwaway CA) that accepts Azure AD bearer tokens (--oauth basic)."""
    require_azurite()
    tls = make_tls_files(tmp_path_factory.mktemp("azurite-tls"))
    server = start_azurite({name: account_key(name) for name in POOL}, tls=tls, oauth=True)
    yield server
    server.stop()


@pytest.fixture
def no_azure_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answer NXDOMAIN for *.blob.core.windows.net (how a missing account looks) without asking a resolver."""
    import socket

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host).endswith(".blob.core.windows.net"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
