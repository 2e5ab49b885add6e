"""
In-process render times of every public page, and the compressed bytes of each first load
and HTMX fragment; a script, not a test. run.py runs it once per dataset, each time in a
fresh process, after `collectstatic`.

    .venv/bin/python tests/bench/bench_pages.py --db PATH --static-root DIR --json OUT
        [--dataset NAME] [--plan SLUG] [--runs 30] [--cold-runs 15] [--budget 2] [--max-pairs N] [--only KINDS]

Each request goes to Django's WSGI handler as gunicorn hands it one (every middleware, the
request_started/finished signals that keep or close the database connection as
DATABASE_CONN_MAX_AGE says, DEBUG off, Accept-Encoding: gzip, no cookies: an anonymous
visitor), and each page is timed four ways:
- first: its first render in this process (templates compiled, every cache empty);
- cold: the median of renders with every cache emptied before each one (the page cache, any
  memo kept in a Django cache, and the bounded lru_caches of peaceplans' modules, such as the
  diff memo of compare/memo.py): what the first visitor to a page nobody has asked for since the
  server started waits for;
- warm: the median of repeated renders, caches as they are: what the next visitors get;
- uncached: the median of repeated renders with the page cache off (PAGE_CACHE_SECONDS = 0,
  the app's own switch): the render itself, with the app's internal memos warm;
- cold uncached (comparisons only): the page cache off and every memo emptied before each
  render, the diff memo included: what issue 18's 10 ms budget is about for a comparison.
Figures are milliseconds; the first non-200 answer stops the run with an error.
"""

import argparse
import contextlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    FOREIGN_ENV,
    HTML_PAGES,
    ROOT,
    app_env,
    compare_path,
    first_load,
    fragment_bytes,
    fragments,
    median_ms,
    pages,
    pairs,
)

HEADERS = {"Accept-Encoding": "gzip"}
MIN_RUNS = 5


def setup_django(db: Path, static_root: Path) -> None:
    for key in FOREIGN_ENV:
        os.environ.pop(key, None)
    os.environ.update(app_env(db, static_root))
    os.environ["DJANGO_SETTINGS_MODULE"] = "peaceplans.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    if settings.DEBUG:
        raise RuntimeError("DEBUG is on: the figures would mean nothing")
    if not Path(settings.STATIC_ROOT, "staticfiles.json").exists():
        raise RuntimeError(f"no manifest in {settings.STATIC_ROOT}: run collectstatic first")


def catalogue(plan_slug: str | None) -> dict:
    """
    What to ask for, chosen from the data by fixed rules so both datasets are measured alike:
    the plan named (else the one with most revisions), its revisions in date order, the point
    with most clauses, the party with most stances, the revision with most clauses, and the
    most common word of 6+ letters in its first revision as the search.
    """
    from django.db.models import Count, Q

    from peaceplans.models import Clause, Party, Plan

    plans = Plan.objects.annotate(n=Count("revisions")).order_by("-n", "slug")
    plan = Plan.objects.get(slug=plan_slug) if plan_slug else plans.first()
    if plan is None:
        raise RuntimeError("the database has no plan")
    revisions = list(plan.revisions.in_order().values_list("slug", flat=True))
    if len(revisions) < 2:
        raise RuntimeError(f"plan {plan.slug} has fewer than two revisions: nothing to compare")
    point = plan.points.annotate(n=Count("clauses")).order_by("-n", "sort_order", "pk").first()
    party = Party.objects.annotate(n=Count("stances", filter=Q(stances__plan=plan))).order_by("-n", "slug").first()
    revision = plan.revisions.annotate(n=Count("clauses")).order_by("-n", "published_on", "pk").first()
    first_texts = Clause.objects.filter(revision__slug=revisions[0], revision__plan=plan).values_list("text", flat=True)
    words = Counter(word.strip(".,;:()\"'“”‘’").lower() for text in first_texts for word in (text or "").split())
    search = next((w for w, _ in words.most_common() if len(w) >= 6 and w.isalpha()), "ukraine")
    return {
        "plan": plan.slug,
        "plan_id": plan.pk,
        "revisions": revisions,
        "point": point.key,
        "party": party.slug,
        "revision": revision.slug,
        "search": search,
        "size": {
            "plans": Plan.objects.count(),
            "revisions": plan.revisions.count(),
            "points": plan.points.count(),
            "clauses": Clause.objects.filter(revision__plan=plan).count(),
            "stances": plan.stances.count(),
            "events": plan.events.count(),
            "all_clauses": Clause.objects.count(),
        },
    }


def clear_caches() -> None:
    """
    Empty every cache the app answers from: Django's caches (the page cache, any memo kept there)
    and the bounded lru_caches of peaceplans' modules (memos of data, such as the diff's). Unbounded
    functools.cache results are per-process constants (the code's fingerprint): a running server
    computed them long ago, so they stay.
    """
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    for name, module in list(sys.modules.items()):
        if name == "peaceplans" or name.startswith("peaceplans."):
            for value in list(vars(module).values()):
                info = getattr(value, "cache_info", None)
                if callable(info) and callable(getattr(value, "cache_clear", None)) and info().maxsize is not None:
                    value.cache_clear()


@contextlib.contextmanager
def page_cache_off():
    """The page cache bypassed with the app's own switch (PAGE_CACHE_SECONDS = 0), else every cache a DummyCache."""
    from django.conf import settings
    from django.test import override_settings

    if hasattr(settings, "PAGE_CACHE_SECONDS"):
        change = {"PAGE_CACHE_SECONDS": 0}
    else:
        dummy = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
        change = {"CACHES": dict.fromkeys(settings.CACHES, dummy)}
    with override_settings(**change):
        yield


class Browser:
    """
    An anonymous visitor without cookies, handed to Django's WSGI handler as gunicorn hands it
    requests: every middleware, and the request_started/finished signals that close the database
    connection or keep it, as DATABASE_CONN_MAX_AGE says (the test client skips them).
    """

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler
        from django.test import RequestFactory

        self.handler = WSGIHandler()
        self.factory = RequestFactory(HTTP_HOST="127.0.0.1", SERVER_NAME="127.0.0.1")

    def fetch(self, path: str, headers: dict) -> tuple[int, str, bytes]:
        environ = self.factory.get(path, headers=headers).environ
        started = {}

        def start_response(status, response_headers, exc_info=None):
            started["status"] = int(status.split()[0])
            started["headers"] = {name.lower(): value for name, value in response_headers}

        response = self.handler(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            response.close()  # request_finished: the connection is closed, as under gunicorn
        return started["status"], started["headers"].get("content-encoding", ""), body

    def timed(self, path: str) -> float:
        start = time.perf_counter()
        status, _, _ = self.fetch(path, HEADERS)
        elapsed = time.perf_counter() - start
        if status != 200:
            raise RuntimeError(f"{path} answered {status}, not 200")
        return elapsed


def series(render, runs: int, budget: float, before=None) -> list[float]:
    """Up to `runs` timings of `render()`, fewer when they pass `budget` seconds (but at least MIN_RUNS)."""
    times: list[float] = []
    deadline = time.perf_counter() + budget
    while len(times) < runs and (len(times) < min(MIN_RUNS, runs) or time.perf_counter() < deadline):
        if before:
            before()
        times.append(render())
    return times


def measure(
    browser: Browser, kind: str, path: str, runs: int, cold_runs: int, budget: float, *, cold_uncached: bool = False
) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def render():
        return browser.timed(path)

    clear_caches()
    first = render()
    cold = series(render, cold_runs, budget, before=clear_caches)
    render()  # whatever the app caches is now in place
    warm = series(render, runs, budget)
    with page_cache_off():
        uncached = series(render, runs, budget)
        cold_off = series(render, cold_runs, budget, before=clear_caches) if cold_uncached else []
    clear_caches()
    with CaptureQueriesContext(connection) as queries:
        render()
    figures = {
        "kind": kind,
        "path": path,
        "first_ms": round(first * 1000, 2),
        "cold_ms": median_ms(cold),
        "warm_ms": median_ms(warm),
        "uncached_ms": median_ms(uncached),
        "queries": len(queries),
        "runs": [len(cold), len(warm), len(uncached)],
    }
    if cold_off:
        figures["cold_uncached_ms"] = median_ms(cold_off)
        figures["runs"].append(len(cold_off))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--static-root", type=Path, required=True)
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--dataset", default="demo")
    parser.add_argument("--plan", help="the plan to measure (default: the one with most revisions)")
    parser.add_argument("--runs", type=int, default=30, help="renders for each warm and uncached median")
    parser.add_argument("--cold-runs", type=int, default=15, help="renders for each cold median")
    parser.add_argument("--budget", type=float, default=2.0, help="seconds at most for one series (>= 5 runs)")
    parser.add_argument("--only", help="comma-separated kinds of page to time (default: all); bytes of all")
    parser.add_argument("--max-pairs", type=int, help="compare at most this many pairs of revisions (default: all)")
    args = parser.parse_args()

    setup_django(args.db.resolve(), args.static_root.resolve())
    import django

    cat = catalogue(args.plan)
    browser = Browser()
    addresses = pages(cat)
    results = []
    for kind, path in addresses.items():
        if kind != "compare" and (not args.only or kind in args.only.split(",")):
            results.append(measure(browser, kind, path, args.runs, args.cold_runs, args.budget))
            print(f"  {args.dataset:>9} {kind:<11} {results[-1]['cold_ms']:7.2f} ms cold", flush=True)
    comparisons = []
    for a, b in pairs(cat["revisions"], args.max_pairs):
        path = compare_path(cat, a, b)
        figures = measure(browser, "compare", path, args.runs, args.cold_runs, args.budget, cold_uncached=True)
        comparisons.append({"a": a, "b": b, **figures})
        print(f"  {args.dataset:>9} compare {a} → {b}: {comparisons[-1]['cold_ms']:.2f} ms cold", flush=True)

    clear_caches()
    first_loads = {kind: first_load(browser.fetch, path) for kind, path in addresses.items() if kind in HTML_PAGES}
    regions = {name: fragment_bytes(browser.fetch, path) for name, path in fragments(cat).items()}
    figures = {
        "dataset": args.dataset,
        "django": django.get_version(),
        "catalogue": cat,
        "runs": {"at_most": args.runs, "cold_at_most": args.cold_runs, "budget_s": args.budget, "min": MIN_RUNS},
        "pages": results,
        "compare": comparisons,
        "bytes": {"first_load": first_loads, "fragments": regions, "how": "in process, whole middleware stack"},
    }
    args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
