"""Fixtures shared by every tier: real servers on loopback, the repo paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmaz_serverless.launcher import RedisServer
from llmaz_serverless.toolpaths import repo_root
from llmaz_serverless_testing.servers import NatsServer


@pytest.fixture(scope="session")
def repo() -> Path:
    return repo_root()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real redis-server for the session; tests isolate by key prefix or flushdb."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """A clean database of the session's real Redis."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield redis_server.url
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    with NatsServer() as server:
        yield server
