"""
/healthz (issue 8, item 2; peaceplans/ops/health.py): 200 with "ok" for the database and the cache
when both answer, 503 naming the failing part by its exception class when not; never cached.

Runs in about 5 s.
"""

import logging
import time

import pytest
from django.core.cache.backends.base import BaseCache
from django.db import OperationalError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from peaceplans.ops import draining, health

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
HEALTHY = {"status": "ok", "database": "ok", "cache": "ok"}
# A Redis that is not there: port 1 on loopback refuses at once.
DEAD_REDIS = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": False},
}


def break_database(monkeypatch) -> None:
    """Every cursor fails as SQLite's does when its file has gone (PostgreSQL's "connection refused" alike)."""

    def cursor(self):
        raise OperationalError("unable to open database file")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", cursor)


@pytest.fixture
def database_down(monkeypatch):
    break_database(monkeypatch)


def assert_never_cached(response) -> None:
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "application/json"


def test_a_healthy_site_answers_200_with_each_part_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == HEALTHY
    assert_never_cached(response)


def test_the_answer_is_never_served_from_the_page_cache(client, monkeypatch):
    """A 200 kept by the page cache would hide the outage that follows it."""
    assert client.get("/healthz").status_code == 200
    break_database(monkeypatch)
    response = Client(raise_request_exception=False).get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "error: OperationalError"


def test_two_probes_both_run_the_checks(client, monkeypatch):
    runs = []
    monkeypatch.setitem(health.CHECKS, "database", lambda: runs.append(1) or "ok")
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.status_code == second.status_code == 200
    assert len(runs) == 2 and "X-Page-Cache" not in second  # the page cache never even looked it up


def test_a_failing_database_is_a_503_naming_the_database(database_down, settings, caplog):
    settings.PAGE_CACHE_SECONDS = 0
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error: OperationalError", "cache": "ok"}
    assert_never_cached(response)
    assert b"unable to open" not in response.content  # the class only: messages may name hosts and paths
    assert any(r.name == "peaceplans.faults" and r.levelno == logging.ERROR for r in caplog.records)


def test_a_failing_database_is_a_503_with_the_page_cache_on(database_down):
    """With the page cache on (it reads no data version for /healthz, issue 19): the answer is the report."""
    response = Client(raise_request_exception=False).get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error: OperationalError", "cache": "ok"}
    assert_never_cached(response)


def test_a_failing_cache_is_a_503_naming_the_cache(settings):
    settings.CACHES = {"default": DEAD_REDIS}
    response = Client().get("/healthz")
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "error" and report["database"] == "ok"
    assert report["cache"] == "error: ConnectionError"  # redis-py's, through django-redis
    assert b"127.0.0.1" not in response.content
    assert_never_cached(response)


def test_a_cache_that_swallows_its_errors_is_a_503_too(settings):
    """django-redis with IGNORE_EXCEPTIONS (what keeps pages up when Redis dies) reads back nothing."""
    settings.CACHES = {"default": {**DEAD_REDIS, "OPTIONS": {**DEAD_REDIS["OPTIONS"], "IGNORE_EXCEPTIONS": True}}}
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "error: NotReadBack"}


def test_both_failing_name_both(settings, database_down):
    settings.PAGE_CACHE_SECONDS = 0
    settings.CACHES = {"default": DEAD_REDIS}
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "error: OperationalError",
        "cache": "error: ConnectionError",
    }


def test_only_get_and_head_are_answered(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_part_database_checks_the_database_alone_so_a_redis_outage_keeps_servers_in(settings):
    """What a load balancer asks: Redis is shared, so its outage must not fail every server at once."""
    settings.CACHES = {"default": DEAD_REDIS}
    response = Client().get("/healthz?part=database")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert_never_cached(response)


def test_part_database_still_fails_with_the_database(database_down, settings):
    settings.PAGE_CACHE_SECONDS = 0
    response = Client().get("/healthz?part=database")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error: OperationalError"}


def test_part_cache_checks_the_cache_alone(settings, database_down):
    settings.PAGE_CACHE_SECONDS = 0
    assert Client().get("/healthz?part=cache").json() == {"status": "ok", "cache": "ok"}
    settings.CACHES = {"default": DEAD_REDIS}
    response = Client().get("/healthz?part=cache")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "cache": "error: ConnectionError"}


def test_both_parts_named_are_both_checked(client):
    assert client.get("/healthz?part=cache&part=database").json() == HEALTHY


@pytest.mark.parametrize(
    "query",
    ["part=", "part=Database", "part=db", "part=database&part=disk", "part=<script>", "part=" + "x" * 900],
)
def test_an_unknown_part_is_a_400_that_checks_nothing_and_echoes_nothing(client, query, monkeypatch):
    def must_not_run():
        raise AssertionError("no check runs for a bad request")

    monkeypatch.setitem(health.CHECKS, "database", must_not_run)
    response = client.get(f"/healthz?{query}")
    assert response.status_code == 400
    assert response.json() == {"error": "part must be database or cache"}
    assert_never_cached(response)


def test_a_nul_in_part_is_the_sites_400_before_any_check(client, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "database", lambda: pytest.fail("no check runs for a bad request"))
    response = client.get("/healthz?part=%00")
    assert response.status_code == 400 and b"NUL" in response.content


def test_part_cache_answers_200_without_retry_after_while_the_database_is_down(database_down):
    """The cache part touches no database at all (no page-cache version read either): 200, as the cache is fine."""
    response = Client(raise_request_exception=False).get("/healthz?part=cache")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "cache": "ok"}
    assert "Retry-After" not in response


# ---- Issue 19, item 3: the database part never touches the cache ----

TOUCHED: list[str] = []


class TouchedCache(BaseCache):
    """A cache whose every call is recorded and fails, as a hung Redis' would (after its timeout)."""

    def __init__(self, location, params):
        super().__init__(params)

    def __getattribute__(self, name):
        if name in {"get", "set", "add", "delete", "get_many", "set_many", "has_key", "touch", "incr", "clear"}:

            def touched(*args, **kwargs):
                TOUCHED.append(name)
                raise ConnectionError("the cache was called")

            return touched
        return super().__getattribute__(name)


@pytest.fixture
def touched_cache(settings):
    """The page cache on, over a cache that records and refuses every call."""
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.TouchedCache"}}
    settings.PAGE_CACHE_SECONDS = 3600
    TOUCHED.clear()
    yield TOUCHED
    TOUCHED.clear()


def test_part_database_never_calls_the_cache_with_the_page_cache_on(touched_cache):
    started = time.monotonic()
    response = Client().get("/healthz?part=database")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}
    assert touched_cache == []  # neither the page cache (lookup, lock, store) nor the view
    assert time.monotonic() - started < 1
    assert Client().get(f"/plans/{PLAN}/").status_code == 200 and touched_cache  # the control: pages do call it


# ---- Issue 19, item 4's interface: a draining server says so, checking nothing ----


@pytest.fixture
def is_draining():
    draining.begin()
    yield
    draining.end()


@pytest.mark.parametrize("query", ["", "?part=database", "?part=cache", "?part=database&part=cache"])
def test_a_draining_server_answers_503_draining_without_touching_database_or_cache(
    is_draining, touched_cache, monkeypatch, query
):
    break_database(monkeypatch)
    response = Client(raise_request_exception=False).get(f"/healthz{query}")
    assert response.status_code == 503 and response.json() == {"status": "draining"}
    assert_never_cached(response)
    assert touched_cache == []  # and the broken database was not asked either: that would be a 503 "error"


def test_after_draining_ends_the_checks_run_again(client):
    draining.begin()
    try:
        assert client.get("/healthz").json() == {"status": "draining"}
    finally:
        draining.end()
    assert client.get("/healthz").json() == HEALTHY


# ---- Issue 19, item 5: the database part checks that it can write ----


# ---- Issue 19, item 8: the WAL is cut back after checkpoints ----


PRAGMAS = ("journal_mode", "synchronous", "journal_size_limit")


def test_sqlite_connections_have_wal_and_a_journal_size_limit(tmp_path):
    """A connection opened with the settings' OPTIONS, on a file as in production."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's PRAGMAs: this run uses PostgreSQL")
    fresh = type(connections["default"])({**connection.settings_dict, "NAME": str(tmp_path / "db.sqlite3")})
    raw = fresh.get_new_connection(fresh.get_connection_params())  # as Django opens each connection
    try:
        found = {pragma: raw.execute(f"PRAGMA {pragma}").fetchone()[0] for pragma in PRAGMAS}
    finally:
        raw.close()
    assert found == {"journal_mode": "wal", "synchronous": 1, "journal_size_limit": 64 * 1024 * 1024}  # 1: NORMAL
