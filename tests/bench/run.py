"""
`make bench`: the figures behind issue 18's targets, in one run, printed as a table; a benchmark,
not a test. It exits 0 whatever the figures are, and non-zero, loudly, when it cannot measure.

    .venv/bin/python tests/bench/run.py [--quick] [--port N] [--out DIR] [--keep]

1. Builds its own databases in a temporary folder under --out (never db.sqlite3): the demo
   (migrate + load_demo) and a generated one (the demo plus `generate_synthetic`), and collects
   the static files there.
2. bench_diff.py: the word diff on two 5,000-word texts; bench_align.py: how well the paste page's
   proposals find the point a reworded demo clause answers (issue 20; its own section of the report).
3. bench_pages.py, once per dataset in a fresh process: each page's render time (first, cold,
   warm, uncached; comparisons also cold with the page cache off) and the compressed bytes of
   each first load and HTMX fragment.
4. bench_http.py: gunicorn as `make run` starts it and a second one with the page cache off,
   Lighthouse's Performance score of five pages (tests/lighthouse.py), wrk against a static file
   and each page, Datasette over exactly the overview's rows (bench_datasette.py) between our
   overview cached and uncached, the comparison cold, an edit under load (bench_edits.py), each
   worker's peak RSS.
5. report.py decides each target and writes DIR/bench.md (the table printed); DIR/bench.json
   holds everything, and the parts are DIR/bench-pages-demo.json, bench-pages-generated.json,
   bench-http.json, bench-diff.json.

--quick (for tests/bench/test_bench.py): a small generated dataset; three pages timed (one render
a series, 1 s of wrk, 3 s of the edit under load with a save every second), the bytes of all:
every step runs, no figure means anything.
Ports: --port (default $BENCH_PORT, else a free one) and the next two.
"""

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_align  # noqa: E402
import bench_http  # noqa: E402
import report  # noqa: E402
from common import ROOT, app_env, machine  # noqa: E402

BENCH = Path(__file__).resolve().parent
PY = sys.executable


SYNTHETIC = {
    "full": ["--plans", "20", "--revisions", "30", "--points", "120", "--stances", "3", "--events", "3000"],
    "quick": ["--plans", "2", "--revisions", "6", "--points", "30", "--stances", "1", "--events", "100"],
}
SEED = "2025"
QUICK = ("overview", "compare", "api detail")  # quick mode times one page of each kind of response
GENERATOR = ROOT / "peaceplans" / "management" / "commands" / "generate_synthetic.py"


class Step:
    """Prints what is being done and how long it took."""

    started = time.monotonic()

    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        print(f"==> {self.what} ({time.monotonic() - Step.started:.0f} s)", flush=True)

    def __exit__(self, *exc):
        return False


# Several management commands in one process: each process start costs a second or two on a busy machine.
_COMMANDS = (
    "import json, sys, django; django.setup(); from django.core.management import call_command; "
    "[call_command(*command) for command in json.loads(sys.argv[1])]"
)


def manage(env: dict, *commands: list[str], timeout: float = 600) -> None:
    """Run management commands, in order, in one process with `env`; any failure is a broken setup."""
    done = subprocess.run(
        [PY, "-c", _COMMANDS, json.dumps(commands)],
        env={**env, "DJANGO_SETTINGS_MODULE": "peaceplans.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        shown = "; ".join(" ".join(command) for command in commands)
        raise bench_http.SetupError(f"manage.py {shown} failed:\n{done.stdout}\n{done.stderr}")


def copy_db(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def build(work: Path, quick: bool) -> dict:
    """The databases and static files the run measures, all inside `work`."""
    static = work / "static"
    demo, generated = work / "demo.sqlite3", work / "generated.sqlite3"
    with Step("migrate, load_demo, collectstatic"):
        steps = (["migrate", "--noinput", "-v0"], ["load_demo"], ["collectstatic", "--noinput", "-v0"])
        manage(app_env(demo, static), *steps)
    built = {"static": static, "demo": demo, "generated": None, "generator": None}
    if not GENERATOR.exists():
        print(f"!!! {GENERATOR.relative_to(ROOT)} is missing: the generated-data figures are skipped", flush=True)
        return built
    options = SYNTHETIC["quick" if quick else "full"] + ["--seed", SEED]
    with Step(f"generate_synthetic {' '.join(options)} (on top of the demo)"):
        start = time.monotonic()
        copy_db(demo, generated)
        manage(app_env(generated, static), ["generate_synthetic", *options], timeout=900)
    seconds = round(time.monotonic() - start)
    built.update(generated=generated, generator={"options": " ".join(options), "seconds": seconds})
    return built


def run_pages(dataset: str, db: Path, static: Path, out: Path, quick: bool) -> dict:
    target = out / f"bench-pages-{dataset}.json"
    args = [PY, str(BENCH / "bench_pages.py"), "--db", str(db), "--static-root", str(static)]
    args += ["--json", str(target), "--dataset", dataset]
    if quick:
        args += ["--runs", "1", "--cold-runs", "1", "--budget", "0", "--max-pairs", "1", "--only", ",".join(QUICK)]
    elif dataset != "demo":
        args += ["--max-pairs", "4"]  # a 30-text plan has 435 pairs; the demo's 10 are all measured
    with Step(f"in-process render times and bytes, {dataset} data"):
        done = subprocess.run(args, env=app_env(db, static), cwd=ROOT, timeout=900, check=False)
    if done.returncode != 0:
        raise bench_http.SetupError(f"bench_pages.py on the {dataset} data failed (exit {done.returncode})")
    return json.loads(target.read_text())


def run_diff(out: Path, quick: bool) -> dict:
    target = out / "bench-diff.json"
    args = [PY, str(BENCH / "bench_diff.py"), "--json", str(target)] + (["--runs", "5"] if quick else [])
    with Step("word diff (bench_diff.py)"):
        done = subprocess.run(args, cwd=ROOT, timeout=600, check=False)
    if done.returncode != 0:
        raise bench_http.SetupError("bench_diff.py failed")
    return json.loads(target.read_text())


def free_port() -> int:
    """The first of three consecutive free loopback ports, below the kernel's ephemeral range
    (32768 and up), so no outgoing connection of another process can take one of them between
    this check and the servers' bind."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        if all(_free(port + n) for n in (0, 1, 2)):
            return port
    raise bench_http.SetupError("no three consecutive free ports between 20000 and 32000")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def versions() -> dict:
    found = {}
    for package in ("Django", "gunicorn", "datasette", "whitenoise"):
        try:
            found[package.lower()] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package.lower()] = "not installed"
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (figures not meaningful)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT") or 0))
    parser.add_argument("--out", type=Path, default=ROOT / ".run")
    parser.add_argument("--keep", action="store_true", help="keep the databases and server logs")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    figures = {"quick": args.quick, "machine": {**machine(), **versions()}}
    work = Path(tempfile.mkdtemp(prefix="bench-work-", dir=args.out))
    try:
        built = build(work, args.quick)
        figures["generator"] = built["generator"]
        figures["diff"] = run_diff(args.out, args.quick)
        figures["align"] = bench_align.run(args.out)
        figures["pages"] = {"demo": run_pages("demo", built["demo"], built["static"], args.out, args.quick)}
        if built["generated"]:
            figures["pages"]["generated"] = run_pages(
                "generated", built["generated"], built["static"], args.out, args.quick
            )
        port = args.port or free_port()
        with Step(f"over HTTP: gunicorn on 127.0.0.1:{port}, {port + 1} (no cache), Datasette on {port + 2}"):
            figures["http"] = bench_http.run(
                cat=figures["pages"]["demo"]["catalogue"],
                db=built["demo"],
                static_root=built["static"],
                work=work,
                port=port,
                duration=1 if args.quick else 10,
                warmup=0 if args.quick else 3,
                only=QUICK if args.quick else None,
                load_seconds=3 if args.quick else 30,
                edit_every=1 if args.quick else 5,
            )
        (args.out / "bench-http.json").write_text(json.dumps(figures["http"], indent=2, ensure_ascii=False) + "\n")
    except (bench_http.SetupError, subprocess.SubprocessError, OSError) as error:
        print(f"\nmake bench: BROKEN SETUP, nothing was measured to the end:\n{error}", file=sys.stderr)
        print(f"(databases and logs kept in {work})", file=sys.stderr)
        return 1
    figures["machine"]["django"] = figures["pages"]["demo"]["django"]
    figures["targets"] = report.targets(figures)
    markdown = report.table(figures) + bench_align.table(figures["align"])
    (args.out / "bench.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n")
    (args.out / "bench.md").write_text(markdown)
    print("\n" + markdown)
    met = sum(1 for row in figures["targets"] if row["met"])
    print(f"{met} of {len(figures['targets'])} targets met; figures in {args.out}/bench.json and bench.md")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
