"""
`make loadtest` in miniature (tests/bench/loadtest.py, 3 s at 4 connections; about 12 s in all): the
driver builds its database, starts gunicorn as `make run` does, runs wrk over every kind of address,
reports its figures and fails when an answer is not 2xx. One address of the rotation is made a 404
on purpose, so the check is seen to count it and to fail the run. Skipped when wrk is absent.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "bench" / "loadtest.py"
SECONDS, CONNECTIONS = 3, 4

pytestmark = [
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not found (apt-get install -y wrk)"),
    pytest.mark.servers,
    pytest.mark.slow,
]


def test_the_load_test_reports_its_figures_and_fails_on_a_non_2xx(tmp_path):
    missing = "/no-such-page-for-the-load-test/"
    done = subprocess.run(
        [sys.executable, str(DRIVER), "--seconds", str(SECONDS), "--connections", str(CONNECTIONS)]
        + ["--out", str(tmp_path), "--port", str(free_port()), "--extra-path", missing],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # measured, and the target was missed
    results = json.loads((tmp_path / "loadtest.json").read_text())
    figures = results["figures"]

    # Every kind of address was in the rotation, the partial as an HTMX request; all but ours answered 200.
    kinds = {target["kind"]: target for target in results["targets"]}
    assert list(kinds) == ["overview", "compare", "point", "search", "partial", "api list", "api detail", "extra"]
    assert kinds["partial"]["htmx"] and not kinds["point"]["htmx"]
    assert kinds["search"]["path"].startswith("/search/?q=")
    assert kinds["api list"]["path"].startswith("/api/v1/")
    assert {kind: t["status"] for kind, t in kinds.items()} == dict.fromkeys(kinds, 200) | {"extra": 404}

    # The figures are there and plausible: requests over the run, latencies in order.
    assert figures["requests"] > 50
    assert figures["rps"] == pytest.approx(figures["requests"] / figures["seconds"], rel=0.01)
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert figures["errors"] == 0
    # Each answer's X-Page-Cache is counted: after the first request of each address, hits; the missing
    # address, which no view answers, is never stored (issue 19, item 6): "uncached".
    cached = figures["by_page_cache"]
    assert abs(sum(cached.values()) - figures["requests"]) <= CONNECTIONS
    assert cached["hit"] > cached.get("miss", 0) and set(cached) <= {"hit", "miss", "stale", "uncached", "none"}

    # Every non-2xx is the 404, one request in eight (each wrk thread rotates over the eight addresses;
    # the answers still in flight when wrk stops make the only difference).
    assert figures["non2xx_by_status"] == {"404": figures["non2xx"]}
    assert abs(figures["non2xx"] - figures["requests"] / len(kinds)) <= CONNECTIONS + 2
    assert results["passed"] is False

    table = (tmp_path / "loadtest.md").read_text()
    row = f"| {figures['rps']} | {figures['p50_ms']} | {figures['p99_ms']} | {figures['requests']} | "
    assert row + f"{figures['non2xx']} | 0 | FAIL |" in table
    assert f"`{missing}`: 404" in table
    assert "req/s" in done.stdout and "FAIL" in done.stdout
    assert not list(tmp_path.glob("loadtest-*")), "the work folder (database, PID file, logs) was left behind"
