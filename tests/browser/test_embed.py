"""
Embeds in a real browser: a plain HTML page served from another port on 127.0.0.1 (another
origin, as a newspaper's site would be) frames the point card; the same page framing an
ordinary page is refused; "Copy link" copies the permalink and says so.
"""

import functools
import http.server
import threading

import pytest

pytestmark = pytest.mark.browser

PLAN = "russia-ukraine-2025"
EMBED = f"/embed/plans/{PLAN}/points/6/"
POINT = f"/plans/{PLAN}/points/6/"


@pytest.fixture(scope="module")
def article_site(tmp_path_factory):
    """A static 'newspaper' on its own loopback port: http.server in a thread, stopped at the end."""
    root = tmp_path_factory.mktemp("article")
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def article(article_site, name: str, src: str) -> str:
    """Write an article page that frames `src` with the snippet the site offers; returns its URL."""
    root, url = article_site
    (root / name).write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Our story</title></head><body>'
        "<h1>What the Europeans changed</h1><p>The army cap went up.</p>"
        f'<iframe src="{src}" title="Point 6" width="100%" height="640"></iframe>'
        "</body></html>"
    )
    return f"{url}/{name}"


def child_frame(page):
    frames = [frame for frame in page.frames if frame != page.main_frame]
    assert len(frames) == 1
    return frames[0]


def test_another_site_can_frame_the_point_card(page, server_url, article_site):
    url = article(article_site, "embed.html", server_url + EMBED)
    assert not url.startswith(server_url)
    page.goto(url)
    frame = page.frame_locator("iframe")
    frame.locator("h1").wait_for()
    assert "Army cap" in frame.locator("h1").inner_text()
    assert "800,000" in frame.locator(".wording").inner_text()
    assert frame.locator(".stance").count() == 4
    back = frame.locator(".embed-footer a[target=_top]").first
    assert back.get_attribute("href") == server_url + POINT
    inner = child_frame(page)
    assert inner.url == server_url + EMBED
    assert inner.evaluate("window.__cspViolations") == []
    assert inner.evaluate("document.cookie") == ""
    assert inner.evaluate("document.scripts.length") == 0


def test_the_link_back_opens_the_full_page_in_the_top_window(page, server_url, article_site):
    page.goto(article(article_site, "back.html", server_url + EMBED))
    page.frame_locator("iframe").locator(".embed-footer a[target=_top]").first.click()
    page.wait_for_url(server_url + POINT)
    assert "Where each party stands" in page.inner_text("main")


def test_another_site_cannot_frame_an_ordinary_page(page, server_url, article_site):
    refusals = []
    page.on("console", lambda message: refusals.append(message.text))
    page.goto(article(article_site, "refused.html", server_url + POINT))
    page.wait_for_timeout(500)
    inner = child_frame(page)
    assert inner.url != server_url + POINT  # Chromium shows its error page instead
    assert any("frame-ancestors 'none'" in text for text in refusals), refusals
    assert "Army cap" not in page.frame_locator("iframe").locator("body").inner_text()


def test_copy_link_copies_the_permalink_and_announces_it(page, server_url):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server_url)
    page.goto(server_url + f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal")
    page.click("a.copy-link")
    status = page.locator(".share-tools [role=status]")
    status.filter(has_text="Link copied").wait_for()
    expected = server_url + f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal&view=side&changes=all"
    assert page.evaluate("navigator.clipboard.readText()") == expected
    assert page.url.endswith("b=e3-counter-proposal")  # it copied instead of navigating
    assert page.evaluate("window.__cspViolations") == []


def test_copy_link_copies_the_address_after_an_htmx_swap(page, server_url):
    """On the point page htmx changes the state in place: the copied link is the address bar's."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server_url)
    page.goto(server_url + POINT)
    page.select_option("#against", "us-28-point-draft")
    page.wait_for_url("**against=us-28-point-draft")
    page.click("a.copy-link")
    page.locator(".share-tools [role=status]").filter(has_text="Link copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == server_url + POINT + "?against=us-28-point-draft"


def test_copy_citation_and_embed_code(page, server_url):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server_url)
    page.goto(server_url + POINT)
    page.click("button[data-copy-from=cite-text]")
    page.locator(".cite-block [role=status]").filter(has_text="Citation copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("“Army cap” (point 6).") and server_url + POINT in copied
    page.click("#embed-summary")
    page.click("button[data-copy-from=embed-code]")
    page.locator(".embed-snippet [role=status]").filter(has_text="Embed code copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()").startswith(f'<iframe src="{server_url}{EMBED}"')
    assert page.evaluate("window.__cspViolations") == []


def test_without_clipboard_api_the_citation_is_selected_or_copied(browser, server_url):
    """Where the Clipboard API is missing, copy.js falls back and still tells the reader what happened."""
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    page.goto(server_url + POINT)
    page.click("button[data-copy-from=cite-text]")
    status = page.locator(".cite-block [role=status]")
    status.filter(has_text="copied").or_(status.filter(has_text="selected")).wait_for()
    context.close()


def test_without_javascript_copy_link_is_a_link_and_copy_buttons_are_hidden(browser, server_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server_url + POINT)
    assert not page.is_visible("button[data-copy-from=cite-text]")
    page.click("a.copy-link")
    page.wait_for_url(server_url + POINT)
    assert page.is_visible("#cite-text")
    context.close()
