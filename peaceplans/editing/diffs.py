"""
Word diffs stored when texts change, so that no page request diffs (compare/memo.py reads them).

Which pairs. Pages diff two texts of one point only: the comparison pairs a point's wording in A
and in B, the point page pairs it in each revision with the one it is read against. So for every
point whose texts changed, each pair of its different, non-dropped texts across the plan's
revisions, published or not (publishing a revision then needs no diff): one row per unordered
pair (memo.py, "Keys"). Added and dropped rows and unchanged texts need none (diff.trivial).

When. In the writing transaction, so readers see the texts and their diffs together:
- a clause's post_save (the admin and its inline clauses, history restores and reverts,
  loaddata) and the clauses' bulk writes (models.clause_texts_written: generate_synthetic's
  bulk_create) store the diffs of the points they touched;
- inside `diffs_batched()` they only note the points, and the block stores them all once, at its
  end: revisions_import (so the importer, the paste page and load_demo; it also notes every point
  of its plan, so a re-import that changes nothing still makes sure of them) and generate_synthetic;
- migration 0014, `manage.py store_diffs` and a `migrate` that finds rows of an older
  DIFF_VERSION store every point's (`diffs_store_all`).
Rows go in in key order with ON CONFLICT DO UPDATE: two editors saving at once store the same rows
without a duplicate-key error, and on PostgreSQL without a deadlock between their inserts.
"""

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.signals import post_migrate, post_save
from django.dispatch import receiver

from peaceplans.compare import diff, memo
from peaceplans.models import Clause, Point, StoredDiff, clause_texts_written
from peaceplans.models.texts import TEXT_FIELDS

POINTS_PER_READ = 500  # points whose texts are read at once
KEYS_PER_QUERY = 2000  # well under SQLite's 32,766 variables and PostgreSQL's 65,535
ROWS_PER_INSERT = 500
STORED_FIELDS = ["version", "change", "similarity", "cosmetic", "ops"]

AnyModel = type[models.Model] | None  # today's model (None), or the one of a migration's state
_local = threading.local()  # .pending: {database alias: point ids} inside diffs_batched()


def diffs_store(
    *, points: Iterable[int], using: str = DEFAULT_DB_ALIAS, clause_model: AnyModel = None, diff_model: AnyModel = None
) -> int:
    """
    Store the diff of every pair of different texts of these points that has no row of today's
    DIFF_VERSION; the number computed. A migration passes the models of its state.
    """
    clause_model = clause_model or Clause
    point_ids = sorted(set(points))
    computed = 0
    for start in range(0, len(point_ids), POINTS_PER_READ):
        texts = (
            clause_model._default_manager.using(using)
            .filter(point_id__in=point_ids[start : start + POINTS_PER_READ], dropped=False)
            .order_by()
            .values_list("point_id", "text")
        )
        by_point: dict[int, set[str]] = {}
        for point_id, text in texts:
            by_point.setdefault(point_id, set()).add(text)
        computed += _store_pairs(_pairs(by_point.values()), using, diff_model or StoredDiff)
    return computed


def diffs_store_all(
    *, using: str = DEFAULT_DB_ALIAS, clause_model: AnyModel = None, diff_model: AnyModel = None, prune: bool = False
) -> int:
    """
    Store every missing diff of every point; the number computed. `prune` then deletes the rows no
    pair needs any more: those of older DIFF_VERSIONs, and those of texts since edited away.
    """
    clause_model, diff_model = clause_model or Clause, diff_model or StoredDiff
    points = clause_model._default_manager.using(using).order_by().values_list("point_id", flat=True).distinct()
    computed = diffs_store(points=list(points), using=using, clause_model=clause_model, diff_model=diff_model)
    if prune:
        rows = diff_model._default_manager.using(using)
        rows.exclude(version=memo.DIFF_VERSION).delete()
        texts = clause_model._default_manager.using(using).filter(dropped=False).order_by()
        by_point: dict[int, set[str]] = {}
        for point_id, text in texts.values_list("point_id", "text").iterator(chunk_size=5000):
            by_point.setdefault(point_id, set()).add(text)
        needed = set(_pairs(by_point.values()))
        unneeded = [key for key in rows.values_list("key", flat=True).iterator(chunk_size=5000) if key not in needed]
        for start in range(0, len(unneeded), KEYS_PER_QUERY):
            rows.filter(key__in=unneeded[start : start + KEYS_PER_QUERY]).delete()
    return computed


def _pairs(texts_per_point: Iterable[set[str]]) -> dict[str, tuple[str, str]]:
    """Every pair of different texts of each point, by key, in the direction its row holds (memo.pair_key)."""
    pairs = {}
    for texts in texts_per_point:
        hashed = sorted((memo.text_hash(text), text) for text in texts)
        for (ha, a), (hb, b) in combinations(hashed, 2):
            pairs[ha + hb] = (a, b)
    return pairs


def _store_pairs(pairs: dict[str, tuple[str, str]], using: str, diff_model: type[models.Model]) -> int:
    keys = sorted(pairs)
    rows = diff_model._default_manager.using(using)
    stored: set[str] = set()
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]  # a migration's model has no StoredDiffQuerySet: filter as it does
        stored.update(rows.filter(key__in=chunk, version=memo.DIFF_VERSION).values_list("key", flat=True))
    missing = [key for key in keys if key not in stored]  # in key order: concurrent inserts lock rows alike
    for start in range(0, len(missing), ROWS_PER_INSERT):
        batch = [
            diff_model(key=key, **memo.encode(diff.compare(*pairs[key])))
            for key in missing[start : start + ROWS_PER_INSERT]
        ]
        rows.bulk_create(batch, update_conflicts=True, unique_fields=["key"], update_fields=STORED_FIELDS)
    return len(missing)


# ---- When texts change ---------------------------------------------------------------------------


@dataclass
class Batch:
    computed: int = 0  # diffs computed at the end of the outermost block


@contextmanager
def diffs_batched() -> Iterator[Batch]:
    """
    Inside the block, saves of clauses only note their points; their diffs are stored once, when
    the block ends without an error (a write of many clauses would otherwise read each point's
    texts once per clause). Nested blocks store at the end of the outermost one.
    """
    batch = Batch()
    if getattr(_local, "pending", None) is not None:
        yield batch
        return
    _local.pending = {}
    try:
        yield batch
        pending = _local.pending
    finally:
        _local.pending = None
    for using, points in pending.items():
        batch.computed += diffs_store(points=points, using=using)


def texts_written(using: str, points: Iterable[int]) -> None:
    """These points' texts changed: store their diffs now, or at the end of diffs_batched()."""
    pending = getattr(_local, "pending", None)
    if pending is None:
        diffs_store(points=points, using=using)
    else:
        pending.setdefault(using, set()).update(points)


def plan_texts_written(plan_id: int, using: str = DEFAULT_DB_ALIAS) -> None:
    """All the plan's points: an import makes sure of its plan's diffs, even one that changed no clause."""
    texts_written(using, Point.objects.using(using).filter(plan_id=plan_id).values_list("pk", flat=True))


@receiver(post_save, sender=Clause, dispatch_uid="diffs_clause_saved")
def _clause_saved(sender, instance, using, update_fields=None, **kwargs):
    if update_fields is None or TEXT_FIELDS.intersection(update_fields):
        texts_written(using, [instance.point_id])


@receiver(clause_texts_written, dispatch_uid="diffs_clauses_written")
def _clauses_written(sender, using, points, **kwargs):
    texts_written(using, points)


@receiver(post_migrate, dispatch_uid="diffs_after_migrate")
def _after_migrate(sender, app_config, using, **kwargs):
    """New diff code (another DIFF_VERSION) deployed: its diffs are stored again, the old ones dropped."""
    table = StoredDiff._meta.db_table
    if app_config.label != "peaceplans" or table not in connections[using].introspection.table_names():
        return  # another app, or migrated back to before 0014
    if StoredDiff.objects.using(using).exclude(version=memo.DIFF_VERSION).exists():
        diffs_store_all(using=using)
        StoredDiff.objects.using(using).exclude(version=memo.DIFF_VERSION).delete()
