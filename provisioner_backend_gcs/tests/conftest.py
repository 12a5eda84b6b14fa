"""Fixtures: real local GCS servers (session scope), a recording proxy per test, helpers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from support.gcs_servers import RecordingProxy, start_fake_gcs_server, start_gcp_storage_emulator
from support.servers import ServerProcess


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[ServerProcess]:
    """gcp-storage-emulator: keeps patched bucket settings (settings, drift, idempotency tests)."""
    server = start_gcp_storage_emulator()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_gcs() -> Iterator[ServerProcess]:
    """fake-gcs-server: enforces preconditions, so Terraform's gcs backend locking works."""
    server = start_fake_gcs_server()
    yield server
    server.stop()


@pytest.fixture()
def proxy(gcs_emulator: ServerProcess) -> Iterator[RecordingProxy]:
    """A recording proxy in front of gcp-storage-emulator: counts calls, injects HTTP errors."""
    recording = RecordingProxy(gcs_emulator.url)
    yield recording
    recording.stop()


@pytest.fixture()
def fake_proxy(fake_gcs: ServerProcess) -> Iterator[RecordingProxy]:
    """A recording proxy in front of fake-gcs-server."""
    recording = RecordingProxy(fake_gcs.url)
    yield recording
    recording.stop()


@pytest.fixture()
def bucket_name() -> str:
    """A fresh, valid bucket name, so tests share one server without interfering."""
    return f"tfstate-{uuid.uuid4().hex[:16]}"


@pytest.fixture(autouse=True)
def _no_regional_access_boundary_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """google-auth (>= 2.4x) looks up a service account's allowed locations at iamcredentials.googleapis.com
    in a background thread; point it at a closed loopback port so tests never try to leave the machine."""
    try:
        from google.auth import _regional_access_boundary_utils as rab
    except ImportError:  # older google-auth: no such lookup
        return
    monkeypatch.setattr(rab, "_get_domain", lambda: "127.0.0.1:9")
