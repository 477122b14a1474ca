"""Where the tests find real services, and what they do when one is missing.

A test that needs Redis or PostgreSQL calls :func:`redis_url` / :func:`postgres_url`: it gets the
URL when the service answers, and is skipped otherwise, unless ``HUB_REQUIRE_SERVICES=1`` (CI),
where a missing service fails the test instead of hiding it. Messages name the environment
variable, never the URL (it may hold a password).
"""

from __future__ import annotations

import os
import shutil
import socket
import urllib.parse
from typing import NoReturn

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/0"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def services_required() -> bool:
    return os.environ.get("HUB_REQUIRE_SERVICES") == "1"


def missing(what: str) -> NoReturn:
    """Skip the test, or fail it when the services are required."""
    if services_required():
        pytest.fail(f"{what} (HUB_REQUIRE_SERVICES=1)")
    pytest.skip(what)


def redis_url() -> str:
    url = os.environ.get("HUB_TEST_REDIS_URL", REDIS_URL)
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
            client.ping()
    except (redis.RedisError, OSError, ValueError):
        missing("no Redis answering at HUB_TEST_REDIS_URL")
    return url


def postgres_url() -> str:
    url = os.environ.get("HUB_TEST_POSTGRES_URL", POSTGRES_URL)
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 1):
            pass
    except OSError:
        missing("no PostgreSQL listening at HUB_TEST_POSTGRES_URL")
    return url


def redis_server_binary() -> str:
    """The ``redis-server`` program, for tests that start (and stop) a private Redis."""
    path = shutil.which("redis-server")
    if path is None:
        missing("no redis-server program on PATH")
    return path
