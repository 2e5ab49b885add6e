"""
Database faults degrade, they don't crash (issue 8, item 2; peaceplans/ops/faults.py).

A read-only or full database keeps reads working, and a write (an admin save, an import) gets the
503 page with Retry-After, no traceback, an ERROR in the log and no partial write. Without root:
SQLite's `mode=ro` for a read-only database and `PRAGMA max_page_count` for a full disk, each on a
file copy of the test database (demo data included) put in place of the default connection for
the test. PostgreSQL: a session with `default_transaction_read_only` on (skipped on SQLite runs).

Runs in about 10 s.
"""

import logging
import re
import sqlite3

import psycopg
import psycopg.errors
import pytest
from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, InterfaceError, InternalError, connections
from django.db import OperationalError as DjangoOperationalError
from django.test import Client
from django.urls import include, path

from peaceplans.editing.services import revisions_import
from peaceplans.models import Clause, DataVersion, Plan, Revision
from peaceplans.ops import dataversion, faults

PLAN = "russia-ukraine-2025"
PASSWORD = "a-long-test-password-for-faults"
SUMMARY = "A summary long enough to need pages of its own: " + "ceasefire line, " * 240  # ~3,900 characters
DRAFT = "1. The ceasefire holds along the line of contact.\n2. Prisoners are exchanged all for all.\n"
PAGE_TEXT = "The site cannot save or load this right now."


# ---- Swapping the default database for a file copy ----


class SwappedDatabase:
    """A file copy of the test database in place of the default connection, reopened as each test needs."""

    def __init__(self, original, path):
        self.original = original
        self.path = path
        self.wrapper = None

    def open(self, *, read_only: bool = False, max_pages: int | None = None) -> None:
        self.close()
        settings = {**self.original.settings_dict, "OPTIONS": dict(self.original.settings_dict["OPTIONS"])}
        settings["NAME"] = f"file:{self.path}?mode=ro" if read_only else str(self.path)
        if max_pages is not None:
            # Per connection, so on every (re)connect: the database may not grow past its current size.
            settings["OPTIONS"]["init_command"] = f"PRAGMA journal_mode=WAL; PRAGMA max_page_count={max_pages};"
        self.wrapper = type(self.original)(settings, alias=DEFAULT_DB_ALIAS)
        connections[DEFAULT_DB_ALIAS] = self.wrapper

    def page_count(self) -> int:
        with self.wrapper.cursor() as cursor:
            cursor.execute("PRAGMA page_count")
            return cursor.fetchone()[0]

    def close(self) -> None:
        if self.wrapper is not None:
            self.wrapper.close()
            self.wrapper = None
        connections[DEFAULT_DB_ALIAS] = self.original


@pytest.fixture
def sqlite_copy(tmp_path, django_db_blocker):
    """The test database (migrated, demo data loaded) copied to a file, compacted, in WAL mode, as the default."""
    with django_db_blocker.unblock():
        original = connections[DEFAULT_DB_ALIAS]
        if original.vendor != "sqlite":
            pytest.skip("SQLite faults (mode=ro, max_page_count): this run uses PostgreSQL")
        original.ensure_connection()
        path = tmp_path / "copy.sqlite3"
        target = sqlite3.connect(path)
        original.connection.backup(target)
        # The schema's CHECK constraints name REGEXP, which Django registers on its own connections.
        target.create_function("REGEXP", 2, lambda pattern, value: re.search(pattern, value or "") is not None)
        target.execute("VACUUM")  # no free pages left: any growth needs a new one
        target.execute("PRAGMA journal_mode=WAL")
        target.close()
        swapped = SwappedDatabase(original, path)
        swapped.open()
        try:
            yield swapped
        finally:
            swapped.close()


def signed_in_client() -> Client:
    """A superuser with CSRF checks on, as a browser would be."""
    client = Client(enforce_csrf_checks=True)
    user = User.objects.create_superuser("chief", "chief@example.org", PASSWORD)
    client.force_login(user)
    return client


def csrf_token(response) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content)
    assert match, "the form carries no CSRF token"
    return match.group(1).decode()


def plan_change_data(client, plan: Plan) -> tuple[str, dict]:
    """The admin's change form for the plan, as the browser would post it back with a long new summary."""
    url = f"/admin/peaceplans/plan/{plan.pk}/change/"
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}  # edit_version too
    return url, {**data, "summary": SUMMARY, "csrfmiddlewaretoken": csrf_token(response)}


def paste_steps(client, plan: Plan) -> dict:
    """Step one of the paste import, answered; returns what the confirm step posts."""
    url = "/admin/peaceplans/revision/paste/"
    token = csrf_token(client.get(url))
    authors = [str(pk) for pk in plan.revisions.first().authors.values_list("pk", flat=True)]
    step_one = {
        "plan": plan.pk,
        "title": "Draft of the outage",
        "slug": "draft-of-the-outage",
        "published_on": "2025-12-20",
        "authors": authors,
        "status": "leaked-draft",
        "summary": "",
        "sources": "",
        "text": DRAFT,
        "csrfmiddlewaretoken": token,
    }
    response = client.post(url, step_one)
    assert response.status_code == 200 and response.context["confirm"] is not None
    confirm = response.context["confirm"]
    data = {name: confirm.carried[name].value() for name in confirm.carried.fields}
    data.update({name: confirm[name].value() for name in confirm.fields})
    data = {k: v for k, v in data.items() if v is not None}
    return {**data, "confirm": "Create the revision", "csrfmiddlewaretoken": token}


def counts() -> dict[str, int]:
    return {
        "plans": Plan.objects.count(),
        "plan history": Plan.history.count(),
        "revisions": Revision.objects.count(),
        "clauses": Clause.objects.count(),
    }


def assert_503_page(response) -> None:
    errors = response.context["adminform"].form.errors if response.context and "adminform" in response.context else ""
    assert response.status_code == 503, errors
    assert response["Retry-After"] == "30"
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert PAGE_TEXT in html and "try again in a minute" in html
    assert "<h1>Try again in a minute</h1>" in html
    for leak in ("Traceback", "OperationalError", "sqlite", "readonly", "disk is full", "INSERT", "UPDATE"):
        assert leak not in html, leak


def assert_logged(caplog, text: str) -> None:
    records = [r for r in caplog.records if r.name == "peaceplans.faults" and r.levelno == logging.ERROR]
    assert records, "no ERROR from peaceplans.ops.faults"
    message = records[-1].getMessage()
    assert "OperationalError" in message and text in message, message
    assert records[-1].exc_info is None  # the class and its one line, no traceback
    assert SUMMARY[:40] not in message  # no parameters


def assert_reads_work() -> None:
    reader = Client()
    page = reader.get(f"/plans/{PLAN}/points/6/")
    assert page.status_code == 200 and "Army" in page.content.decode()
    api = reader.get(f"/api/v1/plans/{PLAN}/")
    assert api.status_code == 200 and api.json()["slug"] == PLAN


# ---- SQLite: read-only ----


def test_a_read_only_database_serves_pages_and_answers_an_admin_save_with_the_503_page(sqlite_copy, caplog):
    client = signed_in_client()
    sqlite_copy.open(read_only=True)
    plan = Plan.objects.get(slug=PLAN)
    before, summary, version = counts(), plan.summary, DataVersion.objects.get().token
    assert_reads_work()
    url, data = plan_change_data(client, plan)  # the form itself still opens: it only reads
    response = client.post(url, data)
    assert_503_page(response)
    assert_logged(caplog, "attempt to write a readonly database")
    plan.refresh_from_db()
    assert plan.summary == summary and counts() == before and DataVersion.objects.get().token == version
    assert_reads_work()


def test_a_read_only_database_answers_an_import_with_the_503_page(sqlite_copy, caplog):
    client = signed_in_client()
    sqlite_copy.open(read_only=True)
    plan = Plan.objects.get(slug=PLAN)
    before = counts()
    response = client.post("/admin/peaceplans/revision/paste/", paste_steps(client, plan))
    assert_503_page(response)
    assert_logged(caplog, "readonly")
    assert counts() == before and not Revision.objects.filter(slug="draft-of-the-outage").exists()


# ---- SQLite: full disk ----


def test_a_full_database_serves_pages_and_answers_an_admin_save_with_the_503_page(sqlite_copy, caplog):
    client = signed_in_client()
    sqlite_copy.open(max_pages=sqlite_copy.page_count())
    plan = Plan.objects.get(slug=PLAN)
    before, summary = counts(), plan.summary
    assert_reads_work()
    url, data = plan_change_data(client, plan)
    response = client.post(url, data)
    assert_503_page(response)
    assert_logged(caplog, "database or disk is full")
    plan.refresh_from_db()
    assert plan.summary == summary and counts() == before  # neither the plan nor its history row


def test_a_full_database_answers_an_import_with_the_503_page_and_writes_none_of_it(sqlite_copy, caplog):
    client = signed_in_client()
    data = paste_steps(client, Plan.objects.get(slug=PLAN))  # before the disk fills: step one only reads
    sqlite_copy.open(max_pages=sqlite_copy.page_count())
    before = counts()
    response = client.post("/admin/peaceplans/revision/paste/", data)
    assert_503_page(response)
    assert_logged(caplog, "database or disk is full")
    assert counts() == before and not Revision.objects.filter(slug="draft-of-the-outage").exists()


def test_the_import_service_on_a_full_database_raises_an_outage_and_writes_nothing(sqlite_copy):
    """All or nothing below the HTTP layer too: the service's transaction is rolled back whole."""
    sqlite_copy.open(max_pages=sqlite_copy.page_count())
    before = counts()
    revision = {
        "slug": "outage-draft",
        "title": "Outage draft",
        "author": "us",
        "published_on": "2025-12-20",
        "status": "leaked draft",
        "summary": SUMMARY,
        "points": [{"number": str(n), "text": f"Clause {n}: " + "wording " * 200} for n in range(1, 30)],
    }
    with pytest.raises(DjangoOperationalError) as raised:
        revisions_import(data=revision, plan_slug=PLAN)
    assert faults.is_outage(raised.value)
    assert counts() == before


def test_a_full_database_still_lets_an_edit_that_needs_no_new_page_through(sqlite_copy):
    """The control for the tests above: the limit refuses growth, not writing, so they test what they claim."""
    client = signed_in_client()
    sqlite_copy.open(max_pages=sqlite_copy.page_count())
    plan = Plan.objects.get(slug=PLAN)
    url, data = plan_change_data(client, plan)
    shorter = plan.summary[:-1]
    response = client.post(url, {**data, "summary": shorter})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.summary == shorter


# ---- The API and other errors ----


def outage_view(request):
    raise DjangoOperationalError("database is locked")


def bug_view(request):
    raise DjangoOperationalError("no such table: peaceplans_nothing")


def crash_view(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("api/v1/outage/", outage_view),
    path("outage.json", outage_view),
    path("outage/", outage_view),
    path("embed/outage/", outage_view),
    path("bug/", bug_view),
    path("crash/", crash_view),
    path("", include("peaceplans.urls")),
]
handler500 = "peaceplans.ops.faults.server_error"


@pytest.fixture
def fault_site(settings, db):
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("url", ["/api/v1/outage/", "/outage.json"])
def test_the_api_and_json_downloads_get_the_503_as_json(fault_site, url, caplog):
    response = fault_site.get(url)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": faults.MESSAGE}
    assert response["Retry-After"] == "30" and response["Cache-Control"] == "no-store"
    assert_logged_class(caplog, "OperationalError")


def test_an_embed_gets_its_own_error_card(fault_site):
    response = fault_site.get("/embed/outage/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    html = response.content.decode()
    assert "Not available right now" in html and faults.MESSAGE in html and "site-header" not in html


def test_an_outage_page_is_never_stored_by_the_page_cache(fault_site):
    first, second = fault_site.get("/outage/"), fault_site.get("/outage/")
    assert first.status_code == second.status_code == 503
    assert second["X-Page-Cache"] == "miss"


def test_retry_after_is_a_setting(fault_site, settings):
    settings.PEACEPLANS_RETRY_AFTER_SECONDS = 90
    assert fault_site.get("/outage/")["Retry-After"] == "90"


@pytest.mark.parametrize("url", ["/bug/", "/crash/"])
def test_an_error_that_is_not_an_outage_keeps_the_500_page(fault_site, url, caplog):
    response = fault_site.get(url)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode() and "Retry-After" not in response
    assert not [r for r in caplog.records if r.name == "peaceplans.faults"]


def test_the_site_uses_the_fault_handler_for_errors_outside_views():
    from peaceplans import urls

    assert urls.handler500 == handler500


@pytest.mark.django_db
def test_an_outage_in_a_middleware_is_a_503_too(client, monkeypatch, caplog):
    """The page cache reads the data version before any view: PostgreSQL restarting fails there first."""

    def down(*args, **kwargs):
        raise DjangoOperationalError("connection refused") from psycopg.OperationalError("connection refused")

    monkeypatch.setattr(dataversion, "current", down)
    response = Client(raise_request_exception=False).get(f"/plans/{PLAN}/")
    assert_503_page(response)
    assert_logged_class(caplog, "OperationalError")


def assert_logged_class(caplog, name: str) -> None:
    records = [r for r in caplog.records if r.name == "peaceplans.faults" and r.levelno == logging.ERROR]
    assert records and name in records[-1].getMessage()


# ---- Which errors are outages ----


def wrapped(django_class, driver_error):
    """A driver error as Django raises it: its own class of the same name, `from` the driver's."""
    try:
        raise django_class(str(driver_error)) from driver_error
    except django_class as exc:
        return exc


def sqlite_error(code: int, message: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    "error",
    [
        wrapped(DjangoOperationalError, sqlite_error(8, "attempt to write a readonly database")),
        wrapped(DjangoOperationalError, sqlite_error(8 | (3 << 8), "attempt to write a readonly database")),
        wrapped(DjangoOperationalError, sqlite_error(13, "database or disk is full")),
        wrapped(DjangoOperationalError, sqlite_error(5, "database is locked")),
        wrapped(DjangoOperationalError, sqlite_error(14, "unable to open database file")),
        wrapped(InternalError, psycopg.errors.ReadOnlySqlTransaction("cannot execute UPDATE in a read-only txn")),
        wrapped(DjangoOperationalError, psycopg.errors.DiskFull("could not extend file")),
        wrapped(DjangoOperationalError, psycopg.errors.AdminShutdown("terminating connection due to administrator")),
        wrapped(DjangoOperationalError, psycopg.errors.CannotConnectNow("the database system is starting up")),
        wrapped(DjangoOperationalError, psycopg.errors.TooManyConnections("sorry, too many clients already")),
        wrapped(DjangoOperationalError, psycopg.OperationalError("connection failed: Connection refused")),
        wrapped(DjangoOperationalError, psycopg.OperationalError("server closed the connection unexpectedly")),
        wrapped(InterfaceError, psycopg.InterfaceError("the connection is closed")),
        InterfaceError("connection already closed"),
    ],
    ids=lambda e: f"{type(e.__cause__ or e).__name__}",
)
def test_these_errors_are_outages(error):
    assert faults.is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        wrapped(DjangoOperationalError, sqlite_error(1, "no such table: peaceplans_nothing")),
        wrapped(IntegrityError, sqlite3.IntegrityError("UNIQUE constraint failed")),
        wrapped(IntegrityError, psycopg.errors.UniqueViolation("duplicate key value violates unique constraint")),
        wrapped(DjangoOperationalError, psycopg.errors.QueryCanceled("canceling statement due to statement timeout")),
        wrapped(DatabaseError, psycopg.errors.UndefinedTable('relation "nothing" does not exist')),
        RuntimeError("database is locked"),  # not a database exception at all
    ],
    ids=lambda e: f"{type(e.__cause__ or e).__name__}",
)
def test_these_errors_are_bugs_not_outages(error):
    assert not faults.is_outage(error)


# ---- PostgreSQL: a read-only session ----


@pytest.fixture
def pg_read_only(django_db_blocker):
    """The default connection reopened with default_transaction_read_only on, as on a standby."""
    with django_db_blocker.unblock():
        original = connections[DEFAULT_DB_ALIAS]
        if original.vendor != "postgresql":
            pytest.skip("PostgreSQL read-only session: this run uses SQLite (DATABASE_URL=postgres://... runs it)")
        user = User.objects.create_superuser("chief-faults", "chief@example.org", PASSWORD)  # committed: removed below
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        settings = {**original.settings_dict, "OPTIONS": dict(original.settings_dict["OPTIONS"])}
        settings["OPTIONS"]["options"] = "-c default_transaction_read_only=on"
        wrapper = type(original)(settings, alias=DEFAULT_DB_ALIAS)
        connections[DEFAULT_DB_ALIAS] = wrapper
        try:
            yield client
        finally:
            wrapper.close()
            connections[DEFAULT_DB_ALIAS] = original
            from django.contrib.sessions.models import Session

            Session.objects.filter(session_key=client.session.session_key).delete()
            user.delete()


def test_a_read_only_postgresql_session_serves_pages_and_answers_a_save_with_the_503_page(pg_read_only, caplog):
    client = pg_read_only
    plan = Plan.objects.get(slug=PLAN)
    before, summary = counts(), plan.summary
    assert_reads_work()
    url, data = plan_change_data(client, plan)
    response = client.post(url, data)
    assert_503_page(response)
    records = [r for r in caplog.records if r.name == "peaceplans.faults" and r.levelno == logging.ERROR]
    assert records and "InternalError" in records[-1].getMessage() and "read-only" in records[-1].getMessage()
    plan.refresh_from_db()
    assert plan.summary == summary and counts() == before
