"""Fixtures for cross-package and end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.servers import ServerProcess, start_moto

TEST_ONLY_PLUGINS = "provisioner-test-contract,provisioner-test-events"


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


@pytest.fixture
def provisioner_registry():
    """Every installed plugin (core, env, the backends), as a user's `provision` loads them; tests add their own.

    The test-only distributions of tests/plugins are blocked here (their events would fire in every
    flow); tests/test_plugin_contract.py loads them.
    """
    from provisioner_core.plugins import PluginRegistry

    return PluginRegistry(environ={"PROVISIONER_BLOCK_PLUGINS": TEST_ONLY_PLUGINS}).load()
