"""python manage.py generate_synthetic [--plans 20 --revisions 30 --points 120 --stances 3 --events 3000 --seed 2025]"""

from django.core.management.base import BaseCommand, CommandError

from peaceplans.synthetic import LIMITS, Spec, SyntheticProblem, synthetic_generate

DEFAULTS = Spec()


class Command(BaseCommand):
    help = (
        "Generate a large synthetic dataset (plans synthetic-01, synthetic-02, ...) for measuring the site at "
        "scale. The same options and seed always give the same content. All or nothing; the demo plan is never "
        "touched. Refuses when synthetic plans exist, unless --replace."
    )

    def add_arguments(self, parser):
        options = {
            "plans": "plans to generate",
            "revisions": "revisions (texts) per plan",
            "points": "points in each plan's first text; later texts drop some and add others",
            "stances": "stances of each party on each point",
            "events": "timeline events over all plans",
            "seed": "random seed: the same seed gives the same data",
        }
        for name, meaning in options.items():
            low, high = LIMITS[name]
            parser.add_argument(
                f"--{name}",
                type=int,
                default=getattr(DEFAULTS, name),
                help=f"{meaning} ({low:,} to {high:,}; default %(default)s)",
            )
        parser.add_argument(
            "--replace", action="store_true", help="delete the synthetic plans already there, then generate"
        )

    def handle(self, *, replace: bool, **options):
        spec = Spec(**{name: options[name] for name in LIMITS})
        try:
            summary = synthetic_generate(spec=spec, replace=replace)
        except SyntheticProblem as exc:
            raise CommandError(f"{exc} Nothing was written.") from exc
        if summary.replaced:
            self.stdout.write(f"Deleted the {summary.replaced} synthetic plan(s) that were there.")
        counts = ", ".join(f"{n:,} {name}" for name, n in summary.counts.items())
        self.stdout.write(f"Generated in {summary.seconds:.1f} s: {counts}.")
        self.stdout.write(f"Seed {spec.seed}; content digest {summary.digest} (the same options give the same digest).")
