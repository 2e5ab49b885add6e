"""
Embeds in a real browser: a plain HTML page served from another port on 127.0.0.1 (another
origin, as a newspaper's site would be) frames the point card; with the snippet the site offers
(the iframe and our host script) or under a pym.js-style parent, the frame grows to the embed's
height and never scrolls inside; the same page framing an ordinary page is refused; "Copy link"
copies the permalink and says so.
"""

import functools
import html
import http.server
import json
import re
import threading
import time
import urllib.parse
import urllib.request

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
    [script] = inner.evaluate("[...document.scripts].map(s => new URL(s.src).pathname)")
    assert re.fullmatch(r"/static/peaceplans/embed\.[0-9a-f]{12}\.js", script)  # whitenoise's hashed name


# Growing to the content: the snippet's host script, and a pym.js-style parent


COMPARE_EMBED = f"/embed/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal"
PYM_MESSAGE = re.compile(r"^pymxPYMx([A-Za-z0-9_-]*)xPYMxheightxPYMx(\d+)$")


def snippet_for(server_url: str, page_path: str) -> str:
    """The embed code a journalist copies from one of our pages (its "Embed" box: the iframe and the host script)."""
    with urllib.request.urlopen(server_url + page_path, timeout=10) as response:
        page = response.read().decode()
    return html.unescape(page.split('id="embed-code"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0])


def oembed_html(server_url: str, page_path: str) -> str:
    """The embed HTML oEmbed gives a CMS for one of our pages."""
    query = urllib.parse.urlencode({"url": server_url + page_path})
    with urllib.request.urlopen(f"{server_url}/oembed/?{query}", timeout=10) as response:
        return json.load(response)["html"]


def write_article(article_site, name: str, body: str) -> str:
    root, url = article_site
    (root / name).write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Our story</title></head><body>'
        f"<h1>What the Europeans changed</h1><p>The army cap went up.</p>{body}<p>The end of the story.</p>"
        "</body></html>"
    )
    return f"{url}/{name}"


def frame_size(page) -> dict:
    """The iframe's height in the article, and its document's heights inside."""
    inner = child_frame(page)
    sizes = inner.evaluate(
        "({scroll: document.scrollingElement.scrollHeight, client: document.scrollingElement.clientHeight,"
        " content: document.documentElement.getBoundingClientRect().height})"
    )
    sizes["iframe"] = page.evaluate("document.querySelector('iframe').clientHeight")  # inside its border
    return sizes


def settled_size(page, *, other_than: float | None = None, timeout: float = 10) -> dict:
    """Wait until the frame's height matches its content twice in a row (and differs from `other_than`)."""
    page.frame_locator("iframe").locator("h1").wait_for()  # the embed, not the frame's first about:blank
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        sizes = frame_size(page)
        fits = abs(sizes["iframe"] - sizes["scroll"]) <= 2 and sizes["iframe"] != other_than
        if fits and previous == sizes:
            return sizes
        if time.monotonic() > deadline:
            raise AssertionError(f"the frame did not settle at its content's height: {sizes}")
        previous = sizes if fits else None
        page.wait_for_timeout(150)


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize(
    "embedded",
    [POINT, f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal"],
    ids=["point", "compare"],
)
def test_the_snippet_grows_the_frame_to_its_content_on_another_origin(
    browser, server_url, article_site, width, embedded
):
    """The whole US -> E3 comparison is several thousand pixels tall at 360 px: far beyond the snippet's 720."""
    snippet = snippet_for(server_url, embedded)
    assert "data-peaceplans-embed" in snippet and f'src="{server_url}/static/peaceplans/embed-host.js"' in snippet
    url = write_article(article_site, f"snippet-{width}-{len(embedded)}.html", snippet)
    assert urllib.parse.urlsplit(url).port != urllib.parse.urlsplit(server_url).port  # another origin
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective));"
    )
    page.goto(url)
    initial = int(html.unescape(snippet).split('height="')[1].split('"')[0])
    sizes = settled_size(page, other_than=initial)
    assert sizes["scroll"] <= sizes["client"]  # no scroll bar inside the frame
    assert abs(sizes["iframe"] - sizes["content"]) <= 2
    if "compare" in embedded:
        assert sizes["iframe"] > 2 * initial
    assert child_frame(page).evaluate("window.__cspViolations") == []
    context.close()


def test_the_oembed_html_grows_the_frame_too(page, server_url, article_site):
    snippet = oembed_html(server_url, f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal")
    assert "data-peaceplans-embed" in snippet and "/static/peaceplans/embed-host.js" in snippet
    page.goto(write_article(article_site, "oembed.html", snippet))
    sizes = settled_size(page, other_than=720)
    assert sizes["iframe"] > 1440 and sizes["scroll"] <= sizes["client"]


def test_opening_the_sources_grows_the_frame_and_closing_shrinks_it(page, server_url, article_site):
    snippet = oembed_html(server_url, f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal#point-6")
    page.goto(write_article(article_site, "sources.html", snippet))
    closed = settled_size(page, other_than=720)
    frame = page.frame_locator("iframe")
    summary = frame.locator(".embed-sources summary")
    assert re.fullmatch(r"\d+ sources", summary.inner_text())
    assert not frame.locator(".embed-sources li").first.is_visible()  # closed by default
    summary.click()
    opened = settled_size(page, other_than=closed["iframe"])
    assert opened["iframe"] > closed["iframe"] and opened["scroll"] <= opened["client"]
    summary.click()
    again = settled_size(page, other_than=opened["iframe"])
    assert abs(again["iframe"] - closed["iframe"]) <= 2


def test_the_frame_follows_the_article_when_it_narrows(page, server_url, article_site):
    snippet = snippet_for(server_url, POINT)
    page.goto(write_article(article_site, "narrow.html", snippet))
    wide = settled_size(page, other_than=640)
    page.set_viewport_size({"width": 360, "height": 900})
    narrow = settled_size(page, other_than=wide["iframe"])
    assert narrow["iframe"] > wide["iframe"] and narrow["scroll"] <= narrow["client"]


# A parent as pym.js makes it: it creates the iframe with childId and the other parameters in its
# address, and believes only "pym" xPYMx <its id> xPYMx height xPYMx <pixels>. Written here for the
# test (another site's page, so an inline script is fine); it records every message it gets.
PYM_PARENT = """
<div id="graphic"></div>
<script>
window.__messages = [];
var id = %(id)s;
var src = %(src)s + "?" + new URLSearchParams({initialWidth: "640", childId: id, parentTitle: document.title,
  parentUrl: location.href}).toString();
var frame = document.createElement("iframe");
frame.src = src; frame.title = "Embed"; frame.width = "100%%"; frame.setAttribute("scrolling", "no");
frame.setAttribute("height", "150");
document.getElementById("graphic").appendChild(frame);
var mine = new RegExp("^pymxPYMx" + id + "xPYMx(\\\\S+)xPYMx(.*)$");
window.addEventListener("message", function (event) {
  if (typeof event.data !== "string") return;
  window.__messages.push(event.data);
  var match = event.data.match(mine);
  if (match && match[1] === "height") frame.setAttribute("height", parseInt(match[2], 10) + "px");
});
</script>
"""


def pym_article(article_site, server_url: str, name: str, child_id: str) -> str:
    return write_article(
        article_site, name, PYM_PARENT % {"id": json.dumps(child_id), "src": json.dumps(server_url + EMBED)}
    )


def test_a_pym_parent_gets_the_height_in_pyms_format(page, server_url, article_site):
    page.goto(pym_article(article_site, server_url, "pym.html", "graphic"))
    sizes = settled_size(page, other_than=150)
    assert sizes["scroll"] <= sizes["client"]
    messages = page.evaluate("window.__messages")
    assert messages and all(PYM_MESSAGE.match(message) for message in messages), messages
    assert {PYM_MESSAGE.match(message)[1] for message in messages} == {"graphic"}
    assert int(PYM_MESSAGE.match(messages[-1])[2]) == round(sizes["iframe"])
    assert "childId=graphic" in child_frame(page).url  # pym's parameters did not upset the embed
    assert child_frame(page).locator("h1").inner_text().endswith("Army cap")


def test_a_child_id_that_is_not_a_short_token_is_never_echoed(page, server_url, article_site):
    hostile = 'x"><img src=x onerror=alert(1)>xPYMxwidth'
    page.goto(pym_article(article_site, server_url, "pym-hostile.html", hostile))
    page.frame_locator("iframe").locator("h1").wait_for()
    page.wait_for_function("window.__messages.length > 0")
    messages = page.evaluate("window.__messages")
    assert all(PYM_MESSAGE.match(message) for message in messages), messages
    assert {PYM_MESSAGE.match(message)[1] for message in messages} == {""}  # ignored: an empty id
    assert page.evaluate("document.querySelector('iframe').getAttribute('height')") == "150"  # not for that parent


def test_the_host_script_ignores_heights_from_another_frame(page, server_url, article_site):
    """A frame of the article's own origin posting a pym height for our frame changes nothing."""
    snippet = snippet_for(server_url, POINT)
    root, _ = article_site
    (root / "forger.html").write_text(
        "<!doctype html><title>Forger</title><script>"
        "setInterval(function(){ parent.postMessage('pymxPYMxxPYMxheightxPYMx5', '*'); }, 50);</script>"
    )
    page.goto(
        write_article(article_site, "forged.html", snippet + '<iframe src="forger.html" title="Forger"></iframe>')
    )
    ours = page.locator("iframe[data-peaceplans-embed]")
    page.wait_for_timeout(1500)
    assert ours.bounding_box()["height"] > 300


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
