"""
Stored word diffs on a database of their own, on the session's engine (a temporary SQLite file,
opened as settings.py opens it: WAL, a busy timeout, IMMEDIATE transactions; or a PostgreSQL
database made for the test: tests/test_migrations.py's `roundtrip_database`), each in a spawned
process that migrates it and loads the demo, so the session's test database is never touched:

- two editors saving at once store the same diffs without a duplicate-key error: two threads,
  released together, save the same new text on two clauses of one point; each has read what is
  stored before either inserts (they meet at a barrier in diff.compare), so both insert the same
  keys. Without ON CONFLICT the second fails, which shows the race is real;
- migration 0014 backfills: a database with the demo, migrated back to 0013 (the table goes) and
  forward again, has every diff its pages can show, each exactly diff.compare's.

About 5 s a test on SQLite: a spawned process sets Django up, migrates and loads the demo.
"""

import multiprocessing
import os

import pytest

from tests.test_migrations import roundtrip_database  # noqa: F401 (the fixture)

PLAN = "russia-ukraine-2025"

# DATABASE_URL's engine, in a process of its own (no db fixture): kept in CI's PostgreSQL pass,
# where two transactions really do insert the same keys at once.
pytestmark = [pytest.mark.engine_dependent, pytest.mark.slow]


def configure(url: str) -> None:
    """Django set up in this (spawned) process on the database at `url`, migrated, with the demo loaded."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "peaceplans.settings"
    os.environ.setdefault("DJANGO_SECRET_KEY", "stored-diffs-test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)


def spawned(target, *args) -> dict:
    """Run target(*args, results) in a spawned process; what it put in `results`."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=target, args=(*args, results))
    process.start()
    outcome = results.get(timeout=240)
    process.join(timeout=60)
    assert process.exitcode == 0, outcome
    return outcome


def needed_and_stored() -> tuple[set, set, list]:
    """The keys the demo's pages can ask for, those stored by today's code, and the rows diff.compare disowns."""
    from peaceplans.compare import diff, memo
    from peaceplans.models import Clause, StoredDiff

    texts: dict[int, set[str]] = {}
    for point_id, text in Clause.objects.filter(dropped=False).values_list("point_id", "text"):
        texts.setdefault(point_id, set()).add(text)
    pairs = {memo.pair_key(a, b)[0]: (a, b) for group in texts.values() for a in group for b in group if a != b}
    stored = {row.key: row for row in StoredDiff.objects.filter(version=memo.DIFF_VERSION)}

    def read(row, a, b):
        return memo.decode(row.change, row.similarity, row.cosmetic, row.ops, a, b, memo.pair_key(a, b)[1])

    wrong = [key for key, (a, b) in pairs.items() if key in stored and read(stored[key], a, b) != diff.compare(a, b)]
    return set(pairs), set(stored), wrong


# ---- In spawned processes ------------------------------------------------------------------------


def backfill(url: str, results) -> None:
    configure(url)
    from django.core.management import call_command
    from django.db import connection

    from peaceplans.models import StoredDiff

    report = {"loaded": len(needed_and_stored()[1])}
    call_command("migrate", "peaceplans", "0013", verbosity=0)
    report["table_at_0013"] = StoredDiff._meta.db_table in connection.introspection.table_names()
    call_command("migrate", verbosity=0)
    needed, stored, wrong = needed_and_stored()
    report.update(needed=len(needed), missing=len(needed - stored), wrong=len(wrong))
    results.put(report)


def save_at_once(url: str, results) -> None:
    """Three rounds of two threads saving one new text at once on two clauses of point 6 (the module's docstring)."""
    configure(url)
    import threading

    from django.db import connection, transaction

    from peaceplans.compare import diff
    from peaceplans.models import Clause, StoredDiffQuerySet

    clauses = list(Clause.objects.filter(point__plan__slug=PLAN, point__key="6", dropped=False).order_by("pk")[:2])
    real_compare, real_bulk_create = diff.compare, StoredDiffQuerySet.bulk_create
    report = {}

    def run(name: str, text: str, *, atomic: bool, meet: bool) -> None:
        start, met, errors = threading.Barrier(2), threading.Barrier(2), []
        local = threading.local()

        def compare(a, b):
            if meet and not getattr(local, "met", False):
                local.met = True
                met.wait(timeout=30)  # both threads have read what is stored; neither has inserted
            return real_compare(a, b)

        def save(pk: int) -> None:
            try:
                clause = Clause.objects.get(pk=pk)
                start.wait(timeout=30)
                clause.text = text
                if atomic:
                    with transaction.atomic():  # as the admin saves
                        clause.save()
                else:
                    clause.save()
            except Exception as exc:  # noqa: BLE001 (every failure is the finding)
                errors.append(f"{type(exc).__name__}: {exc}")
                met.abort()
            finally:
                connection.close()

        diff.compare = compare
        threads = [threading.Thread(target=save, args=(clause.pk,)) for clause in clauses]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        diff.compare = real_compare
        needed, stored, wrong = needed_and_stored()
        report[name] = {"errors": errors, "missing": len(needed - stored), "wrong": len(wrong)}

    run("autocommit", "Both editors save this text at the same moment.", atomic=False, meet=True)
    run("in transactions", "Both editors save this other text at the same moment.", atomic=True, meet=False)

    def plain_bulk_create(self, objs, *args, **kwargs):
        return real_bulk_create(self, objs, batch_size=kwargs.get("batch_size"))  # no ON CONFLICT

    StoredDiffQuerySet.bulk_create = plain_bulk_create
    run("without ON CONFLICT", "A third text both editors save at the same moment.", atomic=False, meet=True)
    results.put(report)


# ---- The tests ---------------------------------------------------------------------------------------


def test_migration_0014_backfills_every_diff_the_pages_can_show(roundtrip_database):  # noqa: F811
    report = spawned(backfill, roundtrip_database)
    assert report["loaded"] > 50 and not report["table_at_0013"]
    assert report["needed"] == report["loaded"] and report["missing"] == 0 and report["wrong"] == 0


def test_two_editors_saving_at_once_store_the_same_diffs_without_an_error(roundtrip_database):  # noqa: F811
    report = spawned(save_at_once, roundtrip_database)
    for name in ("autocommit", "in transactions"):
        assert report[name] == {"errors": [], "missing": 0, "wrong": 0}, name
    # The control: the same race with a plain INSERT fails one of the two saves on the duplicate key.
    assert len(report["without ON CONFLICT"]["errors"]) == 1
    assert "IntegrityError" in report["without ON CONFLICT"]["errors"][0]
