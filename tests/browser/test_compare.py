"""The comparison in a real browser: HTMX swaps with a permalink, Back and Forward, and no JavaScript at all."""

import re

import pytest

pytestmark = pytest.mark.browser

PLAN = "russia-ukraine-2025"
COMPARE = f"/plans/{PLAN}/compare/"


def test_changing_a_picker_swaps_only_the_comparison_and_updates_the_url(page, server_url):
    page.goto(server_url + COMPARE + "?a=us-28-point-draft&b=e3-counter-proposal")
    page.evaluate("window.__marker = 'kept'")
    page.select_option("#pick-b", "europe-24-point-telegraph")
    page.wait_for_url(re.compile(r"b=europe-24-point-telegraph"))
    page.wait_for_selector("#point-6 .renumbered")
    assert page.evaluate("window.__marker") == "kept", "the change reloaded the whole page"
    assert "B: no. 11" in page.inner_text("#point-6")
    assert page.evaluate("window.__cspViolations") == []


def test_back_and_forward_restore_the_state(page, server_url):
    page.goto(server_url + COMPARE + "?a=us-28-point-draft&b=e3-counter-proposal")
    page.check("input[name=changes][value=only]")
    page.wait_for_url(re.compile(r"changes=only"))
    page.check("input[name=view][value=inline]")
    page.wait_for_url(re.compile(r"view=inline"))
    page.wait_for_selector(".compare-row__inline")
    page.go_back()
    page.wait_for_url(re.compile(r"view=side"))
    page.wait_for_selector(".compare-row__sides")
    assert page.is_checked("input[name=view][value=side]")
    page.go_forward()
    page.wait_for_url(re.compile(r"view=inline"))
    page.wait_for_selector(".compare-row__inline")


def test_the_comparison_works_with_javascript_off(browser, server_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server_url + COMPARE)
    page.select_option("#pick-b", "us-ukraine-geneva-framework")
    page.check("input[name=changes][value=only]")
    page.click("form.compare-form button[type=submit]")
    page.wait_for_url(re.compile(r"b=us-ukraine-geneva-framework.*changes=only"))
    assert "unnumbered" in page.inner_text("#point-6")
    context.close()


def test_point_page_compare_against_swaps_the_wording(page, server_url):
    page.goto(server_url + f"/plans/{PLAN}/points/6/")
    page.evaluate("window.__marker = 'kept'")
    page.select_option("#against", "us-28-point-draft")
    page.wait_for_url(re.compile(r"against=us-28-point-draft"))
    page.wait_for_selector("#clause-e3-counter-proposal del")
    assert page.evaluate("window.__marker") == "kept"
    assert "800,000" in page.inner_text("#clause-e3-counter-proposal ins >> nth=-1") or "800,000" in page.inner_text(
        "#clause-e3-counter-proposal"
    )
    assert page.evaluate("window.__cspViolations") == []


def test_a_row_permalink_scrolls_to_and_highlights_the_row(page, server_url):
    page.goto(server_url + COMPARE + "?a=us-28-point-draft&b=e3-counter-proposal#point-21")
    assert page.evaluate("document.querySelector(':target').id") == "point-21"


def accessible_text(page, selector: str) -> str:
    """
    The text Chromium's accessibility tree holds under the element, in order: what a screen
    reader reads, CSS generated content included (read through the DevTools protocol).
    """
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    node_id = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    backend_id = cdp.send("DOM.describeNode", {"nodeId": node_id})["node"]["backendNodeId"]
    nodes = {node["nodeId"]: node for node in cdp.send("Accessibility.getFullAXTree")["nodes"]}
    start = next(node for node in nodes.values() if node.get("backendDOMNodeId") == backend_id)
    texts = []

    def walk(node):
        if node.get("role", {}).get("value") == "StaticText" and not node.get("ignored"):
            texts.append(node.get("name", {}).get("value", ""))
        for child in node.get("childIds", []):
            if child in nodes:
                walk(nodes[child])

    walk(start)
    cdp.detach()
    return " ".join(" ".join(texts).split())


def test_screen_readers_hear_what_was_removed_and_added_in_the_one_redline_view(page, server_url):
    """VoiceOver and TalkBack do not announce <del>/<ins>: the words do (issue 21, item 10)."""
    page.goto(server_url + COMPARE + "?a=us-28-point-draft&b=e3-counter-proposal&view=inline")
    heard = accessible_text(page, "#point-6 .compare-row__inline")
    assert re.search(r"\[removed: [^\]]*600,000[^\]]*\]", heard), heard
    assert re.search(r"\[added: [^\]]*800,000[^\]]*\]", heard), heard
    # Seen, nothing changed: the words are not on screen and not in the copied text.
    assert "removed:" not in page.inner_text("#point-6") and "added:" not in page.inner_text("#point-6")
    box = page.evaluate(
        "(() => { const s = getComputedStyle(document.querySelector('#point-6 del'), '::before');"
        " return [s.content, s.width, s.height, s.position]; })()"
    )
    assert box == ['" [removed: "', "1px", "1px", "absolute"], box


def test_the_legend_is_not_announced_as_a_change(page, server_url):
    page.goto(server_url + COMPARE + "?a=us-28-point-draft&b=e3-counter-proposal&view=inline")
    heard = accessible_text(page, ".diff-legend")
    assert "struck through = wording removed" in heard and "[removed:" not in heard, heard


def test_each_row_says_its_status_and_the_embed_announces_changes_too(page, server_url):
    page.goto(server_url + COMPARE + "?a=us-28-point-draft&b=e3-counter-proposal&view=inline")
    assert "changed" in accessible_text(page, "#point-6").lower()
    page.goto(server_url + f"/embed/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal&view=inline")
    heard = accessible_text(page, "body")
    assert re.search(r"\[removed: [^\]]*600,000[^\]]*\]", heard) and re.search(r"\[added: [^\]]*800,000", heard)


# Issue 21, item 3: a comparison you can focus, with Back and Forward restoring rows and form.

SECURITY_TOPICS = {"nato", "military-limits", "territory"}


def test_a_reporter_reaches_us_draft_against_e3_on_nato_army_and_territory_in_three_actions(page, server_url):
    page.goto(server_url + "/")
    actions = 0
    page.click("nav.site-nav a:text('Compare')")  # 1
    actions += 1
    page.wait_for_selector("#pick-topics")
    assert page.eval_on_selector("#pick-a", "s => s.value") == "us-28-point-draft"
    assert page.eval_on_selector("#pick-b", "s => s.value") == "e3-counter-proposal"
    page.select_option("#pick-topics", ["nato", "military-limits", "territory"])  # 2
    actions += 1
    page.wait_for_url(re.compile(r"topic=nato&topic=military-limits&topic=territory"))
    page.wait_for_selector(".topic-chips")
    assert actions <= 3
    shown = page.eval_on_selector_all(".compare-rows li.compare-row", "els => els.map(e => e.id.slice(6))")
    assert "6" in shown and "1" not in shown and len(shown) >= 5
    topics = page.evaluate(
        "fetch('/api/v1/plans/russia-ukraine-2025/points/?per_page=200').then(r => r.json())"
        ".then(d => Object.fromEntries(d.results.map(p => [p.key, p.topic])))"
    )
    assert {topics[key] for key in shown} == SECURITY_TOPICS, {key: topics[key] for key in shown}
    six = page.locator("#point-6")
    assert any("600,000" in t for t in six.locator(".side--a del").all_inner_texts())
    assert any("800,000" in t for t in six.locator(".side--b ins").all_inner_texts())
    assert page.is_visible(".compare-bar") and "US draft" in page.inner_text(".compare-bar")
    assert page.evaluate("window.__cspViolations") == []


def test_back_and_forward_restore_the_rows_and_the_pickers(page, server_url):
    page.goto(server_url + COMPARE + "?a=us-28-point-draft&b=e3-counter-proposal")
    page.evaluate("window.__marker = 'kept'")
    page.select_option("#pick-b", "us-ukraine-geneva-framework")
    page.wait_for_url(re.compile(r"b=us-ukraine-geneva-framework"))
    page.wait_for_function("document.querySelector('.compare-bar').textContent.includes('Geneva')")
    assert page.evaluate("window.__marker") == "kept", "the change reloaded the whole page"
    assert "unnumbered" in page.inner_text("#point-6")

    page.go_back()
    page.wait_for_url(re.compile(r"b=e3-counter-proposal"))
    page.wait_for_function("document.querySelector('.compare-bar').textContent.includes('E3')")
    assert page.eval_on_selector("#pick-b", "s => s.value") == "e3-counter-proposal"
    assert "B: no. 6" in page.inner_text("#point-6") and "unnumbered" not in page.inner_text("#point-6")

    page.go_forward()
    page.wait_for_url(re.compile(r"b=us-ukraine-geneva-framework"))
    page.wait_for_function("document.querySelector('.compare-bar').textContent.includes('Geneva')")
    assert page.eval_on_selector("#pick-b", "s => s.value") == "us-ukraine-geneva-framework"
    assert "unnumbered" in page.inner_text("#point-6")


@pytest.mark.parametrize("width", [360, 1280])
def test_nothing_scrolls_sideways_and_rows_stack_on_phones(browser, server_url, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(server_url + COMPARE + "?a=us-28-point-draft&b=e3-counter-proposal")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    a, b = (page.locator(f"#point-6 .side--{side}").bounding_box() for side in "ab")
    if width == 360:
        assert b["y"] >= a["y"] + a["height"] - 1  # A above B
        assert not page.locator(".compare-index__list").is_visible()  # the index waits, closed
    else:
        assert abs(a["y"] - b["y"]) < 2 and b["x"] > a["x"]  # side by side
        assert page.locator(".compare-index__list").is_visible()  # beside the rows
    context.close()
