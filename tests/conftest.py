"""
Shared fixtures. The demo dataset is loaded once per test session, right after the test
database is created; each test runs in a transaction that is rolled back, so tests may
change the data freely without seeing each other's changes.
"""

import json

import pytest
from django.core.cache import cache
from django.core.management import call_command

from peaceplans.editing.services import DEMO_DIR
from peaceplans.models import Plan

PLAN = "russia-ukraine-2025"


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
def plan(db) -> Plan:
    return Plan.objects.get(slug=PLAN)


@pytest.fixture(scope="session")
def demo_json():
    """The shipped demo files, parsed: the expected figures come from them, not from memory."""
    return {
        name: json.loads((DEMO_DIR / f"{name}.json").read_text())
        for name in ("revisions", "stances", "events", "sources", "plan")
    }
