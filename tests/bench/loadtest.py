"""
`make loadtest`: wrk against gunicorn as `make run` starts it, over every kind of public address at
once, for LOADTEST_SECONDS (default 60) at LOADTEST_CONNECTIONS (default 32). The target is 0 socket
errors and 0 non-2xx answers; the script exits 1 when there is any, 2 when it cannot measure.

    .venv/bin/python tests/bench/loadtest.py [--seconds 60] [--connections 32] [--out .run]
                                             [--port N] [--extra-path /x/]

1. Builds its own database in a temporary folder under --out (never db.sqlite3, so the figures do
   not depend on what was edited locally): migrate, load_demo, collectstatic.
2. Starts gunicorn with the Makefile's `run` command (bench_http.make_run_command: its workers,
   flags and limits; DEBUG off, whitenoise's hashed files), bound to 127.0.0.1 on a free port.
3. Asks each address once (the status of each is reported, and the HTMX partial must come back as
   a fragment), then runs wrk with a Lua script (written next to the database) that rotates over
   the overview, a comparison, a point, a search, an HTMX partial (sent with HX-Request: true) and
   two API addresses, counts every answer outside 200-299 by status and each X-Page-Cache value
   (hit, miss, stale), and reports wrk's socket errors.
4. Prints req/s, p50/p99 latency, total requests, non-2xx and errors, and writes them to
   OUT/loadtest.md and OUT/loadtest.json. gunicorn is stopped by its PID, also on error.

--extra-path adds an address to the rotation (tests/ops/test_loadtest.py adds one that is a 404, to
prove that a non-2xx answer is counted and fails the run).
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_http  # noqa: E402
import run as bench_run  # noqa: E402
from common import ROOT, app_env, body_text, fragments, pages  # noqa: E402

THREADS = 2  # wrk threads: the machines this runs on have two cores or more
PARTIAL = "point wording"  # the HTMX region asked for (common.fragments)
ROTATION = ("overview", "compare", "point", "search", "api list", "api detail")
CATALOGUE = (
    "import json, sys; sys.path.insert(0, 'tests/bench'); import bench_pages; "
    "bench_pages.setup_django(*map(__import__('pathlib').Path, sys.argv[1:3])); "
    "print(json.dumps(bench_pages.catalogue(None)))"
)

LUA = """\
-- Written by tests/bench/loadtest.py: the addresses below in turn, round and round; the HTMX
-- partial with HX-Request: true. Every answer outside 200-299 is counted by status; done()
-- prints one JSON line (prefixed LOADTEST) that the driver reads.
local targets = {
%(targets)s
}
local requests = {}
local n = 0
bad = {}  -- global: done() reads each thread's copy with thread:get
cache = {}  -- answers by X-Page-Cache (hit, miss, stale, ...), likewise
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for i, target in ipairs(targets) do
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    if target.htmx then headers["HX-Request"] = "true" end
    requests[i] = wrk.format("GET", target.path, headers)
  end
end

function request()
  n = n %% #requests + 1
  return requests[n]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    local key = tostring(status)
    bad[key] = (bad[key] or 0) + 1
  end
  local state = headers["X-Page-Cache"] or headers["x-page-cache"] or "none"
  cache[state] = (cache[state] or 0) + 1
end

function done(summary, latency, requests)
  local by_status = {}
  local non2xx = 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("bad")) do
      by_status[status] = (by_status[status] or 0) + count
      non2xx = non2xx + count
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do
    table.insert(parts, string.format('"%%s": %%d', status, count))
  end
  local by_cache = {}
  for _, thread in ipairs(threads) do
    for state, count in pairs(thread:get("cache")) do
      by_cache[state] = (by_cache[state] or 0) + count
    end
  end
  local states = {}
  for state, count in pairs(by_cache) do
    table.insert(states, string.format('"%%s": %%d', state, count))
  end
  local e = summary.errors
  io.write(string.format(
    'LOADTEST {"requests": %%d, "duration_us": %%d, "bytes": %%d, "non2xx": %%d, "by_status": {%%s}, '
      .. '"by_cache": {%%s}, "errors": {"connect": %%d, "read": %%d, "write": %%d, "timeout": %%d}, '
      .. '"p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, summary.bytes, non2xx, table.concat(parts, ", "), table.concat(states, ", "),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def rotation(cat: dict, extra: list[str]) -> list[dict]:
    """The addresses wrk asks for, in order: (kind, path, whether it is an HTMX request)."""
    every = pages(cat)
    targets = [{"kind": kind, "path": every[kind], "htmx": False} for kind in ROTATION]
    targets.insert(4, {"kind": "partial", "path": fragments(cat)[PARTIAL], "htmx": True})
    targets += [{"kind": "extra", "path": path, "htmx": False} for path in extra]
    return targets


def lua_script(targets: list[dict], file: Path) -> Path:
    listed = ",\n".join(
        f"  {{path = {json.dumps(t['path'])}, htmx = {'true' if t['htmx'] else 'false'}}}" for t in targets
    )
    file.write_text(LUA % {"targets": listed})
    return file


def check_addresses(base: str, targets: list[dict]) -> None:
    """Each address asked once, its status recorded; the partial must be a fragment, not a whole page."""
    for target in targets:
        headers = {"Accept-Encoding": "gzip"} | ({"HX-Request": "true"} if target["htmx"] else {})
        status, encoding, body = bench_http._get(base + target["path"], headers)
        target["status"] = status
        if target["kind"] == "extra":
            continue
        if status != 200:
            raise bench_http.SetupError(f"{target['kind']} {target['path']} answered {status}, not 200")
        if target["htmx"] and "<html" in body_text(body, encoding).lower():
            raise bench_http.SetupError(f"the HTMX partial {target['path']} came back as a whole page")


def run_wrk(url: str, seconds: int, connections: int, script: Path) -> dict:
    threads = min(THREADS, connections)
    command = [bench_http.WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-H", "Accept-Encoding: gzip", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((line for line in done.stdout.splitlines() if line.startswith("LOADTEST ")), None)
    if done.returncode != 0 or line is None:
        raise bench_http.SetupError(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("LOADTEST "))
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": round(seconds_run, 2),
        "rps": round(raw["requests"] / seconds_run, 1) if seconds_run else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "non2xx": raw["non2xx"],
        "non2xx_by_status": raw["by_status"],
        "by_page_cache": raw.get("by_cache", {}),
        "errors": sum(raw["errors"].values()),
        "errors_by_kind": raw["errors"],
        "wrk_output": done.stdout,
    }


def wrk_version() -> str:
    done = subprocess.run([bench_http.WRK, "-v"], capture_output=True, text=True, timeout=10, check=False)
    words = (done.stdout + done.stderr).split()
    return " ".join(words[:2]) if words[:1] == ["wrk"] else "wrk"


def report(results: dict) -> str:
    figures = results["figures"]
    verdict = "PASS" if results["passed"] else "FAIL"
    lines = [
        f"# Load test, {results['date']}",
        "",
        f"gunicorn as `make run` starts it: `{results['command']}`",
        f"{results['wrk']}: {results['threads']} threads, {results['connections']} connections, "
        f"{results['seconds_asked']} s; database: {results['database']}",
        "",
        "| req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | target (0 and 0) |",
        "|---:|---:|---:|---:|---:|---:|---|",
        f"| {figures['rps']} | {figures['p50_ms']} | {figures['p99_ms']} | {figures['requests']} | "
        f"{figures['non2xx']} | {figures['errors']} | {verdict} |",
        "",
        "Rotation (one request each, in turn; status of a single request before the run):",
        "",
    ]
    for target in results["targets"]:
        htmx = " (HX-Request: true)" if target["htmx"] else ""
        lines.append(f"- {target['kind']}: `{target['path']}`{htmx}: {target['status']}")
    if figures["by_page_cache"]:
        lines += ["", f"Answers by X-Page-Cache: {figures['by_page_cache']}"]
    if figures["non2xx_by_status"]:
        lines += ["", f"Non-2xx by status: {figures['non2xx_by_status']}"]
    if figures["errors"]:
        lines += ["", f"Socket errors by kind: {figures['errors_by_kind']}"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("LOADTEST_SECONDS", 60)))
    parser.add_argument("--connections", type=int, default=int(os.environ.get("LOADTEST_CONNECTIONS", 32)))
    parser.add_argument("--out", type=Path, default=ROOT / ".run")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    parser.add_argument("--extra-path", action="append", default=[], help="another address in the rotation")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (database, logs, Lua script)")
    args = parser.parse_args(argv)
    if args.seconds < 1 or args.connections < 1:
        parser.error("--seconds and --connections must be at least 1")
    if not Path(bench_http.WRK).exists():
        print("make loadtest needs wrk: sudo apt-get install -y wrk", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="loadtest-", dir=args.out))
    try:
        results = measure(args, work)
    except bench_http.SetupError as error:
        print(f"!!! the load test cannot measure: {error}", file=sys.stderr)
        return 2
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    (args.out / "loadtest.json").write_text(json.dumps(results, indent=2) + "\n")
    text = report(results)
    (args.out / "loadtest.md").write_text(text)
    print(text)
    print(f"==> written to {args.out / 'loadtest.md'} and {args.out / 'loadtest.json'}")
    return 0 if results["passed"] else 1


def measure(args, work: Path) -> dict:
    db, static = work / "demo.sqlite3", work / "static"
    env = app_env(db, static)
    print("==> migrate, load_demo, collectstatic (a throwaway database in the work folder)", flush=True)
    bench_run.manage(env, ["migrate", "--noinput", "-v0"], ["load_demo"], ["collectstatic", "--noinput", "-v0"])
    done = subprocess.run(
        [sys.executable, "-c", CATALOGUE, str(db), str(static)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise bench_http.SetupError(f"cannot choose the addresses:\n{done.stderr}")
    cat = json.loads(done.stdout.strip().splitlines()[-1])
    targets = rotation(cat, args.extra_path)
    port = args.port or bench_run.free_port()
    command = bench_http.make_run_command(port, work / "gunicorn.pid")
    base = f"http://127.0.0.1:{port}"
    ready = base + bench_http.static_css(static)
    script = lua_script(targets, work / "loadtest.lua")
    with bench_http.server(command, env, ready, work / "gunicorn.log", "gunicorn"):
        check_addresses(base, targets)
        print(f"==> wrk: {args.connections} connections for {args.seconds} s over {len(targets)} addresses", flush=True)
        started = time.time()
        figures = run_wrk(base, args.seconds, args.connections, script)
    return {
        "wrk": wrk_version(),
        "date": datetime.datetime.fromtimestamp(started, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(command[1:]).replace(str(work), "WORK"),
        "database": "a throwaway SQLite copy of the demo (migrate + load_demo) in the work folder",
        "seconds_asked": args.seconds,
        "connections": args.connections,
        "threads": min(THREADS, args.connections),
        "targets": targets,
        "figures": figures,
        "passed": figures["non2xx"] == 0 and figures["errors"] == 0,
    }


if __name__ == "__main__":
    sys.exit(main())
