"""Accessibility (axe-core, WCAG 2.2 AA rules) and HTML validity (the Nu validator) of every page."""

import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PLAN = "russia-ukraine-2025"
PAGES = [
    "/",
    f"/plans/{PLAN}/",
    f"/plans/{PLAN}/?sort=-russia&page=2",
    f"/plans/{PLAN}/points/7/",
    f"/plans/{PLAN}/points/6/?against=us-28-point-draft",
    f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal",
    f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=europe-24-point-telegraph&view=inline&changes=only",
    f"/plans/{PLAN}/compare/?a=berlin-joint-statement&b=berlin-joint-statement",
    f"/plans/{PLAN}/?topic=nato&party=russia",
    f"/plans/{PLAN}/?on=us-28-point-draft&per_page=100",  # stances on other texts muted, "+N more"
    f"/plans/{PLAN}/points/21d/",  # stances grouped by party, each naming its text
    f"/plans/{PLAN}/revisions/e3-counter-proposal/",  # wording notes
    f"/plans/{PLAN}/compare/?view=sideways",
    f"/plans/{PLAN}/points/3/",
    f"/plans/{PLAN}/revisions/us-28-point-draft/",
    f"/plans/{PLAN}/parties/europe/",
    f"/plans/{PLAN}/timeline/",
    f"/plans/{PLAN}/timeline/?party=russia",
    f"/plans/{PLAN}/timeline/?party=nope",  # the 400 page with the form showing the error
    "/sources/",
    "/search/?q=army",  # results of every kind, highlighted (peaceplans/search/__init__.py)
    "/search/",  # the empty form with its hint
    "/api/",  # the documented schema page of the JSON API (peaceplans/publish/api.py)
    "/plans/nope/",
    # The embeds (peaceplans/publish/embeds.py), and one showing its error inside the frame
    f"/embed/plans/{PLAN}/points/6/",
    f"/embed/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal&points=6,7,8",
    f"/embed/plans/{PLAN}/points/6/?revisions=nope",
]
DEFAULT_VNU = Path(__file__).resolve().parents[2] / ".cache/npm/node_modules/vnu-jar/build/dist/vnu.jar"
VNU = Path(os.environ.get("VNU_JAR") or DEFAULT_VNU)


@pytest.mark.parametrize("width", [360, 1280])
def test_axe_finds_no_violations(browser, server_url, width):
    """axe-core runs in a context that bypasses the CSP (it injects a script); the CSP itself is tested elsewhere."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    problems = {}
    for path in PAGES:
        page.goto(server_url + path)
        results = axe.run(
            page,
            options={
                "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa", "best-practice"]}
            },
        )
        if results.violations_count:
            problems[path] = [
                (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]
            ]
    context.close()
    assert problems == {}


def test_html_is_valid(server_url, tmp_path):
    """The server's HTML (not the browser's DOM) passes the Nu validator; hx-* attributes are htmx's own."""
    java = shutil.which("java")
    if not VNU.exists() or not java:
        pytest.skip(f"Nu validator not available ({VNU} or java missing): `make test` installs it with npm")
    files = []
    for n, path in enumerate(PAGES):
        request = urllib.request.Request(server_url + path)
        try:
            html = urllib.request.urlopen(request).read()
        except urllib.error.HTTPError as error:  # the 404 page is validated too
            html = error.read()
        files.append(tmp_path / f"page{n}.html")
        files[-1].write_bytes(html)
    result = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--filterpattern", r".*Attribute .hx-.*", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    names = {str(f): PAGES[i] for i, f in enumerate(files)}
    report = result.stderr
    for file, path in names.items():
        report = report.replace(f"file:{file}", path)
    assert result.returncode == 0, report
