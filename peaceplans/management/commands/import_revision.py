"""python manage.py import_revision FILE.json --plan SLUG"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from peaceplans.services import ImportProblem, revision_import_file


class Command(BaseCommand):
    help = (
        "Import one revision, or a list of revisions, from a JSON file in the format of "
        "peaceplans/data/demo/revisions.json. Re-running updates in place. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--plan", required=True, help="Slug of the plan, e.g. russia-ukraine-2025.")

    def handle(self, file: Path, plan: str, **options):
        try:
            results = revision_import_file(path=file, plan_slug=plan)
        except ImportProblem as exc:
            raise CommandError(f"{str(exc).rstrip('.')}. Nothing was imported.") from exc
        for r in results:
            verb = "created" if r.created else ("updated" if r.changed else "unchanged")
            self.stdout.write(
                f"{r.revision.slug}: {verb}; clauses +{r.clauses_created} ~{r.clauses_updated} "
                f"-{r.clauses_removed}; new points: {', '.join(r.points_created) or 'none'}"
            )
