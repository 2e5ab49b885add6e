"""
The Content-Security-Policy in Chromium: not one `securitypolicyviolation` across the public
pages, their HTMX swaps, the embeds and the admin's forms (signed in through the login form),
and no console complaint about the Permissions-Policy.

The listener is added with page.add_init_script: Playwright injects it through the DevTools
protocol, outside the page's CSP, so it runs where an inline <script> would be refused
(test_the_listener_sees_a_refused_inline_script proves it records a real violation).
"""

import pytest

from .conftest import create_editor, manage
from .test_quality import PAGES

pytestmark = pytest.mark.browser

PLAN = "russia-ukraine-2025"
PASSWORD = "policy-watch-password-2025"

LISTENER = """
window.__violations = [];
window.__swaps = 0;
document.addEventListener('securitypolicyviolation', e => window.__violations.push(
  [e.effectiveDirective, e.blockedURI, e.sourceFile, e.lineNumber, e.sample].join(' | ')));
document.addEventListener('htmx:afterSettle', () => { window.__swaps += 1; });
"""


class Watched:
    """A page whose CSP violations and policy-related console messages are collected over several addresses."""

    def __init__(self, page, server_url):
        self.page, self.server_url = page, server_url
        self.violations: dict[str, list[str]] = {}
        self.console: list[str] = []
        page.on("console", self.on_console)

    def on_console(self, message):
        text = message.text
        if "Permissions-Policy" in text or "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.console.append(f"{self.page.url}: {text}")

    def collect(self, label: str = "") -> None:
        """Keep what this document recorded (a navigation starts a new list)."""
        found = self.page.evaluate("window.__violations || []")
        if found:
            self.violations.setdefault(label or self.page.url, []).extend(found)

    def goto(self, path: str) -> None:
        self.collect()
        self.page.goto(self.server_url + path)

    def swap(self, action) -> None:
        """Do what triggers an HTMX request and wait for its swap to settle."""
        before = self.page.evaluate("window.__swaps")
        with self.page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as response:
            action()
        assert response.value.status in (200, 400, 404), response.value.url
        # a function, not an expression string: Playwright polls a string with eval(), which the CSP refuses
        self.page.wait_for_function("before => window.__swaps > before", arg=before)

    def finish(self) -> None:
        self.collect()
        assert self.violations == {}
        assert self.console == []


@pytest.fixture
def watched(browser, server_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(LISTENER)
    yield Watched(page, server_url)
    context.close()


def test_the_listener_sees_a_refused_inline_script(watched):
    """The check can fail: an inline script added to a page is refused, and the refusal recorded."""
    watched.goto(f"/plans/{PLAN}/")
    watched.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        " document.body.append(s); const d = document.createElement('div'); d.setAttribute('style', 'color: red');"
        " document.body.append(d); }"
    )
    watched.page.wait_for_function("() => window.__violations.length >= 2")
    assert watched.page.evaluate("window.__ran") is None
    directives = {entry.split(" | ")[0] for entry in watched.page.evaluate("window.__violations")}
    assert {"script-src-elem", "style-src-attr"} <= directives


def test_public_pages_and_embeds_break_no_rule(watched):
    for path in PAGES:
        watched.goto(path)
        watched.page.wait_for_load_state("load")
    watched.finish()


def test_htmx_swaps_break_no_rule(watched):
    page = watched.page
    # Compare: change either side
    watched.goto(f"/plans/{PLAN}/compare/")
    watched.swap(lambda: page.select_option("#pick-b", "europe-24-point-telegraph"))
    watched.swap(lambda: page.check("input[name=view][value=inline]"))
    assert "b=europe-24-point-telegraph" in page.url
    # Overview: sort, then page
    watched.goto(f"/plans/{PLAN}/")
    watched.swap(lambda: page.locator("#matrix thead th a").nth(1).click())
    watched.swap(lambda: page.locator("#matrix .pagination a[rel=next]").click())
    assert "page=2" in page.url
    # Point: the wording "against" another text
    watched.goto(f"/plans/{PLAN}/points/6/")
    watched.swap(lambda: page.select_option("#against", "us-28-point-draft"))
    assert "against=us-28-point-draft" in page.url
    # Timeline: one party
    watched.goto(f"/plans/{PLAN}/timeline/")
    watched.swap(lambda: page.select_option("#timeline-filters select[name=party]", "russia"))
    assert "party=russia" in page.url
    # Search as you type
    watched.goto("/search/")
    watched.swap(lambda: page.fill("#search-q", "army"))
    assert page.locator("#results mark").count() > 0
    watched.finish()


@pytest.fixture(scope="module")
def editor(server_env, server_url):
    """A superuser, so every admin page opens; made like any account, then raised."""
    name = create_editor(server_env, "policywatch", PASSWORD)
    code = (
        f"from django.contrib.auth.models import User; User.objects.filter(username='{name}').update(is_superuser=True)"
    )
    manage(server_env, "shell", "-c", code)
    return name


def test_the_admin_breaks_no_rule(watched, editor):
    page = watched.page
    watched.goto("/admin/login/")
    page.fill("#id_username", editor)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(watched.server_url + "/admin/")
    for path in (
        "/admin/peaceplans/point/?topic__id__exact=1",
        "/admin/peaceplans/clause/?revision__plan__id__exact=1&q=army",
        "/admin/peaceplans/point/1/change/",
        "/admin/peaceplans/point/1/history/",
        "/admin/peaceplans/revision/add/",
        "/admin/auth/user/",
    ):
        watched.goto(path)
        assert page.locator("#content").count() == 1, path
    # The note form's live preview is the admin's HTMX swap
    watched.goto("/admin/peaceplans/annotation/add/")
    watched.swap(lambda: page.fill("#id_body", "**Bold** and a [link](https://example.org)"))
    assert page.locator("#annotation-preview strong").inner_text() == "Bold"
    # Submit a form: save a party unchanged, then open its history
    watched.goto("/admin/peaceplans/party/")
    page.locator("#result_list tbody a").first.click()
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    watched.collect("party saved")
    page.locator("#result_list tbody a").first.click()
    page.click("a.historylink")
    page.wait_for_load_state("load")
    # Sign out through the admin's own form
    page.click("#logout-form button")
    page.wait_for_load_state("load")
    watched.finish()
