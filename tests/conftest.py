"""
Shared fixtures, markers and test profiles.

The demo dataset is loaded once per test session (once per xdist worker, each on its own test
database), right after the test database is created; each test runs in a transaction that is
rolled back, so tests may change the data freely without seeing each other's changes.

Test profiles (PEACEPLANS_TEST_PROFILE): `ci` (the default when unset, and what .ci/run uses)
runs every Hypothesis example and corpus string the tests name; `dev` (what `make test` uses
unless told otherwise) runs a fifth of the query fuzzer's examples (200 a route), a tenth of the
diff properties' (20) and a quarter of the hostile-input sample (every category still in it).
Nothing else differs: the same tests, the same assertions.

Markers (registered in pyproject.toml): `browser` (everything under tests/browser/, marked here),
`servers` (starts gunicorn, Redis or PostgreSQL of its own), `slow` (more than a few seconds),
`engine_independent` (uses the database but not its engine: SQLite files of its own, say),
`engine_dependent` (uses DATABASE_URL's engine without the db fixture, in a process of its own).
With PEACEPLANS_ENGINE_ONLY=1 and a PostgreSQL DATABASE_URL, only the tests whose outcome can
depend on the database engine are kept (see pytest_collection_modifyitems below): .ci/run's
PostgreSQL pass.
"""

import json
import os
import uuid
from collections import OrderedDict
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from hypothesis import settings as hypothesis_settings

from peaceplans.editing.services import DEMO_DIR
from peaceplans.models import Plan

PLAN = "russia-ukraine-2025"
TESTS = Path(__file__).resolve().parent

TEST_PROFILE = os.environ.get("PEACEPLANS_TEST_PROFILE") or "ci"
if TEST_PROFILE not in ("ci", "dev"):
    raise pytest.UsageError(f"PEACEPLANS_TEST_PROFILE={TEST_PROFILE!r}: use ci or dev")
# Hypothesis' own default (100 examples) in CI, a tenth locally; deadline off (shared, noisy machines).
hypothesis_settings.register_profile("ci", max_examples=100, deadline=None)
hypothesis_settings.register_profile("dev", max_examples=10, deadline=None)
hypothesis_settings.load_profile(TEST_PROFILE)


def scaled(ci_count: int) -> int:
    """How many examples (or corpus strings) to run: all of them in CI, a tenth in the dev profile."""
    return ci_count if TEST_PROFILE == "ci" else max(1, ci_count // 10)


# ---- markers ----

DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}


def engine_only() -> bool:
    """The PostgreSQL pass of CI: only what can depend on the database engine (PEACEPLANS_ENGINE_ONLY=1)."""
    url = os.environ.get("DATABASE_URL", "")
    return os.environ.get("PEACEPLANS_ENGINE_ONLY") == "1" and url.startswith(("postgres://", "postgresql://"))


def uses_the_database(item) -> bool:
    return (
        bool(DB_FIXTURES & set(getattr(item, "fixturenames", ()))) or item.get_closest_marker("django_db") is not None
    )


# ---- pytest-xdist: what one worker runs together ----

# Tests that share a session- or module-scoped server or database: each group goes to one worker whole,
# so that setup runs once (the browser tests: one gunicorn and one Chromium; the others a PostgreSQL
# cluster, Redis and gunicorn, or template databases). By path, since the scheduler sees node ids only.
# (xdist's own `xdist_group` marker does nothing under pytest 9: it rewrites `item._nodeid`, which
# pytest 9 no longer reads.) `make test` passes --dist loadgroup; every other test is a unit of its own.
# The longest units are handed out first (LONG, below).
KEEP_TOGETHER = {
    "tests/browser/": "browser",
    "tests/ops/test_backups.py": "backups",
    # The users of `shared_cluster` (below): one `make cluster` layout for the four of them.
    "tests/editing/test_simultaneous_saves_servers.py::test_two_saves_at_the_same_moment_through_two_servers_"
    "lose_nothing_on_postgresql": "cluster",
    "tests/ops/test_cluster.py": "cluster",
    "tests/ops/test_faults_servers.py": "cluster",
    "tests/ops/test_front.py": "cluster",
    "tests/ops/test_sqlite_concurrency.py": "sqlite-concurrency",
}


def xdist_scope(nodeid: str) -> str:
    """The unit of work a test belongs to: its group's name, or the test itself."""
    return next((group for prefix, group in KEEP_TOGETHER.items() if nodeid.startswith(prefix)), nodeid)


# About how long one test takes, in seconds, under `make test` on 2 cores (ci profile; `--durations`), for
# the tests that take longest, by node id prefix (the first that matches); any other test counts 0.1 s.
# The scheduler hands out the units of work longest first (a group weighs the sum of its tests), so that
# no long test is started last and finishes alone while the other workers idle: on 2026-12-07 the last
# 60 s of a run were docs/test_commands.py's and test_simultaneous_saves_servers.py's, handed out last
# because xdist orders by test count. A rough order is all this needs; a test that joins the longest
# belongs here.
LONG = {
    "tests/browser/test_lighthouse.py": 14,
    "tests/browser/test_quality.py": 20,
    "tests/browser/": 1.5,
    "tests/bench/test_bench.py::test_quick_bench": 70,
    "tests/docs/test_commands.py::test_documented_commands_run_as_typed": 50,
    "tests/ops/test_breaker_servers.py": 35,
    "tests/editing/test_simultaneous_saves_servers.py": 25,
    "tests/editing/test_hostile_input.py::test_admin_forms": 30,
    "tests/editing/test_hostile_input.py::test_paste_page": 28,
    "tests/editing/test_hostile_input.py::test_import_revision": 13,
    "tests/editing/test_simultaneous_saves.py::test_two_saves_at_the_same_moment_lose_nothing_in_process": 20,
    "tests/ops/test_faults_servers.py": 15,
    "tests/ops/test_sqlite_concurrency.py": 15,
    "tests/ops/test_front.py": 3,
    "tests/ops/test_cluster.py": 3,
    "tests/ops/test_backups.py": 6,
    "tests/ops/test_loadtest.py": 12,
    "tests/web/test_unpublished.py::test_every_public_url": 15,
    "tests/test_migrations.py::test_a_loaded_database": 15,
    "tests/compare/test_stored_diffs_db.py": 12,
    "tests/web/test_fuzz_query.py::test_hostile_query_strings": 6,
    "tests/editing/test_signin.py::test_a_fresh_database": 8,
}


def expected_seconds(nodeid: str) -> float:
    return next((seconds for prefix, seconds in LONG.items() if nodeid.startswith(prefix)), 0.1)


try:
    from xdist.scheduler import LoadScopeScheduling
except ImportError:  # pytest-xdist not installed: the suite runs in one process, no scheduler needed
    pass
else:

    class LongestFirst(OrderedDict):
        """
        xdist's queue of work units (scope: {node id: done}), which it fills in test-count order and pops
        from the front: popped longest first by LONG's estimates instead, ties in xdist's order.
        """

        ordered = False

        def __setitem__(self, key, value):
            super().__setitem__(key, value)
            self.ordered = False

        def popitem(self, last=True):
            if not last and not self.ordered:
                weights = {scope: sum(map(expected_seconds, unit)) for scope, unit in self.items()}
                for scope in sorted(weights, key=lambda scope: -weights[scope]):
                    self.move_to_end(scope)
                self.ordered = True
            return super().popitem(last=last)

    class KeepTogetherScheduling(LoadScopeScheduling):
        """xdist's loadscope scheduling with KEEP_TOGETHER's groups as the scopes, the longest handed out first."""

        def __init__(self, config, log=None):
            super().__init__(config, log)
            self.workqueue = LongestFirst()

        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    def pytest_xdist_make_scheduler(config, log):
        if config.getvalue("dist") == "loadgroup":
            return KeepTogetherScheduling(config, log)
        return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        try:
            parts = Path(item.path).resolve().relative_to(TESTS).parts
        except ValueError:  # a test file outside tests/
            continue
        if parts[0] == "browser":
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.engine_independent)  # its own SQLite database behind gunicorn
        elif parts[0] == "bench":
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.engine_independent)
    if not engine_only():
        return
    kept, dropped = [], []
    for item in items:
        if item.get_closest_marker("engine_dependent") is not None or (
            uses_the_database(item) and item.get_closest_marker("engine_independent") is None
        ):
            kept.append(item)
        else:
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# ---- fixtures ----


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_demo", verbosity=0)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """
    Tests run without collectstatic (static names unhashed, whitenoise serving from the finders,
    so a fresh clone serves /static/ as a deployment does) and with a fast password hasher.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True


@pytest.fixture(scope="session", autouse=True)
def _static_files_listed_once():
    """
    WhiteNoise, serving from the finders, lists and stats every static file (about 200) and builds
    their headers each time Django builds its middleware, which the test client does once per test:
    about 10 ms a test, some 30 s of CPU over `make test`. Here what it builds from the finders is
    kept and handed to the next instance while nothing it is built from has changed: the files
    (path, size, modification time) and the settings WhiteNoise reads. The answers are the same.
    """
    from django.conf import settings
    from django.contrib.staticfiles import finders
    from whitenoise.middleware import WhiteNoiseMiddleware

    build = WhiteNoiseMiddleware.add_files_from_finders
    built: dict = {}

    def add_files_from_finders(self):
        listed = []
        for finder in finders.get_finders():
            for path, storage in finder.list(None):
                found = storage.path(path)
                stat = os.stat(found)
                listed.append((getattr(storage, "prefix", None), path, found, stat.st_size, stat.st_mtime_ns))
        reads = (self.static_prefix, self.max_age, self.allow_all_origins, self.charset, self.index_file)
        reads += (self.add_headers_function, repr(getattr(settings, "WHITENOISE_MIMETYPES", None)))
        reads += (repr(getattr(settings, "WHITENOISE_IMMUTABLE_FILE_TEST", None)), repr(settings.STORAGES))
        key = (reads, settings.STATIC_URL, tuple(listed))
        if key not in built:
            files, self.files = self.files, {}
            try:
                build(self)
                built[key] = self.files
            finally:
                self.files = files
        self.files.update(built[key])

    WhiteNoiseMiddleware.add_files_from_finders = add_files_from_finders
    yield
    WhiteNoiseMiddleware.add_files_from_finders = build


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    """Each test starts with an empty page cache: one test's settings must not shape another's pages."""
    cache.clear()


@pytest.fixture
def page_cache_off(settings):
    """
    For tests that pin a view's own query count: without the page cache in front, which would
    add its one query (the data version) on a miss and answer a repeat with that query alone
    (tests/ops/test_caching.py pins those figures).
    """
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture
def page_cache_on(settings):
    """The page cache on, in a local-memory cache of the test's own."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"test-{uuid.uuid4()}"}
    }
    settings.PAGE_CACHE_SECONDS = 3600


@pytest.fixture
def editor_client(db) -> Client:
    """An editor (staff, group Editors) signed in."""
    from tests.editing.test_editors import make_editor

    client = Client()
    client.force_login(make_editor())
    return client


@pytest.fixture
def plan(db) -> Plan:
    return Plan.objects.get(slug=PLAN)


@pytest.fixture(scope="session")
def shared_cluster(tmp_path_factory):
    """
    `make cluster`'s layout (tests/cluster.py: PostgreSQL, Redis, two gunicorn instances, nginx in front,
    demo loaded, static files collected), started once for the session by the first test that asks and
    stopped at its end. Its users (tests/ops/test_cluster.py, test_front.py, test_faults_servers.py and
    the PostgreSQL half of tests/editing/test_simultaneous_saves_servers.py) share one xdist worker
    (KEEP_TOGETHER's "cluster"), so it starts once (about 15 s) instead of once each. Each makes the
    accounts it signs in with, under names of its own, and leaves every server as it found it running.
    Skipped, with the reason, without the PostgreSQL binaries, redis-server, nginx or openssl.
    """
    from tests import stack
    from tests.cluster import cluster

    folder = tmp_path_factory.mktemp("cluster")
    with cluster(folder, pg_port=stack.free_port(), redis_port=stack.free_port()) as running:
        yield running


@pytest.fixture(scope="session")
def demo_json():
    """The shipped demo files, parsed: the expected figures come from them, not from memory."""
    return {
        name: json.loads((DEMO_DIR / f"{name}.json").read_text())
        for name in ("revisions", "stances", "events", "sources", "plan")
    }
