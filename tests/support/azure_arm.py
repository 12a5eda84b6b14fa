"""An in-memory Azure Resource Manager for the storage provisioner's tests: NOT a server.

No ARM emulator exists, so the management-plane tests plug this into azure-core's HTTP
transport (``RequestsTransport`` with a requests adapter): the real SDK clients build and
send real requests, and this answers them with the JSON documented by the ARM REST API
(resource groups 2025-04-01, Microsoft.Storage 2023-05-01 and later: storageAccounts,
checkNameAvailability, listKeys, blobServices/default, containers), keeping state so a
second run sees what the first created. Every request is recorded for assertions.

It behaves like Azure only as far as those documents say; it does not check permissions
unless a test installs a ``deny`` rule.
"""

from __future__ import annotations

import io
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import requests
import urllib3
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

ARM_HOST = "https://management.azure.com"
SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"

_RG = r"/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)"
_ACCOUNT = _RG + r"/providers/microsoft\.storage/storageaccounts/(?P<name>[^/]+)"
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", _RG + "$", "get_group"),
    ("PUT", _RG + "$", "put_group"),
    ("POST", r"/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.storage/checknameavailability$", "check_name"),
    ("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.storage/locations/[^/]+/asyncoperations/(?P<op>[^/]+)$", "poll"),
    ("GET", _ACCOUNT + "$", "get_account"),
    ("PUT", _ACCOUNT + "$", "put_account"),
    ("PATCH", _ACCOUNT + "$", "patch_account"),
    ("POST", _ACCOUNT + "/listkeys$", "list_keys"),
    ("GET", _ACCOUNT + "/blobservices/default$", "get_blob_service"),
    ("PUT", _ACCOUNT + "/blobservices/default$", "put_blob_service"),
    ("GET", _ACCOUNT + "/blobservices/default/containers$", "list_containers"),
)
READ_POSTS = ("/checknameavailability", "/listkeys")  # POSTs that change nothing


class FakeArm(BaseAdapter):
    """The ARM state and the requests adapter that serves it."""

    def __init__(self, blob_endpoint: Callable[[str], str], keys: Callable[[str], str], subscription: str = SUBSCRIPTION) -> None:
        super().__init__()
        self.subscription = subscription
        self.blob_endpoint = blob_endpoint
        self.keys = keys
        self.groups: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.blob_services: dict[str, dict[str, Any]] = {}
        self.containers: dict[str, list[dict[str, Any]]] = {}
        self.taken: set[str] = set()  # account names owned by someone else, somewhere in Azure
        self.deny: list[tuple[str, str, int, str, str]] = []  # (method, path regex, status, code, message)
        self.requests: list[tuple[str, str, Any]] = []
        self._operations: dict[str, str] = {}
        self._lock = threading.Lock()

    # --- test helpers ---------------------------------------------------------------------

    def add_group(self, name: str, location: str = "westeurope", tags: Mapping[str, str] | None = None) -> dict[str, Any]:
        group = {
            "id": f"/subscriptions/{self.subscription}/resourceGroups/{name}",
            "name": name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": location,
            "tags": dict(tags or {}),
            "properties": {"provisioningState": "Succeeded"},
        }
        self.groups[name.lower()] = group
        return group

    def add_account(self, group: str, name: str, *, properties: Mapping[str, Any] | None = None, blob_service: Mapping[str, Any] | None = None, **top: Any) -> dict[str, Any]:
        """An existing account, as GET storageAccounts returns it (defaults of a 2023 account, overridden by ``properties``)."""
        account = self._account_json(group, name, {"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, **top, "properties": dict(properties or {})})
        self.accounts[name] = account
        self.blob_services[name] = self._blob_service_json(name, blob_service or {"cors": {"corsRules": []}, "deleteRetentionPolicy": {"allowPermanentDelete": False, "enabled": False}})
        return account

    def writes(self) -> list[tuple[str, str, Any]]:
        """Requests that change something (PUT, PATCH, DELETE and POSTs other than the read-only actions)."""
        return [r for r in self.requests if r[0] in ("PUT", "PATCH", "DELETE") or (r[0] == "POST" and not r[1].lower().endswith(READ_POSTS))]

    def calls(self) -> list[str]:
        """``METHOD last-path-segments`` of every request, for order assertions."""
        out = []
        for method, path, _ in self.requests:
            parts = path.split("/")
            out.append(f"{method} {'/'.join(parts[-2:]) if len(parts) > 2 else path}")
        return out

    # --- requests adapter -------------------------------------------------------------------

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = requests.utils.urlparse(request.url or "")
        path = url.path
        body = json.loads(request.body) if request.body else None
        with self._lock:
            self.requests.append((request.method or "", path, body))
            status, payload, headers = self._dispatch(request.method or "", path, body)
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}.get(status, "Error")
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json; charset=utf-8", "x-ms-request-id": str(uuid.uuid4()), **headers})
        content = json.dumps(payload).encode() if payload is not None else b""
        # azure-core reads the urllib3 response underneath (content length checks, streaming).
        response.raw = urllib3.HTTPResponse(body=io.BytesIO(content), headers=dict(response.headers), status=status, preload_content=False, decode_content=False)
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        return None

    def _dispatch(self, method: str, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        for deny_method, pattern, status, code, message in self.deny:
            if method == deny_method and re.search(pattern, path, re.IGNORECASE):
                return status, {"error": {"code": code, "message": message}}, {}
        for route_method, pattern, handler in ROUTES:
            match = re.match(pattern, path, re.IGNORECASE)
            if method == route_method and match:
                args = match.groupdict()
                if args.pop("sub", self.subscription).lower() != self.subscription:
                    return 404, {"error": {"code": "SubscriptionNotFound", "message": f"The subscription '{path.split('/')[2]}' could not be found."}}, {}
                return getattr(self, handler)(body=body, **args)  # type: ignore[no-any-return]
        return 404, {"error": {"code": "NotImplementedInFake", "message": f"{method} {path}"}}, {}

    # --- resource groups ----------------------------------------------------------------------

    def get_group(self, rg: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        group = self.groups.get(rg.lower())
        if group is None:
            return 404, {"error": {"code": "ResourceGroupNotFound", "message": f"Resource group '{rg}' could not be found."}}, {}
        return 200, group, {}

    def put_group(self, rg: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        existed = rg.lower() in self.groups
        group = self.add_group(rg, body["location"], body.get("tags"))
        return (200 if existed else 201), group, {}

    # --- storage accounts -----------------------------------------------------------------------

    def _not_found(self, rg: str, name: str) -> tuple[int, Any, dict[str, str]]:
        if rg.lower() not in self.groups:
            return 404, {"error": {"code": "ResourceGroupNotFound", "message": f"Resource group '{rg}' could not be found."}}, {}
        return 404, {"error": {"code": "ResourceNotFound", "message": f"The Resource 'Microsoft.Storage/storageAccounts/{name}' under resource group '{rg}' was not found."}}, {}

    def check_name(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        name = body["name"]
        if name in self.taken or name in self.accounts:
            return 200, {"nameAvailable": False, "reason": "AlreadyExists", "message": f"The storage account named {name} is already taken."}, {}
        return 200, {"nameAvailable": True}, {}

    def _account_json(self, rg: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        location = body["location"]
        return {
            "id": f"/subscriptions/{self.subscription}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}",
            "name": name,
            "type": "Microsoft.Storage/storageAccounts",
            "location": location,
            "tags": dict(body.get("tags") or {}),
            "kind": body.get("kind", "StorageV2"),
            "sku": {"name": body["sku"]["name"], "tier": "Standard"},
            "properties": {
                "provisioningState": "Succeeded",
                "creationTime": "2026-01-01T00:00:00.0000000Z",
                "primaryLocation": location,
                "statusOfPrimary": "available",
                "accessTier": "Hot",
                "encryption": {"keySource": "Microsoft.Storage", "services": {"blob": {"enabled": True, "keyType": "Account"}}},
                "primaryEndpoints": {"blob": self.blob_endpoint(name), "dfs": f"https://{name}.dfs.core.windows.net/"},
                **dict(body.get("properties") or {}),
            },
        }

    def get_account(self, rg: str, name: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        account = self.accounts.get(name)
        if account is None or f"/resourceGroups/{rg}/".lower() not in account["id"].lower():
            return self._not_found(rg, name)
        return 200, account, {}

    def put_account(self, rg: str, name: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if rg.lower() not in self.groups:
            return self._not_found(rg, name)
        if name in self.taken:
            return 409, {"error": {"code": "StorageAccountAlreadyTaken", "message": f"The storage account named {name} is already taken."}}, {}
        self.accounts[name] = self._account_json(rg, name, body)
        self.blob_services[name] = self._blob_service_json(name, {"cors": {"corsRules": []}, "deleteRetentionPolicy": {"allowPermanentDelete": False, "enabled": False}})
        operation = uuid.uuid4().hex
        self._operations[operation] = name
        location = f"{ARM_HOST}/subscriptions/{self.subscription}/providers/Microsoft.Storage/locations/{body['location']}/asyncoperations/{operation}?monitor=true&api-version=2023-05-01"
        # Documented: 202 Accepted with a Location to poll, which answers 200 with the account when done.
        return 202, None, {"Location": location, "Retry-After": "0"}

    def poll(self, op: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, self.accounts[self._operations[op]], {}

    def patch_account(self, rg: str, name: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        status, account, _ = self.get_account(rg, name, None)
        if status != 200:
            return status, account, {}
        account["properties"].update(body.get("properties") or {})
        if "tags" in body:
            account["tags"] = dict(body["tags"])  # PATCH replaces the whole tag set
        for key in ("sku", "kind"):
            if key in body:
                account[key] = body[key]
        return 200, account, {}

    def list_keys(self, rg: str, name: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        status, account, _ = self.get_account(rg, name, None)
        if status != 200:
            return status, account, {}
        key = self.keys(name)
        return 200, {"keys": [{"creationTime": "2026-01-01T00:00:00Z", "keyName": "key1", "value": key, "permissions": "FULL"}, {"keyName": "key2", "value": key, "permissions": "FULL"}]}, {}

    # --- blob service and containers ----------------------------------------------------------------

    def _blob_service_json(self, name: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": f"{self.accounts[name]['id']}/blobServices/default" if name in self.accounts else "",
            "name": "default",
            "type": "Microsoft.Storage/storageAccounts/blobServices",
            "sku": {"name": "Standard_LRS", "tier": "Standard"},
            "properties": dict(properties),
        }

    def get_blob_service(self, rg: str, name: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        status, account, _ = self.get_account(rg, name, None)
        if status != 200:
            return status, account, {}
        return 200, self.blob_services[name], {}

    def put_blob_service(self, rg: str, name: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        status, account, _ = self.get_account(rg, name, None)
        if status != 200:
            return status, account, {}
        self.blob_services[name] = self._blob_service_json(name, body.get("properties") or {})  # PUT: what is sent is what is kept
        return 200, self.blob_services[name], {}

    def list_containers(self, rg: str, name: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        status, account, _ = self.get_account(rg, name, None)
        if status != 200:
            return status, account, {}
        return 200, {"value": self.containers.get(name, [])}, {}


def transport_for(fake: FakeArm) -> Any:
    """An azure-core transport whose requests to ARM are answered by ``fake``."""
    from azure.core.pipeline.transport import RequestsTransport

    session = requests.Session()
    session.mount(ARM_HOST, fake)
    return RequestsTransport(session=session, session_owner=False)


class StaticToken:
    """A TokenCredential returning a fixed bearer token (what a signed-in service principal would send)."""

    def __init__(self, token: str = "fake-arm-token", expires_on: int = 4102444800) -> None:
        self.token = token
        self.expires_on = expires_on
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(self.token, self.expires_on)
