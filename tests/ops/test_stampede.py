"""
No stampede after an edit (peaceplans/ops/pagecache.py, issue 18, item 3): while one request renders
a page at the new data version, concurrent readers get the previous version's page, never a 5xx, for
PAGE_CACHE_STALE_SECONDS after the edit at most; editors always get the page as the data is now.

Most tests drive the middleware itself, with a view that shows the data version it renders and can
block until the test releases it, and threads released together (threading.Barrier); the data
version is a value the test sets, so no thread needs the test's database. They run on local memory
and on Redis (a throwaway redis-server, tests/ops/test_caching.py's fixture, marked `servers`).
The last tests go through the whole app: an edit in the admin while another worker holds the lock.
"""

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from peaceplans.ops import dataversion, pagecache
from tests.ops import test_caching
from tests.ops.test_caching import POINT, edit_clause_in_the_admin, text

# test_caching's fixtures: a throwaway redis-server for the module, the page cache in it for a test.
redis_port = test_caching.redis_port
on_redis = test_caching.on_redis

READERS = 8
ADDRESS = "/plans/russia-ukraine-2025/"
WAIT = 10  # seconds any wait in a test may take before it fails (never reached when it passes)


class Site:
    """
    The middleware in front of a view that answers "page at <version>" for the version the data
    has when it renders, counting its renders; `block_next()` makes the next one wait for `release`.
    """

    def __init__(self):
        self.version = dataversion.Version("v1", datetime.now(UTC) - timedelta(minutes=2))
        self.renders: list[str] = []
        self.entered, self.release = threading.Event(), threading.Event()
        self.blocking = False
        self.guard = threading.Lock()
        self.middleware = pagecache.PageCacheMiddleware(self.view)
        self.factory = RequestFactory()

    def view(self, request):
        with self.guard:
            token = self.version.token
            self.renders.append(token)
            block, self.blocking = self.blocking, False
        if block:
            self.entered.set()
            assert self.release.wait(WAIT), "the test never released the render"
        return HttpResponse(f"page at {token}")

    def block_next(self) -> None:
        self.blocking = True
        self.entered.clear()
        self.release.clear()

    def edit(self, token: str, seconds_ago: float = 0) -> None:
        self.version = dataversion.Version(token, datetime.now(UTC) - timedelta(seconds=seconds_ago))

    def request(self, *, editor: bool = False):
        request = self.factory.get(ADDRESS, headers={"Accept-Encoding": "gzip"})
        if editor:
            request.COOKIES[django_settings.SESSION_COOKIE_NAME] = "an-editor-session"
        return request

    def get(self, *, editor: bool = False):
        return self.middleware(self.request(editor=editor))

    def hold_lock(self, seconds: float) -> None:
        """The lock on this page at this version, taken as by a worker that then died."""
        assert cache.add(pagecache.Page(self.request(), self.version).lock_key, 1, seconds)


def body(response) -> str:
    return response.content.decode()


@pytest.fixture(params=["locmem", pytest.param("redis", marks=pytest.mark.servers)])
def site(request, settings, monkeypatch):
    """A Site on a local-memory cache of its own, or on Redis, with the page cache on."""
    if request.param == "redis":
        request.getfixturevalue("on_redis")
    else:
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"t-{uuid.uuid4()}"}
        }
    settings.PAGE_CACHE_SECONDS = 3600
    settings.PAGE_CACHE_STALE_SECONDS = 10
    made = Site()
    monkeypatch.setattr(dataversion, "current", lambda *args, **kwargs: made.version)
    yield made
    made.release.set()  # never leave a thread waiting


def readers_during_a_render(site: Site, count: int = READERS):
    """
    `count` anonymous readers released together after an edit; the one that renders blocks.
    Returns the answers of the others (once each is in) and the threads, still running.
    """
    barrier = threading.Barrier(count)
    answers: list = [None] * count

    def read(n):
        barrier.wait(WAIT)
        answers[n] = site.get()

    threads = [threading.Thread(target=read, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    assert site.entered.wait(WAIT), "no reader rendered the page"
    deadline = time.monotonic() + WAIT
    while sum(answer is not None for answer in answers) < count - 1:
        assert time.monotonic() < deadline, "readers waited for the render instead of being served"
        time.sleep(0.01)
    return answers, threads


def test_after_an_edit_one_reader_renders_and_the_others_get_the_previous_page(site):
    assert body(site.get()) == "page at v1"
    site.edit("v2")
    site.block_next()
    answers, threads = readers_during_a_render(site)
    served = [answer for answer in answers if answer is not None]
    assert site.renders == ["v1", "v2"]  # exactly one render of the new version, still blocked
    assert len(served) == READERS - 1
    for answer in served:
        assert answer.status_code == 200 and body(answer) == "page at v1"
        assert answer["X-Page-Cache"] == "stale"
    site.release.set()
    for thread in threads:
        thread.join(WAIT)
    rendered = [answer for answer in answers if answer["X-Page-Cache"] == "miss"]
    assert len(rendered) == 1 and body(rendered[0]) == "page at v2"
    assert site.renders == ["v1", "v2"]


def test_once_the_render_is_stored_every_reader_gets_the_new_page(site):
    site.get()
    site.edit("v2")
    site.block_next()
    answers, threads = readers_during_a_render(site, count=3)
    site.release.set()
    for thread in threads:
        thread.join(WAIT)
    for _ in range(3):
        answer = site.get()
        assert answer["X-Page-Cache"] == "hit" and body(answer) == "page at v2"
    assert site.renders == ["v1", "v2"]


def test_an_editor_during_the_render_gets_the_new_page_never_the_stale_one(site):
    site.get()
    site.edit("v2")
    site.block_next()
    answers, threads = readers_during_a_render(site, count=3)
    assert all(body(answer) == "page at v1" for answer in answers if answer is not None)
    editor = site.get(editor=True)
    assert body(editor) == "page at v2" and editor["X-Page-Cache"] == "bypass"
    assert editor["Cache-Control"] == "private, no-store"
    site.release.set()
    for thread in threads:
        thread.join(WAIT)


def test_the_stale_page_carries_nothing_a_proxy_or_browser_could_keep_or_revalidate(site):
    site.get()
    site.edit("v2")
    site.hold_lock(60)
    answer = site.get()
    assert answer["X-Page-Cache"] == "stale" and body(answer) == "page at v1"
    assert answer["Cache-Control"] == "no-store"
    for header in ("ETag", "Last-Modified", "CDN-Cache-Control"):
        assert header not in answer, header
    assert site.renders == ["v1"]


def test_stale_pages_are_served_no_longer_than_the_setting_after_the_edit(site):
    """A render that takes longer (or hangs) than PAGE_CACHE_STALE_SECONDS: readers then render themselves."""
    site.get()
    site.edit("v2", seconds_ago=9.5)
    site.hold_lock(60)
    assert site.get()["X-Page-Cache"] == "stale"
    site.edit("v2", seconds_ago=10)
    answer = site.get()
    assert answer["X-Page-Cache"] == "miss" and body(answer) == "page at v2"
    assert site.get()["X-Page-Cache"] == "hit"


def test_a_lock_holder_that_died_blocks_nobody_past_the_stale_window(site, settings):
    settings.PAGE_CACHE_STALE_SECONDS = 1
    site.get()
    site.edit("v2")
    site.hold_lock(settings.PAGE_CACHE_STALE_SECONDS)  # the worker was killed: nobody releases it
    started = time.monotonic()
    assert site.get()["X-Page-Cache"] == "stale"
    time.sleep(1.1)
    answer = site.get()
    assert answer["X-Page-Cache"] == "miss" and body(answer) == "page at v2"
    assert site.get()["X-Page-Cache"] == "hit"
    assert time.monotonic() - started < 3  # nobody waited on the lock


def test_without_a_previous_page_readers_render_it_themselves_and_never_wait(site):
    site.hold_lock(60)
    answer = site.get()
    assert answer.status_code == 200 and answer["X-Page-Cache"] == "miss" and body(answer) == "page at v1"


def test_a_render_that_fails_releases_the_lock(site):
    site.get()
    site.edit("v2")
    failing = pagecache.PageCacheMiddleware(lambda request: HttpResponse("boom", status=500))
    assert failing(site.request()).status_code == 500
    answer = site.get()
    assert answer["X-Page-Cache"] == "miss" and body(answer) == "page at v2"


def test_a_slow_render_of_an_older_version_does_not_replace_the_newer_latest_page(site):
    site.get()
    site.edit("v3")
    assert body(site.get()) == "page at v3"
    older = dataversion.Version("v2", site.version.changed_at - timedelta(seconds=5))
    site.middleware.store(pagecache.Page(site.request(), older), older, (200, [], b"page at v2"))
    site.edit("v4")
    site.hold_lock(60)
    assert body(site.get()) == "page at v3"


def test_with_stale_pages_off_every_miss_renders(site, settings):
    settings.PAGE_CACHE_STALE_SECONDS = 0
    site.get()
    site.edit("v2")
    answer = site.get()
    assert answer["X-Page-Cache"] == "miss" and body(answer) == "page at v2"


def test_a_cache_that_cannot_lock_means_a_fresh_render(site, monkeypatch):
    site.get()
    site.edit("v2")

    class CannotLock:
        """The cache, whose add fails (as a Redis that drops the connection)."""

        def __getattr__(self, name):
            return getattr(cache, name)

        def add(self, *args, **kwargs):
            raise ConnectionError("cache down")

    monkeypatch.setattr(pagecache, "cache", CannotLock())
    answer = site.get()
    assert answer.status_code == 200 and body(answer) == "page at v2"


# ---- through the whole app ----


@pytest.mark.django_db
def test_an_admin_edit_while_another_worker_renders_readers_get_the_old_page_editors_the_new(
    client, editor_client, settings, rf
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "app"}}
    settings.PAGE_CACHE_SECONDS = 3600
    cache.clear()
    before = client.get(POINT)
    assert before["X-Page-Cache"] == "miss" and "777,777" not in text(before)
    edit_clause_in_the_admin(editor_client, "Capped at 777,777.")
    page = pagecache.Page(rf.get(POINT), dataversion.current())
    assert cache.add(page.lock_key, 1, 60)  # another worker is rendering the point page
    stale = client.get(POINT)
    assert stale.status_code == 200 and stale["X-Page-Cache"] == "stale"
    assert stale.content == before.content
    assert "777,777" in text(editor_client.get(POINT))
    cache.delete(page.lock_key)  # that worker is done (here: it stored nothing)
    fresh = client.get(POINT)
    assert fresh["X-Page-Cache"] == "miss" and "777,777" in text(fresh)
