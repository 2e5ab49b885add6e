"""python manage.py rebuild_search_index: rewrite the full-text search index, and its list of words, from the tables."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from peaceplans import search
from peaceplans.ops import dataversion


class Command(BaseCommand):
    help = (
        "Rewrite the SQLite full-text search index and the list of public words behind 'Did you mean' "
        "from the tables, in one transaction. On PostgreSQL searches read the tables themselves: only "
        "the list of words is rewritten."
    )

    def handle(self, **options):
        with transaction.atomic():
            dataversion.bump()  # search pages may change: cached ones must not outlive the old index
            rows = search.reindex()
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM {search.words.TABLE}")  # noqa: S608 (a constant)
                words = cursor.fetchone()[0]
        if connection.vendor == "sqlite":
            self.stdout.write(f"Search index rebuilt: {rows} rows, {words} words.")
        else:
            vendor = connection.vendor
            self.stdout.write(f"{vendor}: searches read the tables directly; list of words rebuilt: {words}.")
