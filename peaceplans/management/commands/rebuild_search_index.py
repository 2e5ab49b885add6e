"""python manage.py rebuild_search_index: rewrite the full-text search index from the tables."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from peaceplans import search
from peaceplans.ops import dataversion


class Command(BaseCommand):
    help = (
        "Rewrite the SQLite full-text search index from the tables, in one transaction. "
        "On PostgreSQL there is nothing to rewrite: searches read the tables themselves."
    )

    def handle(self, **options):
        if connection.vendor != "sqlite":
            self.stdout.write(f"{connection.vendor}: searches read the tables directly; nothing to rebuild.")
            return
        with transaction.atomic():
            dataversion.bump()  # search pages may change: cached ones must not outlive the old index
            rows = search.reindex()
        self.stdout.write(f"Search index rebuilt: {rows} rows.")
