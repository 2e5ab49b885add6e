"""
`make bench`: the figures behind issue 6's budgets, in one run, printed as a table; a benchmark,
not a test. It exits 0 whatever the figures are, and non-zero, loudly, when it cannot measure.

    .venv/bin/python tests/bench/run.py [--quick] [--port N] [--out DIR] [--keep]

1. Builds its own databases in a temporary folder under --out (never db.sqlite3): the demo
   (migrate + load_demo) and a generated one (the demo plus `generate_synthetic`), and collects
   the static files there.
2. bench_diff.py: the word diff on two 5,000-word texts.
3. bench_pages.py, once per dataset in a fresh process: each page's render time (first, cold,
   warm, uncached) and the compressed bytes of each first load and HTMX fragment.
4. bench_http.py: gunicorn as `make run` starts it, Lighthouse's Performance score of five pages
   (tests/lighthouse.py), wrk against a static file and each page, Datasette over the same stance
   rows, the comparison cold, each worker's peak RSS.
5. Writes DIR/bench.json (everything), DIR/bench.md (the table printed) and the parts as
   DIR/bench-pages-demo.json, bench-pages-generated.json, bench-http.json, bench-diff.json.

--quick (for tests/bench/test_bench.py): a small generated dataset; three pages timed (one render
a series, 1 s of wrk), the bytes of all: every step runs, no figure means anything.
Ports: --port (default $BENCH_PORT, else a free one) and the next two.
"""

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_http  # noqa: E402
from common import HTML_PAGES, ROOT, app_env, machine  # noqa: E402

BENCH = Path(__file__).resolve().parent
PY = sys.executable

# Issue 6's targets.
STATIC_RATIO = 0.5  # warm page req/s ÷ static file req/s, at least
DATASETTE_RATIO = 10.0  # stance table req/s ÷ Datasette table page req/s, at least
COLD_COMPARE_MS = 25.0  # cold comparison of two full revisions, median in process, at most
SCALE_RATIO = 2.0  # generated ÷ demo render time, at most
FIRST_LOAD_KB = 60.0  # HTML + CSS + JS + fonts, compressed, at most
FRAGMENT_KB = 15.0  # one HTMX fragment, compressed, at most
WORKER_RSS_MB = 150.0  # a gunicorn worker's peak RSS, at most
LIGHTHOUSE_PERFORMANCE = 95  # Lighthouse's Performance score, mobile, at least (issue 21, item 7)
KB = 1000  # bytes: the stricter reading of "KB"

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


# ---- verdicts and the table ----


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def kb(n: int) -> str:
    return f"{n / KB:.1f} KB"


def targets(figures: dict) -> list[dict]:
    """Each of issue 6's targets: the figure that decides it, where it comes from, met or missed."""
    http, demo, gen = figures["http"], figures["pages"]["demo"], figures["pages"].get("generated")
    rows = []
    worst = min(http["pages"].items(), key=lambda item: item[1]["ratio"])
    ratio = worst[1]["ratio"]
    rows.append(
        {
            "figure": f"warm page ÷ static file measured just before it, req/s (lowest: {worst[0]})",
            "value": f"{ratio:.2f}×",
            "target": f"≥ {STATIC_RATIO}×",
            "met": ratio >= STATIC_RATIO,
        }
    )
    ratio = http["datasette"]["ratio"]
    rows.append(
        {
            "figure": "stance table (overview) ÷ Datasette's table page measured just after it, req/s",
            "value": f"{ratio:.1f}×",
            "target": f"≥ {DATASETTE_RATIO:.0f}×",
            "met": ratio >= DATASETTE_RATIO,
        }
    )
    slowest = max(demo["compare"], key=lambda c: c["cold_ms"])
    rows.append(
        {
            "figure": f"cold comparison, median in process (slowest of {len(demo['compare'])} demo pairs: "
            f"{slowest['a']} → {slowest['b']})",
            "value": f"{slowest['cold_ms']:.1f} ms",
            "target": f"≤ {COLD_COMPARE_MS:.0f} ms",
            "met": slowest["cold_ms"] <= COLD_COMPARE_MS,
        }
    )
    if gen:
        ratios = scale_ratios(demo, gen)
        kind, ratio = max(ratios.items(), key=lambda item: item[1])
        rows.append(
            {
                "figure": f"generated ÷ demo, cold render (highest: {kind})",
                "value": f"{ratio:.1f}×",
                "target": f"≤ {SCALE_RATIO:.0f}×",
                "met": ratio <= SCALE_RATIO,
            }
        )
    else:
        rows.append(
            {"figure": "generated ÷ demo", "value": "not measured", "target": f"≤ {SCALE_RATIO:.0f}×", "met": None}
        )
    loads = [("demo", k, v["total"]) for k, v in http["bytes"]["first_load"].items()]
    frags = [("demo", k, v["bytes"]) for k, v in http["bytes"]["fragments"].items()]
    if gen:
        loads += [("generated", k, v["total"]) for k, v in gen["bytes"]["first_load"].items()]
        frags += [("generated", k, v["bytes"]) for k, v in gen["bytes"]["fragments"].items()]
    dataset, kind, size = max(loads, key=lambda row: row[2])
    rows.append(
        {
            "figure": f"first load, HTML + CSS + JS + fonts, compressed (largest: {kind}, {dataset})",
            "value": kb(size),
            "target": f"≤ {FIRST_LOAD_KB:.0f} KB",
            "met": size <= FIRST_LOAD_KB * KB,
        }
    )
    dataset, kind, size = max(frags, key=lambda row: row[2])
    rows.append(
        {
            "figure": f"HTMX fragment gzipped (largest: {kind}, {dataset})",
            "value": kb(size),
            "target": f"≤ {FRAGMENT_KB:.0f} KB",
            "met": size <= FRAGMENT_KB * KB,
        }
    )
    peak = max(w["peak_rss_mb"] for w in http["workers"])
    rows.append(
        {
            "figure": f"gunicorn worker peak RSS (largest of {len(http['workers'])}, after the run)",
            "value": f"{peak:.0f} MB",
            "target": f"≤ {WORKER_RSS_MB:.0f} MB",
            "met": peak <= WORKER_RSS_MB,
        }
    )
    light = http.get("lighthouse", {}).get("pages", {})
    if light:
        kind, row = min(light.items(), key=lambda item: item[1]["performance"])
        rows.append(
            {
                "figure": f"Lighthouse Performance, mobile, median of runs (lowest of {len(light)} pages: {kind})",
                "value": str(row["performance"]),
                "target": f"≥ {LIGHTHOUSE_PERFORMANCE}",
                "met": row["performance"] >= LIGHTHOUSE_PERFORMANCE,
            }
        )
    else:
        reason = http.get("lighthouse", {}).get("skipped", "not run")
        rows.append(
            {
                "figure": f"Lighthouse Performance, mobile ({reason})",
                "value": "not measured",
                "target": f"≥ {LIGHTHOUSE_PERFORMANCE}",
                "met": None,
            }
        )
    diff = figures["diff"]
    case = diff["cases"][0]
    rows.append(
        {
            "figure": f"word diff of two {case['words'][0]:,}-word texts, median (issue 3's budget)",
            "value": f"{case['median_ms']:.1f} ms",
            "target": f"≤ {diff['budget_ms']:.0f} ms",
            "met": diff["meets_budget"],
        }
    )
    return rows


def scale_ratios(demo: dict, gen: dict) -> dict:
    """Generated ÷ demo cold render time for each kind of page; the comparison by the median over its pairs."""
    demo_ms = {p["kind"]: p["cold_ms"] for p in demo["pages"]}
    gen_ms = {p["kind"]: p["cold_ms"] for p in gen["pages"]}
    demo_ms["compare"] = statistics.median(c["cold_ms"] for c in demo["compare"])
    gen_ms["compare"] = statistics.median(c["cold_ms"] for c in gen["compare"])
    return {kind: round(gen_ms[kind] / demo_ms[kind], 2) for kind in demo_ms if kind in gen_ms}


def cache_note(row: dict) -> str:
    """Said only when a warm page was not served from the page cache."""
    return "" if row["page_cache"] == "hit" else f" (X-Page-Cache: {row['page_cache']})"


def table(figures: dict) -> str:
    m, http = figures["machine"], figures["http"]
    demo, gen = figures["pages"]["demo"], figures["pages"].get("generated")
    lines = [
        f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, load average "
        f"{m['load_average']} at the start; Python {m['python']}, Django {m['django']}, gunicorn {m['gunicorn']}, "
        f"Datasette {m['datasette']}, {http['wrk']}; commit {m['commit']}"
        f"{' (quick mode: figures not meaningful)' if figures['quick'] else ''}.",
        "",
        "| target | measured | target | |",
        "|---|---:|---:|---|",
    ]
    for row in figures["targets"]:
        state = "not measured" if row["met"] is None else verdict(row["met"])
        lines.append(f"| {row['figure']} | {row['value']} | {row['target']} | {state} |")

    static = http["static"]
    lines += [
        "",
        f"**Over HTTP**: `gunicorn {http['command']}` (as `make run`), `{http['wrk']} --latency`, "
        f"Accept-Encoding: gzip, demo data. Before each page, {http['static_seconds']} s of the static file "
        f"`{static['path']}` (whitenoise): each ratio is to that neighbour, as the machine's load drifts "
        f"(static req/s over the run: median {static['rps']:.0f}, from {min(static['all']):.0f} to "
        f"{max(static['all']):.0f}).",
        "",
        "| address | req/s | p50 ms | p99 ms | static just before | ÷ static | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for kind, row in http["pages"].items():
        lines.append(
            f"| {kind} warm `{row['path']}`{cache_note(row)} | {row['rps']:.0f} | {row['p50_ms']} | "
            f"{row['p99_ms']} | {row['static_rps']:.0f} | {row['ratio']:.2f} | "
            f"≥ {STATIC_RATIO}: {verdict(row['ratio'] >= STATIC_RATIO)} |"
        )
        if kind == "overview":
            ds = http["datasette"]
            lines.append(
                f"| Datasette {ds['version']} table page `{ds['path']}` ({ds['rows']} stance rows), just after | "
                f"{ds['rps']:.0f} | {ds['p50_ms']} | {ds['p99_ms']} | | | overview ÷ Datasette = "
                f"{ds['ratio']:.1f}, ≥ {DATASETTE_RATIO:.0f}: {verdict(ds['ratio'] >= DATASETTE_RATIO)} |"
            )
    cold = http["compare_cold"]
    lines.append(
        f"| comparison, page cache off (second gunicorn; diff memo warm): {cold['pairs']} ordered pairs in turn | "
        f"{cold['rps']:.0f} | {cold['p50_ms']} | {cold['p99_ms']} | {cold['static_rps']:.0f} | "
        f"{cold['ratio']:.2f} | |"
    )

    size = demo["catalogue"]["size"]
    lines += [
        "",
        "**In process**, median ms (first: first render in a fresh process; cold: every cache emptied before "
        "each render; warm: as the next visitor gets it; uncached: the page cache off). Each request goes "
        "to Django's WSGI handler as gunicorn hands it one, connecting to the database anew. Demo: "
        f"{size['points']} points, {size['clauses']} clauses, {size['stances']} stances.",
    ]
    if gen:
        gsize = gen["catalogue"]["size"]
        lines[-1] += (
            f" Generated (`generate_synthetic {figures['generator']['options']}`, built in "
            f"{figures['generator']['seconds']} s): {gsize['plans']} plans, {gsize['all_clauses']:,} clauses in all; "
            f"plan `{gen['catalogue']['plan']}` has {gsize['revisions']} texts, {gsize['points']} points, "
            f"{gsize['clauses']:,} clauses, {gsize['stances']:,} stances, {gsize['events']} events."
        )
    header = "| page | demo first | cold | warm | uncached | queries |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if gen:
        header += " generated first | cold | warm | uncached | queries | generated ÷ demo (cold) |"
        rule += "---:|---:|---:|---:|---:|---|"
    lines += ["", header, rule]
    gen_pages = {p["kind"]: p for p in gen["pages"]} if gen else {}
    ratios = scale_ratios(demo, gen) if gen else {}

    def cells(p):
        return f"{p['first_ms']} | {p['cold_ms']} | {p['warm_ms']} | {p['uncached_ms']} | {p['queries']}"

    for p in demo["pages"]:
        line = f"| {p['kind']} | {cells(p)} |"
        if gen:
            g = gen_pages[p["kind"]]
            r = ratios[p["kind"]]
            line += f" {cells(g)} | {r:.1f}: {verdict(r <= SCALE_RATIO)} |"
        lines.append(line)
    if gen:
        d = statistics.median(c["cold_ms"] for c in demo["compare"])
        g = statistics.median(c["cold_ms"] for c in gen["compare"])
        lines.append(
            f"| compare (median cold over pairs: demo {len(demo['compare'])}, generated {len(gen['compare'])}) | | "
            f"{d:.2f} | | | | | {g:.2f} | | | | {ratios['compare']:.1f}: {verdict(ratios['compare'] <= SCALE_RATIO)} |"
        )
    lines += [
        "",
        "| comparison (demo) | first | cold | warm | uncached | queries | cold ≤ 25 ms |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for c in demo["compare"]:
        lines.append(f"| {c['a']} → {c['b']} | {cells(c)} | {verdict(c['cold_ms'] <= COLD_COMPARE_MS)} |")
    if gen:
        for c in gen["compare"]:
            lines.append(f"| generated: {c['a']} → {c['b']} | {cells(c)} | |")

    loads, frags = http["bytes"]["first_load"], http["bytes"]["fragments"]
    gen_loads = gen["bytes"]["first_load"] if gen else {}
    gen_frags = gen["bytes"]["fragments"] if gen else {}
    lines += [
        "",
        "**Bytes**, gzipped as served (KB = 1,000 bytes). Demo: over HTTP from gunicorn; generated: in process "
        "through the same middleware. First load: the HTML and every stylesheet, script and preloaded file it "
        "references, and the web fonts the stylesheets declare (woff2, compressed already).",
        "",
        "| first load | HTML | CSS, JS, fonts | demo total | generated total | ≤ 60 KB |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for kind in HTML_PAGES:
        row = loads[kind]
        worst = max(row["total"], gen_loads.get(kind, {}).get("total", 0))
        generated = kb(gen_loads[kind]["total"]) if kind in gen_loads else "—"
        lines.append(
            f"| {kind} | {kb(row['html'])} | {kb(sum(row['assets'].values()))} | {kb(row['total'])} | "
            f"{generated} | {verdict(worst <= FIRST_LOAD_KB * KB)} |"
        )
    lines += ["", "| HTMX fragment | demo | generated | ≤ 15 KB |", "|---|---:|---:|---|"]
    for name, row in frags.items():
        worst = max(row["bytes"], gen_frags.get(name, {}).get("bytes", 0))
        generated = kb(gen_frags[name]["bytes"]) if name in gen_frags else "—"
        lines.append(f"| {name} | {kb(row['bytes'])} | {generated} | {verdict(worst <= FRAGMENT_KB * KB)} |")
    light = http.get("lighthouse", {})
    if light.get("pages"):
        lines += [
            "",
            f"**Lighthouse** {light.get('version', '')}, Performance, mobile emulation (simulated slow 4G and "
            "CPU), Debian's Chromium, against the same gunicorn before wrk runs:",
            "",
            f"| page | address | Performance (median) | each run | ≥ {LIGHTHOUSE_PERFORMANCE} | audits losing points |",
            "|---|---|---:|---|---|---|",
        ]
        for kind, row in light["pages"].items():
            losing = ", ".join(f"{audit_id} {score:.2f}" for audit_id, _, score in row["losing"]) or "none"
            lines.append(
                f"| {kind} | `{row['path']}` | {row['performance']} | {', '.join(map(str, row['runs']))} | "
                f"{verdict(row['performance'] >= LIGHTHOUSE_PERFORMANCE)} | {losing} |"
            )
    workers = ", ".join(f"{w['peak_rss_mb']:.0f} MB (now {w['rss_mb']:.0f})" for w in http["workers"])
    lines += ["", f"**Memory**: gunicorn workers' peak RSS (VmHWM) after the HTTP run: {workers}."]
    return "\n".join(lines) + "\n"


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
            )
        (args.out / "bench-http.json").write_text(json.dumps(figures["http"], indent=2, ensure_ascii=False) + "\n")
    except (bench_http.SetupError, subprocess.SubprocessError, OSError) as error:
        print(f"\nmake bench: BROKEN SETUP, nothing was measured to the end:\n{error}", file=sys.stderr)
        print(f"(databases and logs kept in {work})", file=sys.stderr)
        return 1
    figures["machine"]["django"] = figures["pages"]["demo"]["django"]
    figures["targets"] = targets(figures)
    markdown = table(figures)
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
