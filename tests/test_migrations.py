"""
Migrations (issue 8): the models and the migrations agree, every migration can be reversed, and
a loaded database migrates down to zero and back up with its data migrations run again.

The round trip runs tests/migration_roundtrip.py in a process of its own on a database of its
own (a temporary SQLite file, or on PostgreSQL a database named after the session's with
`_migrate` added, made and dropped here), so the session's test database and its demo data are
never touched. Run time: under 1 s for the first two tests; the round trip 10-16 s on SQLite and
12-21 s on PostgreSQL on the shared 2-core machine (2026-11-29).
"""

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunPython, RunSQL

ROOT = Path(__file__).resolve().parents[1]
# Tables of the app, their history tables and, on SQLite, the search index's FTS5 tables.
APP_PREFIX = "peaceplans_"


@pytest.mark.django_db
def test_models_and_migrations_agree():
    """`makemigrations --check` (also a line of .ci/run): a model change without its migration fails here."""
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"models and migrations differ (makemigrations --check exited {exit_.code}):\n{out.getvalue()}")
    assert "No changes detected" in out.getvalue()


def test_every_data_migration_of_the_app_has_a_reverse():
    """A RunPython without reverse_code (or RunSQL without reverse_sql) would stop `migrate peaceplans zero`."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    missing = [
        f"{name} operation {index}"
        for (app, name), migration in sorted(loader.disk_migrations.items())
        if app == "peaceplans"
        for index, operation in enumerate(migration.operations)
        if isinstance(operation, RunPython | RunSQL) and not operation.reversible
    ]
    assert missing == []


@pytest.fixture
def roundtrip_database(tmp_path):
    """A DATABASE_URL of a database of its own, on the session's kind of database; dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
        return
    if connection.vendor != "postgresql":
        pytest.skip(f"the round trip runs on SQLite and PostgreSQL, not {connection.vendor}")
    import psycopg

    base = urlsplit(os.environ["DATABASE_URL"])
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # one database per xdist worker
    name = base.path.lstrip("/") + (f"_{worker}" if worker else "") + "_migrate"
    admin_url = urlunsplit(base._replace(path="/postgres"))

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(base._replace(path=f"/{name}"))
    finally:
        drop()


@pytest.mark.slow
@pytest.mark.engine_dependent  # DATABASE_URL's engine, in a process of its own (no db fixture)
def test_a_loaded_database_migrates_down_to_zero_and_back_up(roundtrip_database):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_SECRET_KEY": "test-only-secret-key-for-the-migration-round-trip",
        "DATABASE_URL": roundtrip_database,
    }
    result = subprocess.run(
        [sys.executable, "tests/migration_roundtrip.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    before, zero, after = report["before"], report["at_zero"], report["after"]

    # Loaded: the demo, an editor's account in the Editors group, history rows, the search index.
    assert before["history_rows"] >= 4 and before["edited_by_editor"] == 1
    assert {"change_stance", "add_revision", "publish_revision"} <= set(before["editor_permissions"])
    assert before["search_objects"], "the search index (0005/0008) exists"

    # At zero: every table of the app gone (history and search index included); accounts stay.
    assert [t for t in zero["tables"] if t.startswith(APP_PREFIX)] == []
    assert not zero["editors_group"] and zero["editor_account"]

    # Back up: every table back, the data migrations run again (0002's group, 0009's permission,
    # 0005/0008's search objects).
    assert after["tables"] == before["tables"]
    assert after["editor_permissions"] == before["editor_permissions"]
    assert after["search_objects"] == before["search_objects"]
    assert after["editor_account"]

    # The demo loads again and the pages read it, search included.
    assert report["demo_page"]["status"] == 200 and "28-point" in report["demo_page"]["html"]
    assert report["search_page"]["status"] == 200 and "NATO" in report["search_page"]["html"]
    assert (
        "Nothing matches" not in report["search_page"]["html"]
        and 'id="results-clause"' in report["search_page"]["html"]
    )
    print(
        f"{report['vendor']}: load {report['seconds_loading']} s, down {report['seconds_down']} s, "
        f"up {report['seconds_up']} s, reload and render {report['seconds_reload_and_render']} s"
    )
