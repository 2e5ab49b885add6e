"""python manage.py store_diffs: store every word diff the pages may show that is not stored yet."""

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from peaceplans.compare import memo
from peaceplans.editing.diffs import diffs_store_all
from peaceplans.models import StoredDiff


class Command(BaseCommand):
    help = (
        "Compute and store the word diff of every pair of different texts of each point that has no row of "
        "today's diff code (compare/memo.py, DIFF_VERSION). migrate runs it when it finds rows of older code; "
        "run it by hand after writing texts with raw SQL."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Also delete the rows no pair needs any more (older diff code, texts since edited away).",
        )

    def handle(self, *, prune: bool, **options):
        started = time.perf_counter()
        with transaction.atomic():
            computed = diffs_store_all(prune=prune)
        self.stdout.write(
            f"Stored {computed:,} word diffs in {time.perf_counter() - started:.1f} s; "
            f"{StoredDiff.objects.filter(version=memo.DIFF_VERSION).count():,} rows of {memo.DIFF_VERSION}."
        )
