"""python manage.py import_revision FILE.json --plan SLUG [--unpublished]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from peaceplans.editing.services import ImportProblem, revision_import_file


class Command(BaseCommand):
    help = (
        "Import one revision, or a list of revisions, from a JSON file in the format of "
        "peaceplans/data/demo/revisions.json. Re-running updates in place. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--plan", required=True, help="Slug of the plan, e.g. russia-ukraine-2025.")
        parser.add_argument(
            "--unpublished",
            action="store_true",
            help="Import the revisions unpublished: shown nowhere public until an editor publishes them in the "
            "admin. Without it, new revisions are public and existing ones keep their state.",
        )

    def handle(self, file: Path, plan: str, unpublished: bool = False, **options):
        try:
            results = revision_import_file(path=file, plan_slug=plan, public=False if unpublished else None)
        except ImportProblem as exc:
            raise CommandError(f"{str(exc).rstrip('.')}. Nothing was imported.") from exc
        for r in results:
            verb = "created" if r.created else ("updated" if r.changed else "unchanged")
            self.stdout.write(
                f"{r.revision.slug}: {verb}; clauses +{r.clauses_created} ~{r.clauses_updated} "
                f"-{r.clauses_removed}; new points: {', '.join(r.points_created) or 'none'}"
                + ("" if r.revision.public else "; unpublished: publish it in the admin when it is checked")
            )
