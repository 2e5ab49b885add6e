"""
A Redis that hangs, under load (issue 19, item 3): redis-server stopped with SIGSTOP (it keeps
accepting connections and answers nothing) while clients read pages from gunicorn, as `make run`
starts it with REDIS_URL (tests/stack.py: SQLite, Redis, 2 sync workers, all on loopback, stopped
by PID). Before the circuit breaker every anonymous request paid the 0.5 s socket timeout on each
cache call; at 5 clients a request took 3.2 s.

Three phases of the same load: Redis healthy, Redis stopped, Redis continued. Asserted: 0 errors and
every answer a 200 throughout; once the breaker has opened (2 s after the stop), the p99 latency is
at most 100 ms above the healthy phase's; each worker logs one "circuit open" line, not one per call;
/healthz?part=database stays fast and 200 while /healthz names the open breaker; after SIGCONT the
pages come from the cache again within the breaker's 5 s plus a request. Figures are printed (-s).

About 45 s: setup (migrate, demo, collectstatic) ~15 s, then 6 + 12 + 8 s of load.
"""

import os
import signal
import statistics
import time

import pytest

from tests import stack

pytestmark = [pytest.mark.servers, pytest.mark.slow]

CLIENTS = 4  # client threads, over 2 workers: requests queue a little, as in production
BREAKER_SECONDS = 5  # settings.py's default (PEACEPLANS_CACHE_BREAKER_SECONDS)
OPENED_WITHIN = 2.0  # seconds after the stop by which both workers' breakers are open
ADDED_P99_BOUND = 0.100


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latencies(hits) -> list[float]:
    return [hit.end - hit.start for hit in hits]


def figures(hits) -> dict:
    times = latencies(hits)
    return {
        "requests": len(hits),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p99_ms": round(percentile(times, 0.99) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        **{k: v for k, v in stack.summary(hits).items() if k in ("by_status", "errors")},
    }


def timed_get(url: str) -> tuple[int, dict, bytes, float]:
    started = time.monotonic()
    status, headers, body = stack.get(url)
    return status, headers, body, time.monotonic() - started


def assert_all_ok(name: str, hits) -> None:
    counts = stack.summary(hits)
    assert counts["errors"] == 0, (name, [hit.error for hit in hits if hit.error][:5])
    assert counts["by_status"] == {200: counts["requests"]}, (name, [(h.status, h.body[:200]) for h in hits][:3])


def test_a_hung_redis_under_load_costs_under_100_ms_at_p99_once_the_breaker_is_open(tmp_path):
    with stack.redis(stack.free_port(), tmp_path) as redis:
        env = stack.app_env(tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", redis_url=redis.url)
        stack.prepare(env)
        log = tmp_path / "gunicorn.log"
        with stack.gunicorn(env, stack.free_port(), tmp_path, log=log) as server:
            paths = stack.demo_paths(server.url)
            for path, headers in paths * 2:  # every page in the cache before the load
                stack.get(server.url + path, headers)

            healthy = stack.Load(server.url, paths, threads=CLIENTS, seconds=6).start().join()

            os.kill(redis.process.pid, signal.SIGSTOP)
            stopped = time.monotonic()
            try:
                with stack.Load(server.url, paths, threads=CLIENTS, seconds=12) as hung_load:
                    time.sleep(OPENED_WITHIN + 1)
                    probes = [timed_get(server.url + "/healthz?part=database") for _ in range(5)]
                    full = timed_get(server.url + "/healthz")
                hung = hung_load.hits
            finally:
                os.kill(redis.process.pid, signal.SIGCONT)
            continued = time.monotonic()

            back = None
            while back is None and time.monotonic() - continued < BREAKER_SECONDS + 5:
                status, headers, _ = stack.get(server.url + paths[0][0])
                if status == 200 and headers.get("X-Page-Cache") == "hit":
                    back = time.monotonic() - continued
                time.sleep(0.1)
            after = stack.Load(server.url, paths, threads=CLIENTS, seconds=4).start().join()
        logged = log.read_text()

    opened = [hit for hit in hung if hit.start >= stopped + OPENED_WITHIN]
    opening = [hit for hit in hung if hit.start < stopped + OPENED_WITHIN]
    slow = [hit for hit in opened if hit.end - hit.start >= 0.2]  # the probes, one a worker every 5 s
    report = {
        "healthy": figures(healthy),
        "hung, breaker opening (first 2 s)": figures(opening),
        "hung, breaker open": figures(opened),
        "continued": figures(after),
    }
    added = report["hung, breaker open"]["p99_ms"] - report["healthy"]["p99_ms"]
    print("\nA hung Redis (SIGSTOP) under load,", CLIENTS, "clients, 2 workers:")
    for name, numbers in report.items():
        print(f"  {name}: {numbers}")
    print(f"  p99 added once the breaker is open: {added:.1f} ms; requests >= 200 ms while open: {len(slow)}")
    print(f"  /healthz?part=database while hung: {[(s, round(t * 1000, 1)) for s, _, _, t in probes]} (status, ms)")
    print(f"  /healthz while hung: {full[0]} {full[2].decode()} in {full[3] * 1000:.1f} ms")
    print(f"  pages from the cache again {back} s after SIGCONT")
    print(f"  log: {logged.count('circuit open')} 'circuit open', {logged.count('circuit closed')} 'circuit closed'")

    for name, hits in (("healthy", healthy), ("hung", hung), ("continued", after)):
        assert_all_ok(name, hits)
    assert len(opened) >= 50, "too few requests while the breaker was open to measure a p99"
    assert added <= ADDED_P99_BOUND * 1000, report
    assert all(status == 200 and seconds < 0.1 for status, _, _, seconds in probes), probes
    assert full[0] == 503 and b'"cache": "error: CircuitOpen"' in full[2] and full[3] < 0.1, full
    assert back is not None and back <= BREAKER_SECONDS + 1, back
    assert 1 <= logged.count("circuit open") <= 2, logged[-2000:]  # one a worker, never one a call
    assert 1 <= logged.count("circuit closed") <= 2, logged[-2000:]
