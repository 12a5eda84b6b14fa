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


@pytest.fixture(scope="session")
def moto_iam_server() -> Iterator[ServerProcess]:
    """A second moto server that enforces IAM (for real AccessDenied answers); see support.servers.enforce_iam."""
    server = start_moto()
    yield server
    server.stop()
