"""
Where a page's time goes with the page cache off: cProfile over repeated renders of one or more
pages, through the same WSGI path bench_pages.py times (every middleware, DEBUG off, gzip). A
script for the people making pages faster, not a test and not part of `make bench`.

    .venv/bin/python tests/bench/profile_pages.py --db PATH --static-root DIR
        [--plan SLUG] [--runs 50] [--sort tottime|cumulative] [--limit 30] [--cold] KIND|PATH ...

KIND is one of bench_pages' kinds (overview, compare, point, party, revision, timeline, search,
api list, api detail); anything starting with "/" is taken as an address. --cold empties every
cache before each render (bench_pages.clear_caches), so the diff memo and the like start empty.
The database must be migrated and the static files collected (make bench does both into its own
folder; `make setup` does both for db.sqlite3 and staticfiles/).
"""

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import HEADERS, Browser, catalogue, clear_caches, page_cache_off, setup_django  # noqa: E402
from common import pages  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("what", nargs="+", help="kinds of page or addresses")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--static-root", type=Path, required=True)
    parser.add_argument("--plan")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--cold", action="store_true", help="empty every cache before each render")
    args = parser.parse_args()

    setup_django(args.db.resolve(), args.static_root.resolve())
    addresses = pages(catalogue(args.plan))
    browser = Browser()
    for what in args.what:
        path = what if what.startswith("/") else addresses[what]
        with page_cache_off():
            browser.timed(path)  # templates compiled, connections open: the steady state
            profile = cProfile.Profile()
            for _ in range(args.runs):
                if args.cold:
                    clear_caches()
                profile.enable()
                status, _, _ = browser.fetch(path, HEADERS)
                profile.disable()
                if status != 200:
                    raise SystemExit(f"{path} answered {status}")
        stats = pstats.Stats(profile)
        total = stats.total_tt / args.runs * 1000  # type: ignore[attr-defined]
        print(f"\n=== {path}: {total:.2f} ms a render under the profiler, {args.runs} runs ===")
        stats.sort_stats(args.sort).print_stats(args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
