"""
A sample of the hostile-input corpus (tests/hostile.py: 40 strings, at least one of every category)
in Chromium. The strings go in through the real doors: `manage.py import_revision` (a revision's
title, summary and provenance, its sources' outlets and titles, its clauses' text and change notes,
a new point's title) and the models' own save (published notes' Markdown, stances' quotes, summaries
and speakers). Then the public pages that show them are loaded, an HTMX swap is made, the embed is
opened, and the admin's changelists, change pages and live Markdown preview are visited as an editor.

Each page is loaded twice:
- under the real CSP: no dialog, no console error, no CSP violation, no javascript:/data: URL;
- with the CSP bypassed (Playwright's bypass_csp), so that the escaping and the sanitizer alone are
  judged: still no dialog and nothing trapped. A payload the templates let through would run here,
  and does: test_the_check_fails_when_escaping_breaks proves it on a page of our own.
"""

import json

import pytest

from tests import hostile

from .conftest import admin_login, create_editor, manage

pytestmark = pytest.mark.browser

PLAN = "russia-ukraine-2025"
SLUG = "hostile-browser"
KEY = f"{SLUG}-1"
PASSWORD = "tidal-lantern-orchard-4417"
# NUL cannot be stored (PostgreSQL refuses it and the import refuses it): those are left out.
SAMPLE = [p for p in hostile.sample(44, seed=24) if "\x00" not in p.text and p.text.strip()][:40]

# Runs before any script of the page: a payload that ran would leave its mark here.
TRAP = """
window.__pwned = [];
for (const name of ['alert', 'confirm', 'prompt', 'print']) {
  const original = window[name];
  window[name] = function (...args) {
    window.__pwned.push(name + '(' + args.join(',') + ')');
    return original.apply(window, args);
  };
}
"""

NOTES = """
import json
from datetime import date
from peaceplans.models import Annotation, Party, Point, Revision, Source, Stance
payloads = json.loads({payloads!r})
point = Point.objects.get(plan__slug={plan!r}, key={key!r})
revision = Revision.objects.get(plan__slug={plan!r}, slug={slug!r})
if hasattr(revision, "public") and not revision.public:
    revision.public = True
    revision.save()
source = revision.sources.order_by("pk").first()
parties = list(Party.objects.all())
for i, text in enumerate(payloads):
    Annotation.objects.create(point=point, body="**bold** marker\\n\\n" + text, status="published")
    Stance.objects.create(
        plan=point.plan, party=parties[i % len(parties)], point=point, revision=revision, position="opposes",
        stated_on=date(2026, 4, 1), summary=text, quote=text[:1000], speaker=text[:200], source=source,
    )
"""


def revision_json(payloads: list[str]) -> list[dict]:
    """One revision in the import format: every payload in its text fields, one clause (and source) per payload."""
    joined = " ".join(payloads)
    return [
        {
            "slug": SLUG,
            "title": "Hostile probe " + payloads[0][:150],
            "author": ["us"],
            "published_on": "2026-04-01",
            "status": "leaked draft",
            "summary": joined[:4000],
            "provenance": joined[:4000],
            "sources": [
                {
                    "url": f"https://example.org/{SLUG}/{n}",
                    "outlet": text[:200],
                    "title": text[:500],
                    "kind": "original-report",
                    "date": "2026-04-01",
                }
                for n, text in enumerate(payloads)
            ],
            "points": [
                {
                    "number": str(n + 1),
                    "topic": "other",
                    "title": ("probe " + text)[:120],
                    "text": "probe " + text,
                    "change_note": text,
                    **({"derived_from": "6"} if n == 1 else {}),
                }
                for n, text in enumerate(payloads)
            ],
        }
    ]


@pytest.fixture(scope="module")
def hostile_data(server_env, server_url, tmp_path_factory):
    """The sample stored through import_revision and the models; the editor who will look at the admin."""
    path = tmp_path_factory.mktemp("hostile") / "revision.json"
    payloads = [p.text for p in SAMPLE]
    path.write_text(json.dumps(revision_json(payloads)), encoding="utf-8")
    manage(server_env, "import_revision", str(path), "--plan", PLAN)
    params = {"plan": PLAN, "key": KEY, "slug": SLUG, "payloads": json.dumps(payloads)}
    manage(server_env, "shell", "-c", NOTES.format(**params))
    return create_editor(server_env, "hostile-browser-desk", PASSWORD)


def watch(page):
    """Record dialogs (dismissed), console errors and CSP violations; trap alert and friends."""
    page.dialogs, page.console_errors = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.add_init_script(TRAP)
    return page


@pytest.fixture
def guarded(page):
    """Under the real CSP (the conftest's page records its violations)."""
    return watch(page)


@pytest.fixture
def unguarded(browser):
    """The CSP bypassed: only the escaping and the sanitizer stand between the data and the page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = watch(context.new_page())
    page.add_init_script("window.__cspViolations = [];")
    yield page
    context.close()


def assert_nothing_ran(page, where: str):
    assert page.dialogs == [], f"{where}: dialogs {page.dialogs}"
    assert page.evaluate("window.__pwned") == [], f"{where}: {page.evaluate('window.__pwned')}"
    assert page.evaluate("window.__cspViolations") == [], f"{where}: the CSP had to block something"
    # A missing favicon or a payload's harmless relative URL is a 404 "Failed to load resource", not a payload running.
    errors = [e for e in page.console_errors if not e.startswith("Failed to load resource")]
    assert errors == [], f"{where}: console errors {errors}"
    dangerous = page.evaluate(
        """() => [...document.querySelectorAll('[href], [src], [action], [formaction]')]
              .map(el => el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action')
                         || el.getAttribute('formaction') || '')
              .filter(url => /^[\\s\\x00-\\x1f]*(javascript|data|vbscript):/i.test(url.replace(/[\\t\\n\\r]/g, '')))"""
    )
    assert dangerous == [], f"{where}: {dangerous}"
    handlers = page.evaluate(
        """() => [...document.querySelectorAll('*')].flatMap(el => [...el.attributes]
              .filter(a => /^on|^hx-on|^data-hx-on/i.test(a.name)).map(a => el.tagName + ' ' + a.name))"""
    )
    assert handlers == [], f"{where}: event handlers {handlers}"


PUBLIC = {
    "revision": f"/plans/{PLAN}/revisions/{SLUG}/",
    "point": f"/plans/{PLAN}/points/{KEY}/",
    "point-6": f"/plans/{PLAN}/points/6/",
    "party": f"/plans/{PLAN}/parties/russia/",
    "overview": f"/plans/{PLAN}/",
    "changes": f"/plans/{PLAN}/changes/",
    "sources": "/sources/",
    "search": "/search/?q=probe",
    "embed": f"/embed/plans/{PLAN}/points/{KEY}/",
    "embed-compare": f"/embed/plans/{PLAN}/compare/?a=us-28-point-draft&b={SLUG}",
}


@pytest.mark.parametrize("csp", ["guarded", "unguarded"])
@pytest.mark.parametrize("name", list(PUBLIC))
def test_public_pages_with_the_sample_open_no_dialog(request, server_url, hostile_data, name, csp):
    page = request.getfixturevalue(csp)
    page.goto(server_url + PUBLIC[name])
    page.wait_for_load_state("networkidle")
    for summary in page.locator("details summary").all()[:5]:  # notes and earlier statements, opened
        summary.click()
    assert_nothing_ran(page, f"{PUBLIC[name]} ({csp})")
    if name == "point":
        assert page.locator(".note strong", has_text="bold").count() == len(SAMPLE), "Markdown still works"


@pytest.mark.parametrize("csp", ["guarded", "unguarded"])
def test_the_comparison_and_its_htmx_swap_open_no_dialog(request, server_url, hostile_data, csp):
    page = request.getfixturevalue(csp)
    url = f"/plans/{PLAN}/compare/?a=us-28-point-draft&b={SLUG}"
    page.goto(server_url + url)
    page.wait_for_load_state("networkidle")
    assert page.locator(f"#point-{KEY}").count() == 1
    assert_nothing_ran(page, url)
    page.get_by_label("one redline").check()  # the form swaps #comparison by HTMX
    page.wait_for_selector(".comparison--inline")
    page.wait_for_load_state("networkidle")
    for summary in page.locator(".compare-row__notes summary").all()[:3]:
        summary.click()
    assert_nothing_ran(page, url + " after the HTMX swap")


@pytest.mark.parametrize("csp", ["guarded", "unguarded"])
def test_the_admin_with_the_sample_opens_no_dialog(request, server_url, hostile_data, csp):
    page = request.getfixturevalue(csp)
    admin_login(page, server_url, hostile_data, PASSWORD)
    for model in ("revision", "source", "clause", "point", "stance", "annotation"):
        url = f"/admin/peaceplans/{model}/?q=probe" if model in ("point", "clause") else f"/admin/peaceplans/{model}/"
        page.goto(server_url + url)
        page.wait_for_load_state("networkidle")
        assert_nothing_ran(page, url)
    page.goto(server_url + "/admin/peaceplans/revision/?q=" + SLUG)
    page.locator("#result_list a").first.click()  # the revision's change page, its clauses inline
    page.wait_for_load_state("networkidle")
    assert_nothing_ran(page, "revision change page")
    page.goto(server_url + "/admin/peaceplans/annotation/add/")
    page.wait_for_selector("#annotation-preview >> text=Nothing yet.")  # the load-time request
    page.fill("#id_body", "**bold** marker\n\n" + "\n\n".join(p.text for p in SAMPLE))
    page.wait_for_selector("#annotation-preview strong")
    preview = page.locator("#annotation-preview")
    assert preview.locator("script, img, svg, iframe, style, object, embed, form, input, button").count() == 0
    assert_nothing_ran(page, "admin preview")


def test_the_sample_covers_every_category():
    assert len(SAMPLE) >= 30
    assert {p.category for p in SAMPLE} >= hostile.categories() - {"nul"}


def test_the_check_fails_when_escaping_breaks(unguarded, guarded, server_url):
    """
    The same checks on a page where a payload is written in unescaped (as a template with |safe
    would): with the CSP bypassed it opens a dialog, under the CSP it is a console error and a
    violation. So a payload that got through the templates could not pass unseen.
    """
    payload = "<img src=x onerror=alert(1)>"
    for page in (unguarded, guarded):
        page.goto(server_url + "/sources/")
        page.evaluate("html => document.body.insertAdjacentHTML('beforeend', html)", payload)
        page.wait_for_timeout(300)
        with pytest.raises(AssertionError):
            assert_nothing_ran(page, "broken escaping")
    assert unguarded.dialogs == ["1"]
