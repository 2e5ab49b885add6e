"""
Keeping the SQLite index exact inside the writing transaction (PostgreSQL searches the tables
themselves), and the words of the public texts (words.py) in step on both. apps.py imports this
module so its receivers connect.
"""

# ruff: noqa: S608 -- the SQL below is assembled from this module's constants only; every
# value (the query words, ids, limits) travels as a parameter.

from django.db import connections
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from peaceplans.models import Annotation, Clause, Event, Plan, Point, Revision, Stance
from peaceplans.search import words
from peaceplans.search.backends import FTS_EXACT, FTS_TABLE, FTS_TERMS, _backend


def reindex(*, plan: Plan | None = None) -> int:
    """
    Rewrite the index from the tables, for one plan or for all; the number of rows it now
    holds (0 on PostgreSQL, which has no index to rewrite, only its words). Bulk writes call it inside
    their transaction, so that nothing they did (or did without signals) is missed.
    """
    return _backend().reindex(plan.pk if plan else None)


def _refresh(kind: str, where: str, pk: int, using: str) -> None:
    _backend(connections[using]).refresh(kind, where, [pk])


@receiver(post_save, sender=Clause, dispatch_uid="search_clause_saved")
def _clause_saved(sender, instance, using, **kwargs):
    """Its point's notes and stances follow too: wording in an unpublished revision only hides the point, and them."""
    _refresh("clause", "c.id = %s", instance.pk, using)
    _refresh("change", "c.id = %s", instance.pk, using)
    _refresh("note", "a.point_id = %s", instance.point_id, using)
    _refresh("stance", "s.point_id = %s", instance.point_id, using)


@receiver(post_save, sender=Stance, dispatch_uid="search_stance_saved")
def _stance_saved(sender, instance, using, **kwargs):
    _refresh("stance", "s.id = %s", instance.pk, using)


@receiver(post_save, sender=Annotation, dispatch_uid="search_note_saved")
def _note_saved(sender, instance, using, **kwargs):
    """Publishing adds the note, unpublishing removes it: the row follows its status."""
    _refresh("note", "a.id = %s", instance.pk, using)


@receiver(post_save, sender=Event, dispatch_uid="search_event_saved")
def _event_saved(sender, instance, using, **kwargs):
    _refresh("event", "e.id = %s", instance.pk, using)


@receiver(post_save, sender=Revision, dispatch_uid="search_revision_saved")
def _revision_saved(sender, instance, using, created, **kwargs):
    """Its clauses carry its plan in the index; they, and the stances answering it, follow whether it is published."""
    if not created:
        _refresh("clause", "c.revision_id = %s", instance.pk, using)
        _refresh("change", "c.revision_id = %s", instance.pk, using)
        _refresh("stance", "s.revision_id = %s", instance.pk, using)
        its_points = "IN (SELECT point_id FROM peaceplans_clause WHERE revision_id = %s)"
        _refresh("note", f"a.point_id {its_points}", instance.pk, using)
        _refresh("stance", f"s.point_id {its_points}", instance.pk, using)


@receiver(post_save, sender=Point, dispatch_uid="search_point_saved")
def _point_saved(sender, instance, using, created, **kwargs):
    """Its notes carry its plan in the index (point titles themselves are not searched)."""
    if not created:
        _refresh("note", "a.point_id = %s", instance.pk, using)


@receiver(post_delete, sender=Clause, dispatch_uid="search_clause_deleted")
@receiver(post_delete, sender=Stance, dispatch_uid="search_stance_deleted")
@receiver(post_delete, sender=Annotation, dispatch_uid="search_note_deleted")
@receiver(post_delete, sender=Event, dispatch_uid="search_event_deleted")
def _deleted(sender, instance, using, **kwargs):
    kind = {Clause: "clause", Stance: "stance", Annotation: "note", Event: "event"}[sender]
    _backend(connections[using]).remove(kind, instance.pk)
    if sender is Clause:  # its change row too; and its point may be public again, and its notes and stances with it
        _backend(connections[using]).remove("change", instance.pk)
        _refresh("note", "a.point_id = %s", instance.point_id, using)
        _refresh("stance", "s.point_id = %s", instance.point_id, using)


@receiver(post_migrate, dispatch_uid="search_after_migrate")
def _after_migrate(sender, app_config, using, **kwargs):
    """
    `flush` empties the tables but not the FTS5 tables nor the words table, and emits this too:
    start from the tables. Only with the layout this module writes (migration 0017 makes the
    words table on both databases), not after a migration back to an older one.
    """
    conn = connections[using]
    if app_config.label != "peaceplans" or conn.vendor not in ("sqlite", "postgresql"):
        return
    needed = {words.TABLE} | ({FTS_TABLE, FTS_EXACT, FTS_TERMS} if conn.vendor == "sqlite" else set())
    if needed <= set(conn.introspection.table_names()):
        _backend(conn).reindex(None)
