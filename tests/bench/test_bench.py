"""
`make bench` in its quick mode, so the harness cannot rot unnoticed: it must build its databases,
start its servers, measure every figure, stop everything and write its table. The figures
themselves are not checked: it is a benchmark, not a test. Deselect with `-m "not bench"`.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bench_datasette import overview_table, shown_points
from bench_edits import form_fields
from bench_http import SetupError, make_run_command
from common import HTML_PAGES

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE_RUN = """
run: $(VENV)/.installed-runtime
\t@export DJANGO_DEBUG=0
\texec $(VENV)/bin/gunicorn peaceplans.wsgi:application \\
\t  --bind 127.0.0.1:$${PORT:-8000} --workers $${WEB_CONCURRENCY:-3} \\
\t  --no-control-socket --pid .run/gunicorn.pid --access-logfile -

dev:
\texec something else
"""


def test_gunicorn_is_started_as_the_makefile_run_recipe_says(tmp_path, monkeypatch):
    """Flags come from the recipe, shell defaults expanded; only the address and the PID file change."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    makefile = tmp_path / "Makefile"
    makefile.write_text(MAKEFILE_RUN)
    command = make_run_command(8299, tmp_path / "g.pid", makefile)
    assert command[0] == str(ROOT / ".venv/bin/gunicorn")
    assert command[1:] == [
        "peaceplans.wsgi:application",
        "--bind",
        "127.0.0.1:8299",
        "--workers",
        "3",
        "--no-control-socket",
        "--pid",
        str(tmp_path / "g.pid"),
        "--access-logfile",
        "-",
    ]
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    assert make_run_command(8299, tmp_path / "g.pid", makefile)[5] == "5"


def test_the_real_makefile_run_recipe_is_understood(tmp_path):
    command = make_run_command(8299, tmp_path / "g.pid")
    assert "peaceplans.wsgi:application" in command
    assert command[command.index("--bind") + 1] == "127.0.0.1:8299"


def test_a_makefile_without_a_run_target_is_a_broken_setup(tmp_path):
    makefile = tmp_path / "Makefile"
    makefile.write_text("test:\n\tpytest\n")
    with pytest.raises(SetupError, match="no `run` target"):
        make_run_command(8299, tmp_path / "g.pid", makefile)


MATRIX_CSV = (
    "\ufeffkey,title,topic,url,positions_on,us_position,us_answering,us_answering_label,us_stated_on,us_speaker,"
    "us_source_url,us_url\r\n"
    "1,Sovereignty,Sovereignty,http://x/1/,latest,,,,,,,\r\n"
    '2,Army cap,Military limits,http://x/2/,latest,supports,us-28,US draft,2025-11-20,"Rubio, M.",http://s/,http://x/2/#s\r\n'
    "3,Sanctions,Economy,http://x/3/,latest,opposes,e3,E3,2025-11-23,Merz,http://s/,http://x/3/#t\r\n"
)


def test_the_peer_holds_the_rows_the_overview_draws_in_its_order_and_nothing_more():
    page = '<table><tr id="point-3" class="odd"><td>…</td></tr><tr id="point-2"><td>…</td></tr></table>'
    columns, rows = overview_table(MATRIX_CSV, shown_points(page))
    assert columns == ["no", "point", "topic", "us position", "us on", "us date", "us speaker"]
    assert rows == [
        ["3", "Sanctions", "Economy", "opposes", "E3", "2025-11-23", "Merz"],
        ["2", "Army cap", "Military limits", "supports", "US draft", "2025-11-20", "Rubio, M."],
    ]
    with pytest.raises(SetupError, match="not in the matrix CSV"):
        overview_table(MATRIX_CSV, ["4"])


def test_the_editor_posts_what_a_browser_would_post_from_the_form():
    page = """<form id="other"><input name="q" value="no"></form>
    <form id="stance_form" method="post"><input type="hidden" name="csrfmiddlewaretoken" value="t&amp;k">
    <select name="party"><option value="">---</option><option value="4" selected>Russia</option></select>
    <select name="revision"><option value="">---</option><option value="2">US</option></select>
    <input type="checkbox" name="public"><input type="checkbox" name="checked" checked>
    <input type="text" name="speaker" value="Lavrov"><textarea name="summary">\nLine one\nLine two</textarea>
    <input type="submit" name="_save" value="Save"></form>"""
    assert form_fields(page, "stance_form") == [
        ("csrfmiddlewaretoken", "t&k"),
        ("party", "4"),
        ("revision", ""),
        ("checked", "on"),
        ("speaker", "Lavrov"),
        ("summary", "Line one\nLine two"),
    ]


@pytest.mark.bench
@pytest.mark.servers  # gunicorn and Datasette of its own
@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed (apt-get install -y wrk)")
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"),
    reason="the benchmark builds its own SQLite databases: it runs in the SQLite pass only",
)
def test_quick_bench_measures_everything_and_writes_its_table(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests/bench/run.py"), "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads((tmp_path / "bench.json").read_text())
    assert set(figures["pages"]) == {"demo", "generated"}, "generate_synthetic did not run"
    demo = figures["pages"]["demo"]
    assert len(demo["compare"]) == 1  # quick mode: one pair
    assert all(page["cold_ms"] > 0 and page["queries"] > 0 for page in demo["pages"])
    http = figures["http"]
    assert http["static"]["rps"] > 0 and http["datasette"]["rps"] > 0 and http["compare_cold"]["rps"] > 0
    assert {p["kind"] for p in demo["pages"]} == {"overview", "api detail"}  # quick mode: three kinds of page
    assert set(http["pages"]) == {"overview", "compare", "api detail"}
    assert set(http["bytes"]["first_load"]) == set(HTML_PAGES)
    assert http["workers"] and all(w["peak_rss_mb"] > 10 for w in http["workers"])
    # The peer holds exactly the overview's first page: its rows, each party's four columns.
    peer = http["datasette"]
    assert peer["rows"] == 30 and peer["columns"] == 3 + 4 * 4
    assert peer["uncached_overview"]["page_cache"] == "off" and peer["uncached_overview"]["rps"] > 0
    assert peer["ratio_uncached"] > 0 and peer["ratio_cached"] > peer["ratio_uncached"]
    # The edit under load: both runs measured, and the editor's saves landed through the admin.
    edits = http["edits"]
    assert edits["without_edits"]["requests"] > 0 and edits["with_edits"]["requests"] > 0
    assert edits["with_edits"]["saves"] and edits["with_edits"]["saves_ok"] == len(edits["with_edits"]["saves"])
    assert edits["with_edits"]["by_page_cache"].get("miss", 0) > 0  # each save made the pages render again
    assert all(c["cold_uncached_ms"] > 0 for c in demo["compare"])  # the page cache off, the diff memo cold
    assert len(figures["targets"]) == 10 and all(isinstance(t["met"], bool) for t in figures["targets"])
    table = (tmp_path / "bench.md").read_text()
    assert table in done.stdout
    assert "| overview, page cache off ÷ Datasette's table page of the same 30 rows, req/s, side by side |" in table
    assert "**An edit under load**" in table
    for part in ("bench-pages-demo.json", "bench-pages-generated.json", "bench-http.json", "bench-diff.json"):
        assert (tmp_path / part).exists(), part
    assert not list(tmp_path.glob("bench-work-*")), "the databases and logs were not removed"
