"""
/healthz checks that the database can write (issue 19, item 5; peaceplans/ops/health.py): a read-only
or full SQLite database, a real full disk (a small tmpfs; root only, skipped otherwise) and a read-only
PostgreSQL session each answer 503 naming the cause; a writer holding SQLite's lock does not make the
probe wait. Each on a file copy of the test database put in place of the default connection
(tests/ops/test_db_faults.py's fixtures), outside the test transaction a copy needs.

Runs in about 3 s.
"""

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time

import pytest
from django.test import Client

from peaceplans.models import DataVersion
from tests.ops.test_db_faults import pg_read_only, sqlite_copy  # noqa: F401 (fixtures)

PLAN = "russia-ukraine-2025"


@pytest.fixture(autouse=True)
def test_database(django_db_setup):
    """
    The test database exists (migrated, demo loaded), without the transaction a `db` test runs in (a
    copy cannot be made inside it). pytest-django sets it up only when some selected test is marked
    django_db: the first test here is.
    """


@pytest.mark.django_db
def test_the_write_check_leaves_the_data_version_and_the_data_alone(client):
    before = DataVersion.objects.get(pk=1)
    assert client.get("/healthz?part=database").json() == {"status": "ok", "database": "ok"}
    after = DataVersion.objects.get(pk=1)
    assert (after.token, after.changed_at) == (before.token, before.changed_at)


def test_a_read_only_sqlite_database_is_a_503_naming_it(sqlite_copy, caplog):  # noqa: F811
    sqlite_copy.open(read_only=True)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error: read-only", "cache": "ok"}
    assert str(sqlite_copy.path.parent).encode() not in response.content  # no path
    assert any("read-only" in r.getMessage() for r in caplog.records if r.name == "peaceplans.faults")


def test_a_sqlite_database_at_its_page_limit_is_a_503_disk_full(sqlite_copy):  # noqa: F811
    sqlite_copy.open(max_pages=sqlite_copy.page_count())
    response = Client().get("/healthz?part=database")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error: disk full"}


def test_a_sqlite_database_whose_writer_holds_the_lock_is_writable_and_answers_at_once(sqlite_copy):  # noqa: F811
    """Another connection writing proves the database writable: the probe never queues for the busy timeout."""
    writer = sqlite3.connect(sqlite_copy.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = Client().get("/healthz?part=database")
        took = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}
    assert took < 1, took  # the busy timeout is 20 s


def test_a_sqlite_database_on_a_full_disk_is_a_503_disk_full(sqlite_copy, tmp_path):  # noqa: F811
    """A real full disk: a small tmpfs (root only; skipped otherwise) holding the database, filled up."""
    disk = tmp_path / "disk"
    disk.mkdir()
    size = sqlite_copy.path.stat().st_size + 2 * 1024 * 1024
    mount, umount = shutil.which("mount") or "/bin/mount", shutil.which("umount") or "/bin/umount"
    mounted = subprocess.run([mount, "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        shutil.copy(sqlite_copy.path, disk / "db.sqlite3")
        sqlite_copy.path = disk / "db.sqlite3"
        sqlite_copy.open()
        assert Client().get("/healthz?part=database").json() == {"status": "ok", "database": "ok"}
        with open(disk / "filler", "wb") as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        assert os.statvfs(disk).f_bavail == 0
        response = Client().get("/healthz?part=database")
        assert response.status_code == 503
        assert response.json() == {"status": "error", "database": "error: disk full"}
        assert Client().get(f"/plans/{PLAN}/points/6/").status_code == 200  # reads still work
    finally:
        sqlite_copy.close()
        subprocess.run([umount, str(disk)], check=False)


@pytest.mark.engine_dependent  # kept in CI's PostgreSQL pass, though it takes no `db` fixture
def test_a_read_only_postgresql_server_is_a_503_naming_it(pg_read_only):  # noqa: F811
    response = Client().get("/healthz?part=database")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error: read-only"}
