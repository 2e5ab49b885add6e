"""python manage.py restore PATH: replace the database with a backup from `manage.py backup` (ops/backups.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from peaceplans.ops.backups import BackupProblem, restore


class Command(BaseCommand):
    help = (
        "Replace the whole database with a backup made by `manage.py backup` on the same engine. The file is "
        "checked first; a missing, damaged or foreign file is refused and the database left untouched."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="a .sqlite3 (SQLite) or .dump (PostgreSQL) backup file")

    def handle(self, *, path: Path, **options):
        try:
            outcome = restore(path)
        except BackupProblem as exc:
            raise CommandError(f"{exc}. The database was not changed.") from exc
        self.stdout.write(
            f"Restored the {outcome.engine} database from {outcome.path} in {outcome.seconds} s. "
            "Run `manage.py migrate` if the backup predates the code's migrations."
        )
