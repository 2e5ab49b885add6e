"""
Over HTTP, in one run: gunicorn started exactly as `make run` starts it (its command is read from
the Makefile's `run` recipe), DEBUG off, static files collected, on the benchmark's own copy of
the demo database; wrk on 127.0.0.1 against a static file served by whitenoise and each page
warm; the compressed bytes of each first load and HTMX fragment as served; the peak RSS of each
gunicorn worker. run.py calls `run()`; every server started here is stopped by its PID, also on
error.

Every wrk request sends Accept-Encoding: gzip, as browsers do: whitenoise answers with its
precompressed file, our pages go through GZipMiddleware (Datasette does not compress).

The page cache off: a second gunicorn, with the same command and PEACEPLANS_PAGE_CACHE_SECONDS=0
(checked through its X-Page-Cache header), is up all along. It serves:
- our overview, measured right after Datasette's table page of exactly the rows the overview
  shows (bench_datasette.py: one table, `datasette serve FILE` with its defaults), which is
  measured right after our cached overview: the peer against our page rendered on every request,
  and against our page as the cache serves it;
- the comparison cold: every address wrk could rotate through is cached after its first request,
  and wrk cannot empty the server's cache, so a rotation through every ordered pair of the demo's
  revisions (a wrk Lua script) makes each request render its comparison, as the first request
  after an edit does. The per-process diff memo (peaceplans/compare/memo.py) is warm there after
  the first round; the in-process cold figures (bench_pages.py) empty it before every render.

Last, the edit under load (bench_edits.py): wrk over a mix of pages at 32 connections against the
first gunicorn, without edits and then with an editor's admin save every 5 s.
"""

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HTML_PAGES, ROOT, app_env, compare_path, first_load, fragment_bytes, fragments, pages  # noqa: E402

sys.path.insert(0, str(ROOT))  # tests/lighthouse.py, shared with the browser tests (no Django imports)
from tests import lighthouse  # noqa: E402

WRK = shutil.which("wrk") or "/usr/bin/wrk"
THREADS, CONNECTIONS = 2, 16
START_TIMEOUT = 60  # seconds for a server to answer its first request
STOP_TIMEOUT = 15


class SetupError(RuntimeError):
    """The benchmark cannot measure: a server does not start, a page does not answer 200, a tool is missing."""


# ---- gunicorn as `make run` starts it ----


def make_run_command(port: int, pid_file: Path, makefile: Path = ROOT / "Makefile") -> list[str]:
    """
    The gunicorn command of the Makefile's `run` recipe, with its shell defaults expanded from the
    environment (PORT, WEB_CONCURRENCY), bound to 127.0.0.1:`port` and writing its PID to `pid_file`.
    """
    lines = makefile.read_text().splitlines()
    try:
        start = next(n for n, line in enumerate(lines) if re.match(r"^run\s*:", line))
    except StopIteration:
        raise SetupError(f"{makefile} has no `run` target") from None
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    text = "\n".join(recipe).replace("\\\n", " ")
    command = next((line for line in text.splitlines() if re.search(r"\bgunicorn\b", line)), None)
    if command is None:
        raise SetupError("the Makefile's `run` recipe starts no gunicorn")
    command = command.replace("$(VENV)", ".venv").replace("$$", "$")

    def default(match):
        return os.environ.get(match.group(1)) or match.group(2)

    command = re.sub(r"\$\{(\w+):-([^}]*)\}", default, command)
    if "$" in command:
        raise SetupError(f"cannot expand the Makefile's gunicorn command: {command}")
    args = shlex.split(command)
    if args[0] == "exec":
        args = args[1:]
    if not Path(ROOT, args[0]).exists():
        raise SetupError(f"{args[0]} does not exist: run `make install` first")
    args[0] = str(ROOT / args[0])
    for flag, value in (("--bind", f"127.0.0.1:{port}"), ("--pid", str(pid_file))):
        if flag not in args:
            raise SetupError(f"the Makefile's gunicorn command has no {flag}: {command}")
        args[args.index(flag) + 1] = value
    return args


def _get(url: str, headers: dict | None = None, timeout: float = 30) -> tuple[int, str, bytes]:
    status, response_headers, body = _request(url, headers, timeout)
    return status, response_headers.get("Content-Encoding", ""), body


def _request(url: str, headers: dict | None = None, timeout: float = 30):
    """(status, headers, body as sent): urllib does not decompress, so gzip bodies keep their size."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback only)
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def page_cache(url: str) -> str:
    """What the page cache did for this request (X-Page-Cache: hit, miss, off, bypass), or "absent"."""
    _, headers, _ = _request(url, {"Accept-Encoding": "gzip"})
    return headers.get("X-Page-Cache", "absent")


def warm_up(url: str, tries: int = 40) -> str:
    """
    Ask until the answer comes from the page cache four times running (each gunicorn worker
    keeps its own local-memory cache, and either may take a request); what the page cache
    did for the last request ("hit" for a warm page).
    """
    streak, state = 0, "absent"
    for _ in range(tries):
        state = page_cache(url)
        streak = streak + 1 if state == "hit" else 0
        if streak == 4:
            break
    return state


def _wait_ready(proc: subprocess.Popen, url: str, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise SetupError(f"{what} exited with {proc.returncode} before answering:\n{_tail(log)}")
        try:
            status, _, _ = _get(url, timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SetupError(f"{what} did not answer {url} within {START_TIMEOUT} s:\n{_tail(log)}")
        time.sleep(0.2)


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(proc: subprocess.Popen, pid: int | None = None) -> None:
    """SIGTERM to the server's own PID (gunicorn's master stops its workers), SIGKILL if it lingers."""
    pid = pid or proc.pid
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT)


@contextlib.contextmanager
def server(args: list[str], env: dict, ready_url: str, log: Path, what: str):
    """A server process, yielded once `ready_url` answers 200; always stopped by its PID on the way out."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            _wait_ready(proc, ready_url, what, log)
            yield proc
        finally:
            _stop(proc)


def worker_memory(master: int) -> list[dict]:
    """Peak (VmHWM) and current (VmRSS) resident memory of each worker of a gunicorn master, in MB."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        children = [p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p.name) == master]
    workers = []
    for pid in children:
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
        )
        workers.append(
            {
                "pid": int(pid),
                "peak_rss_mb": round(int(status["VmHWM"].split()[0]) / 1024, 1),
                "rss_mb": round(int(status["VmRSS"].split()[0]) / 1024, 1),
            }
        )
    if not workers:
        raise SetupError(f"gunicorn master {master} has no workers")
    return workers


def _ppid(pid: str) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


# ---- wrk ----

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return round(float(number) * _UNITS[unit], 2)


def wrk(url: str, duration: float, script: Path | None = None) -> dict:
    """Requests per second and latency percentiles; any non-2xx/3xx answer is a broken setup."""
    command = [WRK, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    command += ["-H", "Accept-Encoding: gzip"]
    if script:
        command += ["-s", str(script)]
    done = subprocess.run(command + [url], capture_output=True, text=True, timeout=duration + 60, check=False)
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if done.returncode != 0 or not rps or not total or int(total.group(1)) == 0:
        raise SetupError(f"wrk failed on {url}:\n{out}\n{done.stderr}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise SetupError(f"{url}: {bad.group(1)} of {total.group(1)} answers were not 2xx/3xx (a broken setup)")
    percentiles = dict(re.findall(r"^\s+(50|90|99)%\s+([\d.]+(?:us|ms|s))", out, re.MULTILINE))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": round(float(rps.group(1)), 1),
        "requests": int(total.group(1)),
        "p50_ms": _ms(percentiles["50"]),
        "p90_ms": _ms(percentiles["90"]),
        "p99_ms": _ms(percentiles["99"]),
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
    }


def rotation_script(paths: list[str], file: Path) -> Path:
    """A wrk Lua script asking for `paths` in turn, one per request."""
    listed = ",\n".join(f"  {json.dumps(path)}" for path in paths)
    file.write_text(
        "-- Written by tests/bench/bench_http.py: one address after the other, round and round.\n"
        f"local paths = {{\n{listed}\n}}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n % #paths + 1\n"
        "  return wrk.format(nil, paths[n])\n"
        "end\n"
    )
    return file


def wrk_version() -> str:
    done = subprocess.run([WRK, "-v"], capture_output=True, text=True, timeout=10, check=False)
    match = re.search(r"wrk ([\w.\-]+)", done.stdout + done.stderr)
    return match.group(1) if match else "unknown"


# ---- Lighthouse ----

LIGHTHOUSE_PAGES = ("overview", "compare", "point", "party", "search")


def lighthouse_performance(base: str, addresses: dict[str, str], runs: int = 3) -> dict:
    """
    Lighthouse's Performance score of each page (mobile emulation, its simulated slow 4G and CPU),
    one Chromium for all, before wrk loads the machine: the median of `runs` runs, as Lighthouse's
    own advice has it, since a busy machine's long tasks cost a single run points (Total Blocking
    Time). Not measured, with the reason, when Chromium or Lighthouse is missing: the other
    figures do not depend on it.
    """
    reason = lighthouse.missing()
    if reason:
        print(f"  lighthouse: not measured: {reason}", flush=True)
        return {"skipped": reason, "pages": {}}
    found: dict = {"pages": {}, "how": "Lighthouse, mobile emulation, Performance only, Debian's Chromium"}
    with lighthouse.chromium() as port:
        for kind, path in addresses.items():
            results = []
            for _ in range(runs):
                try:
                    results.append(lighthouse.audit(base + path, ["performance"], port))
                except lighthouse.LighthouseError as error:
                    raise SetupError(str(error)) from error
            results.sort(key=lambda result: result["scores"]["performance"])
            median = results[len(results) // 2]
            score = median["scores"]["performance"]
            found["pages"][kind] = {
                "path": path,
                "performance": score,
                "runs": [result["scores"]["performance"] for result in results],
                "losing": median["failing"]["performance"],
            }
            found["version"] = median["lighthouse"]
            print(f"  lighthouse {kind:<11} performance {score} (runs: {found['pages'][kind]['runs']})", flush=True)
    return found


# ---- the run ----


def static_css(static_root: Path) -> str:
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    return "/static/" + manifest["paths"]["peaceplans/app.css"]


def run(
    *,
    cat: dict,
    db: Path,
    static_root: Path,
    work: Path,
    port: int,
    duration: float,
    warmup: float,
    only=None,
    load_seconds: int = 30,
    edit_every: float = 5,
) -> dict:
    """
    Every HTTP figure, for the demo `cat`alogue of bench_pages.py; `only` names the pages wrk
    measures (default: all). Ports: `port` (gunicorn), `port` + 1 (the second gunicorn, page
    cache off), `port` + 2 (Datasette). `load_seconds` and `edit_every`: the edit under load.

    A shared machine's load drifts over minutes, so every ratio is taken between neighbours:
    each page's req/s against the static file measured just before it, and Datasette's table
    page between our overview cached (just before) and our overview with the page cache off
    (just after), with every server up all along (idle ones cost nothing). The edit under load
    comes last, as it writes to the database; the workers' memory is read after it.
    """
    import bench_datasette  # here: both import this module
    import bench_edits

    if not Path(WRK).exists():
        raise SetupError("wrk not found: apt-get install -y wrk (`make bench` does it when run as root)")
    addresses = pages(cat)
    css = static_css(static_root)
    env = app_env(db, static_root)
    bench_edits.create_editor(env)  # a write: before any server caches a page
    command = make_run_command(port, work / "gunicorn.pid")
    base = f"http://127.0.0.1:{port}"
    cold_env = {**env, "PEACEPLANS_PAGE_CACHE_SECONDS": "0"}
    cold_base = f"http://127.0.0.1:{port + 1}"
    cold_command = make_run_command(port + 1, work / "gunicorn-nocache.pid")
    reference = max(1, round(duration / 2))  # seconds of static file before each page
    tool = f"wrk {wrk_version()} -t{THREADS} -c{CONNECTIONS} -d{duration}s"
    shown = " ".join(command[1:]).replace(str(work), "WORK")
    results: dict = {"command": shown, "wrk": tool, "static_seconds": reference}

    def fetch(path, headers):
        return _get(base + path, headers)

    with contextlib.ExitStack() as stack:
        master = stack.enter_context(server(command, env, base + css, work / "gunicorn.log", "gunicorn"))
        stack.enter_context(server(cold_command, cold_env, cold_base + css, work / "gunicorn-nocache.log", "no cache"))
        cache = page_cache(cold_base + addresses["overview"])
        if cache not in ("off", "absent"):
            raise SetupError(f"PEACEPLANS_PAGE_CACHE_SECONDS=0 left the page cache on (X-Page-Cache: {cache})")
        peer_db = bench_datasette.build(cold_base, cat["plan"], work)
        peer = stack.enter_context(bench_datasette.datasette(peer_db, work, port + 2))
        for kind, path in addresses.items():
            status, _, _ = fetch(path, {"Accept-Encoding": "gzip"})
            if status != 200:
                raise SetupError(f"{kind} {path} answered {status}, not 200")
        results["bytes"] = {
            "first_load": {kind: first_load(fetch, path) for kind, path in addresses.items() if kind in HTML_PAGES},
            "fragments": {name: fragment_bytes(fetch, path) for name, path in fragments(cat).items()},
            "how": "over HTTP from gunicorn, Accept-Encoding: gzip",
        }
        kinds = [kind for kind in LIGHTHOUSE_PAGES if not only or kind in only]
        # `only`: the quick mode (tests/bench/test_bench.py): one audit of the first page proves the harness;
        # tests/browser/test_lighthouse.py audits every page's other categories in the suite anyway.
        kinds, runs = (kinds[:1], 1) if only else (kinds, 3)
        results["lighthouse"] = lighthouse_performance(base, {kind: addresses[kind] for kind in kinds}, runs)
        if warmup:
            wrk(base + addresses["overview"], warmup)  # both workers up to speed
            wrk(cold_base + addresses["overview"], warmup)
        results["pages"] = {}
        for kind, path in addresses.items():
            if only and kind not in only:
                continue
            static = wrk(base + css, reference)
            cache = warm_up(base + path)  # "hit" when the warm figure is the cached page
            row = {"path": path, "page_cache": cache, **wrk(base + path, duration), "static_rps": static["rps"]}
            row["ratio"] = round(row["rps"] / static["rps"], 3)
            results["pages"][kind] = row
            print(f"  http {kind:<11} {row['rps']:8.1f} req/s, static just before {static['rps']:.1f}", flush=True)
            if kind == "overview":
                results["datasette"] = peers(row, peer, cold_base, path, duration)
        statics = [row["static_rps"] for row in results["pages"].values()]
        results["static"] = {"path": css, "rps": round(statistics.median(statics), 1), "all": statics}
        results["compare_cold"] = compare_cold(cat, cold_base, css, work, duration, reference)
        results["edits"] = bench_edits.run(base, cat, work, load_seconds, edit_every, warmup=max(1, round(warmup)))
        results["workers"] = worker_memory(master.pid)
    return results


def peers(overview: dict, peer: dict, cold_base: str, path: str, duration: float) -> dict:
    """Datasette's table page just after our cached overview, then our overview with the page cache off."""
    found = {**peer, **wrk(peer["url"], duration)}
    off = {"path": path, "page_cache": page_cache(cold_base + path), **wrk(cold_base + path, duration)}
    found["uncached_overview"] = off
    found["ratio_uncached"] = round(off["rps"] / found["rps"], 2)
    found["ratio_cached"] = round(overview["rps"] / found["rps"], 2)
    print(
        f"  http datasette   {found['rps']:8.1f} req/s; overview page cache off {off['rps']:.1f} req/s",
        flush=True,
    )
    return found


def compare_cold(cat: dict, cold_base: str, css: str, work: Path, duration: float, reference: int) -> dict:
    """Every ordered pair of the demo's texts in turn, on the gunicorn whose page cache is off."""
    revisions = cat["revisions"]
    ordered = [(a, b) for a in revisions for b in revisions if a != b]
    script = rotation_script([compare_path(cat, a, b) for a, b in ordered], work / "rotate.lua")
    for a, b in ordered:
        status, _, _ = _get(cold_base + compare_path(cat, a, b), {"Accept-Encoding": "gzip"})
        if status != 200:
            raise SetupError(f"the comparison {a} → {b} answered {status} on the server without cache")
    static = wrk(cold_base + css, reference)
    row = {
        "pairs": len(ordered),
        "page_cache": page_cache(cold_base + compare_path(cat, *ordered[0])),
        "how": "second gunicorn, same command, page cache off; wrk rotates through every ordered pair",
        **wrk(cold_base + "/", duration, script=script),
        "static_rps": static["rps"],
    }
    row["ratio"] = round(row["rps"] / static["rps"], 3)
    print(f"  http compare cold {row['rps']:7.1f} req/s, static just before {static['rps']:.1f}", flush=True)
    return row
