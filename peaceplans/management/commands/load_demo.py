"""python manage.py load_demo: the shipped demo dataset, loaded or refreshed in place."""

from django.core.management.base import BaseCommand, CommandError

from peaceplans.editing.services import DEMO_DIR, ImportProblem, demo_load


class Command(BaseCommand):
    help = f"Load the demo plan from {DEMO_DIR}. Idempotent: re-running updates in place."

    def handle(self, **options):
        try:
            counts = demo_load()
        except ImportProblem as exc:
            raise CommandError(f"{str(exc).rstrip('.')}. Nothing was loaded.") from exc
        self.stdout.write(", ".join(f"{n} {name}" for name, n in counts.items()))
