"""
One history record per save, many-to-many sets included (issue 8, "every save is a revision").

django-simple-history writes a record when a row is saved, and one more each time one of its
tracked many-to-many sets changes (Revision's authors and sources, Clause's sources, Event's
parties): an import or an admin form that saves a row and then its sets left two or three
records, the first of them without the sets. Writes that set both pause the history while they
do (`history_paused`) and then write one record of the result (`record_version`).
"""

from contextlib import contextmanager

from django.utils import timezone


def tracked_m2m(instance) -> list:
    """The many-to-many fields whose sets the object's history keeps."""
    return instance.history.model._history_m2m_fields


@contextmanager
def history_paused(instance):
    """Saves of the object and of its many-to-many sets inside the block write no history record."""
    instance.skip_history_when_saving = True
    try:
        yield
    finally:
        del instance.skip_history_when_saving


def record_version(instance, *, history_type: str, user=None) -> None:
    """
    One history record of the object as it now is, its many-to-many sets included, as simple-history
    writes on a save. The user is `user`, else whom simple-history would name (the object's
    `_history_user`, or the signed-in user of the current request).
    """
    record_model = instance.history.model
    record = record_model(
        history_date=timezone.now(),
        history_type=history_type,
        history_user=user if user is not None else record_model.get_default_history_user(instance),
        **{field.attname: getattr(instance, field.attname) for field in record_model.tracked_fields},
    )
    record.save()
    for field in tracked_m2m(instance):
        rows_model = getattr(record, field.name).model
        through = getattr(instance, field.name).through
        rows = through.objects.filter(**{field.m2m_field_name(): instance}).order_by("pk")
        columns = [f.attname for f in through._meta.fields]
        rows_model.objects.bulk_create(
            rows_model(history=record, **{c: getattr(row, c) for c in columns}) for row in rows
        )
