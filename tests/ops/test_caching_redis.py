"""
The page cache on Redis, as several app servers share it (REDIS_URL): a throwaway
redis-server on a free loopback port, started for this module and stopped by its PID.
Skipped, with the reason, when redis-server is not installed (`apt-get install redis-server`).
"""

import shutil
import subprocess
import time
import uuid

import pytest
import redis
from django.core.cache import cache
from django.test import Client

from peaceplans.ops import dataversion as caching
from tests.stack import free_port
from tests.ops.test_caching import (
    OVERVIEW,
    POINT,
    SHOWS_THE_CLAUSE,
    assert_fresh,
    assert_served_from_cache,
    edit_clause_in_the_admin,
    get,
    text,
)
from tests.editing.test_editors import make_editor

pytestmark = pytest.mark.django_db

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def redis_settings(port: int) -> dict:
    """What settings.py builds from REDIS_URL=redis://127.0.0.1:<port>/0, with a prefix of this run's own."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": f"peaceplans-test-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }


@pytest.fixture(scope="module")
def redis_port():
    if not shutil.which(REDIS_SERVER):
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
    server = subprocess.Popen([REDIS_SERVER, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None:
                    pytest.fail(f"redis-server exited with {server.returncode}")
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not answer within 5 s")
        yield port
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def on_redis(settings, redis_port):
    """The page cache in Redis for this test; returns a client to look inside it."""
    settings.CACHES = redis_settings(redis_port)
    settings.PAGE_CACHE_SECONDS = 3600
    cache.clear()
    inside = redis.Redis(port=redis_port)
    yield inside
    inside.close()


@pytest.fixture
def editor_client() -> Client:
    editor = Client()
    editor.force_login(make_editor())
    return editor


def test_an_admin_edit_shows_on_the_next_request_with_redis(client, editor_client, on_redis):
    wording = "Ukraine's armed forces are capped at 777,777 personnel."
    assert_served_from_cache(client, SHOWS_THE_CLAUSE, absent="777,777")
    edit_clause_in_the_admin(editor_client, wording)
    assert_fresh(client, SHOWS_THE_CLAUSE, present="777,777")


def test_pages_are_stored_in_redis_under_the_data_version(client, on_redis):
    get(client, POINT)
    token = caching.current().token
    keys = [key.decode() for key in on_redis.keys("*")]
    assert any(f":page:{token}:" in key for key in keys), keys


def test_a_second_server_serves_what_the_first_stored_and_both_see_an_edit(on_redis, editor_client):
    """Two app servers (two handlers, each its own middleware) share one Redis and one database."""
    first, second = Client(), Client()
    assert get(first, POINT)["X-Page-Cache"] == "miss"
    assert get(second, POINT)["X-Page-Cache"] == "hit"
    edit_clause_in_the_admin(editor_client, "Capped at 777,777.")
    for server in (second, first):
        assert "777,777" in text(get(server, POINT))


def test_a_flushed_redis_means_a_miss_never_stale_data(client, on_redis):
    assert_served_from_cache(client, [OVERVIEW], absent="777,777")
    on_redis.flushall()
    response = get(client, OVERVIEW)
    assert response.status_code == 200 and response["X-Page-Cache"] == "miss"


def test_when_redis_is_down_pages_are_served_fresh_and_uncached(client, editor_client, settings):
    """A cache nobody answers on: no 500, no wait beyond the socket timeout, and an edit shows at once."""
    settings.CACHES = redis_settings(free_port())
    settings.PAGE_CACHE_SECONDS = 3600
    started = time.monotonic()
    assert get(client, POINT).status_code == 200
    edit_clause_in_the_admin(editor_client, "Capped at 777,777.")
    response = get(client, POINT)
    assert response.status_code == 200 and "777,777" in text(response)
    assert time.monotonic() - started < 10
