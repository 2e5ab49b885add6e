"""
The XSS corpus (tests/web/test_xss.py) in Chromium, under the real CSP: stored in the test
server's database, then the pages that show it are loaded, an HTMX swap is made, and the
admin's live preview is typed into. alert/confirm/prompt/print are trapped, dialogs are
recorded, and the page's CSP violations too: nothing may have run or even tried to.
"""

import json

import pytest

from tests.web.test_xss import PAYLOADS

from .conftest import manage

pytestmark = pytest.mark.browser

PLAN = "russia-ukraine-2025"
KEY = "xss-probe"
SOURCE_URL = "https://example.org/xss-probe/"
PASSWORD = "quiet-evening-galaxy-7261"

# Runs before any script of the page: a payload that ran would leave its mark here.
TRAP = """
window.__pwned = undefined;
for (const name of ['alert', 'confirm', 'prompt', 'print']) {
  const original = window[name];
  window[name] = function (...args) {
    window.__pwned = name + '(' + args.join(',') + ')';
    return original.apply(window, args);
  };
}
"""

INSERT = """
import json
from datetime import date
from peaceplans.models import Annotation, Clause, Party, Plan, Point, Source, Stance, Topic
payloads = json.loads({payloads!r})
plan = Plan.objects.get(slug={plan!r})
us = plan.revisions.get(slug="us-28-point-draft")
e3 = plan.revisions.get(slug="e3-counter-proposal")
point = Point.objects.create(
    plan=plan, key={key!r}, title="Hostile text probe", topic=Topic.objects.first(), sort_order=99999
)
Clause.objects.create(revision=us, point=point, number="x1", sort_order=99999, text=" ".join(payloads))
reordered = "800,000 " + " ".join(payloads[::-1])  # B differs from A: the diff marks every payload
Clause.objects.create(revision=e3, point=point, number="x1", sort_order=99999, text=reordered)
parties = list(Party.objects.all())
for i, text in enumerate(payloads):
    source = Source.objects.create(
        url={source!r} + str(i), outlet=text, title=text, kind="original-report", published_on=date(2026, 1, 1)
    )
    Stance.objects.create(
        plan=plan, party=parties[i % len(parties)], point=point, revision=e3, position="opposes",
        stated_on=date(2026, 1, 1), summary=text, quote=text, speaker=text, source=source,
    )
    Annotation.objects.create(point=point, body="**bold** marker\\n\\n" + text, status="published")
print(point.pk)
"""

REMOVE = """
from peaceplans.models import Annotation, Clause, Point, Source, Stance
point = Point.objects.get(plan__slug={plan!r}, key={key!r})
Annotation.objects.filter(point=point).delete()
Stance.objects.filter(point=point).delete()
Clause.objects.filter(point=point).delete()
point.delete()
Source.objects.filter(url__startswith={source!r}).delete()
"""


@pytest.fixture(scope="module")
def hostile_point(server_env, server_url):
    """A point whose wording, stances, sources and notes are the whole corpus; removed afterwards."""
    params = {"plan": PLAN, "key": KEY, "source": SOURCE_URL}
    payloads = json.dumps([payload for _, payload in PAYLOADS])
    manage(server_env, "shell", "-c", INSERT.format(payloads=payloads, **params))
    yield f"/plans/{PLAN}/points/{KEY}/"
    manage(server_env, "shell", "-c", REMOVE.format(**params))


@pytest.fixture
def trapped(page):
    """The page with the trap installed; dialogs, console errors and failed requests are collected."""
    page.dialogs, page.console_errors, page.failed = [], [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    # The admin has no favicon link, so Chromium asks for /favicon.ico: that 404 is not ours to judge.
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and page.failed.append(r.url))
    page.add_init_script(TRAP)
    return page


def assert_nothing_ran(page, where: str):
    assert page.evaluate("window.__pwned") is None, f"{where}: {page.evaluate('window.__pwned')}"
    assert page.dialogs == [], f"{where}: dialogs {page.dialogs}"
    assert page.evaluate("window.__cspViolations") == [], f"{where}: the CSP had to block something"
    assert page.failed == [], f"{where}: failed requests {page.failed}"
    errors = [e for e in page.console_errors if not e.startswith("Failed to load resource")]  # judged just above
    assert errors == [], f"{where}: {errors}"
    dangerous = page.evaluate(
        """() => [...document.querySelectorAll('[href], [src], [action], [formaction]')]
              .map(el => el.href || el.src || el.action || el.formAction || '')
              .filter(url => /^(javascript|data|vbscript):/i.test(url))"""
    )
    assert dangerous == [], f"{where}: {dangerous}"


def test_the_trap_catches_a_script_that_runs(trapped, server_url):
    """The check below would be worthless if the trap missed a real alert."""
    trapped.goto(server_url + "/sources/")
    trapped.evaluate("alert('probe')")
    assert trapped.evaluate("window.__pwned") == "alert(probe)"
    assert trapped.dialogs == ["probe"]


@pytest.mark.parametrize("path", ["point", "party", "sources", "revision"])
def test_public_pages_with_the_corpus_run_no_script(trapped, server_url, hostile_point, path):
    url = {
        "point": hostile_point,
        "party": f"/plans/{PLAN}/parties/russia/",
        "sources": "/sources/",
        "revision": f"/plans/{PLAN}/revisions/e3-counter-proposal/",
    }[path]
    trapped.goto(server_url + url)
    trapped.wait_for_load_state("networkidle")
    if path == "point":
        trapped.locator("details.history summary").first.click()  # earlier statements, opened
    assert_nothing_ran(trapped, url)
    if path == "point":
        assert trapped.locator(".note strong", has_text="bold").count() == len(PAYLOADS), "Markdown still works"


def test_comparison_and_its_htmx_swap_run_no_script(trapped, server_url, hostile_point):
    url = f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal"
    trapped.goto(server_url + url)
    trapped.wait_for_load_state("networkidle")
    row = trapped.locator(f"#point-{KEY}")
    assert row.locator(".side--b ins").count() > 0
    row.locator(".compare-row__notes summary").click()
    assert row.locator(".note strong", has_text="bold").count() == len(PAYLOADS)
    assert_nothing_ran(trapped, url)
    trapped.get_by_label("one redline").check()  # the form swaps #comparison by HTMX
    trapped.wait_for_selector(".comparison--inline")
    trapped.wait_for_load_state("networkidle")
    assert "view=inline" in trapped.url
    trapped.locator(f"#point-{KEY} .compare-row__notes summary").click()
    assert_nothing_ran(trapped, url + " after the HTMX swap")


@pytest.fixture(scope="module")
def preview_editor(server_env, server_url):
    manage({**server_env, "EDITOR_PASSWORD": PASSWORD}, "create_editor", "hostile-text-desk")
    return "hostile-text-desk"


def test_admin_preview_renders_the_corpus_inert(trapped, server_url, preview_editor):
    page = trapped
    page.goto(server_url + "/admin/login/?next=/admin/peaceplans/annotation/add/")
    page.fill("#id_username", preview_editor)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(server_url + "/admin/peaceplans/annotation/add/")
    page.wait_for_selector("#annotation-preview >> text=Nothing yet.")  # the load-time request
    body = "**bold** marker\n\n" + "\n\n".join(payload for _, payload in PAYLOADS)
    page.fill("#id_body", body)
    page.wait_for_selector("#annotation-preview strong")
    assert page.inner_text("#annotation-preview strong") == "bold"
    preview = page.locator("#annotation-preview")
    assert preview.locator("script, img, svg, iframe, style, object, embed, form, input, button").count() == 0
    assert preview.locator("[hx-get], [data-hx-post], [hx-vals]").count() == 0
    assert_nothing_ran(page, "admin preview")
