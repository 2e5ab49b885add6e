"""python manage.py backup [--output PATH]: a consistent snapshot of the database (peaceplans/ops/backups.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from peaceplans.ops.backups import BackupProblem, backup


class Command(BaseCommand):
    help = (
        "Back the database up while the site runs: SQLite through its online backup API, PostgreSQL through "
        "pg_dump --format=custom. Default file: BACKUP_DIR/peaceplans-<UTC timestamp>.sqlite3 or .dump, mode 600."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="the backup file to write (never overwritten)")

    def handle(self, *, output: Path | None, **options):
        try:
            outcome = backup(output)
        except BackupProblem as exc:
            raise CommandError(f"{exc}. No backup was written.") from exc
        self.stdout.write(
            f"Backed up the {outcome.engine} database to {outcome.path} ({outcome.bytes:,} bytes, {outcome.seconds} s)."
        )
