"""Fixtures for cross-package and end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.servers import ServerProcess, start_moto


@pytest.fixture(scope="session")
def moto_server() -> Iterator[ServerProcess]:
    """A real moto server (S3, DynamoDB, STS) over HTTP on a free loopback port."""
    server = start_moto()
    yield server
    server.stop()
