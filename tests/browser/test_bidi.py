"""
Bidi controls as Chromium lays them out (issue 19, item 8): "RTL\u202egnp.exe" shows as "RTLexe.png"
in a heading Django escapes as usual, and as "RTLgnp.exe" through the `bidi` filter the pages use;
a Hebrew title isolated by it keeps the year after it where it was typed. The markup is the real
templates' (rendered here, without a server or the database: a row stored before migration 0015 or
written by a raw UPDATE, which only the display layer then stands between and the reader). Well
under a second: one page, no server.
"""

import pytest
from django.template import Context, Template

pytestmark = pytest.mark.browser

SPOOF = "RTL\u202egnp.exe"
HEBREW = "שלום"

# The characters of an element's text as the screen shows them, left to right (one line each).
VISUAL_ORDER = """
element => {
  const chars = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      if (box.width > 0 && node.data[i].trim()) chars.push([box.left, node.data[i]]);
    }
  }
  return chars.sort((a, b) => a[0] - b[0]).map(c => c[1]).join('');
}
"""


def rendered(source: str, **context) -> str:
    return Template("{% load peaceplans %}" + source).render(Context(context))


def test_the_bidi_filter_shows_text_in_the_order_it_was_typed(browser):
    html = rendered(
        '<h1 id="plain">{{ title }}</h1>'  # Django's escaping alone: the override stays
        '<h1 id="filtered"><span>6</span> {{ title|bidi }}</h1>'  # point_detail.html's heading
        '<p id="raw">Title: {{ hebrew }} 2025</p>'
        '<p id="isolated">Title: {{ hebrew|bidi }} 2025</p>',
        title=SPOOF,
        hebrew=HEBREW,
    )
    context = browser.new_context()
    page = context.new_page()
    page.set_content(f'<!doctype html><html lang="en"><meta charset="utf-8"><body>{html}</body></html>')
    shown = {name: page.locator(f"#{name}").evaluate(VISUAL_ORDER) for name in ("plain", "filtered", "raw", "isolated")}
    context.close()
    assert shown["plain"] == "RTLexe.png", shown  # the spoof, as the issue found it
    assert shown["filtered"] == "6RTLgnp.exe", shown
    # Hebrew reads right to left in both; unisolated, the year after it jumps to its left.
    assert shown["raw"] == "Title:2025" + HEBREW[::-1], shown
    assert shown["isolated"] == "Title:" + HEBREW[::-1] + "2025", shown
