"""
The QuerySet that advances the data version (models.DataVersion) for the bulk writes that send
no model signal.

Where writes advance it (docs/architecture.md, "The data version"):
- services call `ops.dataversion.bump()` first thing in their transaction;
- the receivers in peaceplans/signals.py, for each save, delete and many-to-many change made
  through a model (the admin's saves, loaddata, history reverts);
- `VersionedQuerySet`, below, for QuerySet.update(), bulk_create() and bulk_update() on the
  app's models, which send no signal.
Raw SQL and bulk writes to other apps' tables (auth.User) are not seen: whoever writes that way
calls `ops.dataversion.bump()` in the same transaction (the synthetic data generator does).
"""

from django.apps import apps
from django.db import connections, models


def around_write(using: str, write):
    """
    Run `write()` and advance the version with it. Inside a transaction the token is written
    first: readers see the new token and the new data together at commit, and the version row
    is the first row every writing transaction locks, so two writers cannot deadlock on it. In
    autocommit it is written just after: a reader may see new data under the old token for a
    moment (that token is dead a moment later), never old data under the new one.
    """
    # Looked up, not imported: DataVersion is the last model defined (positions.py), so that
    # dumpdata writes it last and loaddata restores a backup's token over the rows it loaded.
    version = apps.get_model("peaceplans", "DataVersion")
    if connections[using].in_atomic_block:
        version.advance(using)
        return write()
    result = write()
    version.advance(using)
    return result


class VersionedQuerySet(models.QuerySet):
    """The base of the app's QuerySets: bulk writes, which send no signal, advance the data version too."""

    def update(self, **kwargs):
        return around_write(self.db, lambda: super(VersionedQuerySet, self).update(**kwargs))

    def bulk_create(self, objs, *args, **kwargs):
        return around_write(self.db, lambda: super(VersionedQuerySet, self).bulk_create(objs, *args, **kwargs))

    def bulk_update(self, objs, fields, *args, **kwargs):
        return around_write(self.db, lambda: super(VersionedQuerySet, self).bulk_update(objs, fields, *args, **kwargs))
