"""
The compare page in parts (issue 18, item 2; peaceplans/web/parts.py): the first 30 rows with the
page, each next part when its "Next rows" link scrolls into view (htmx) or is followed (no
JavaScript); the rows B's text does not cover in a closed section whose parts load when it is
opened. The union of all parts is the whole comparison in order; the index, the counts, the CSV and
the embed stay complete; anchors to rows past the first part resolve.
"""

import csv
import gzip
import html as html_lib
import io
import re

import pytest
from django.db import transaction

from peaceplans.compare.comparison import compare_revisions
from peaceplans.models import Plan
from peaceplans.synthetic import Spec, synthetic_generate
from peaceplans.web.parts import ROWS_PER_PART
from tests.parts import get_html, htmx_parts, next_links, through_last

pytestmark = pytest.mark.django_db

DEMO = "russia-ukraine-2025"
# Big enough for more than two parts of rows both texts speak to, small enough to generate in seconds.
GENERATED = Spec(plans=1, revisions=3, points=80, stances=1, events=10, seed=18)
ROW_ID = re.compile(r'<li class="compare-row [^"]*" id="(point-[^"]+)"')


@pytest.fixture(scope="module")
def big(django_db_setup, django_db_blocker):
    """A generated plan, in a transaction held for this module and rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        synthetic_generate(spec=GENERATED)
        yield Plan.objects.get(slug="synthetic-01")
        transaction.set_rollback(True)


def longest_pair(plan: Plan) -> tuple[str, str, int]:
    """The plan's pair of texts whose comparison has the most rows (the covered ones, then all)."""
    revisions = list(plan.revisions.public().in_order())
    best = None
    for a in revisions:
        for b in revisions:
            if a != b:
                rows = compare_revisions(plan, a, b)
                key = (len(rows.covered), len(rows.rows))
                if best is None or key > best[0]:
                    best = (key, a.slug, b.slug)
    assert best is not None
    return best[1], best[2], best[0][0]


def url_of(plan: Plan, a: str, b: str, query: str = "") -> str:
    return f"/plans/{plan.slug}/compare/?a={a}&b={b}{query}"


def expected_ids(plan: Plan, a: str, b: str, **options) -> list[str]:
    """The whole comparison in the page's order: the rows both texts speak to, then those B's text does not cover."""
    comparison = compare_revisions(plan, *(plan.revisions.get(slug=s) for s in (a, b)), **options)
    return [f"point-{row.point.key}" for row in comparison.covered + comparison.uncovered]


def section(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


@pytest.fixture
def cases(big):
    """The demo's longest pair and the generated plan's: (plan, a, b)."""
    demo = Plan.objects.get(slug=DEMO)
    return [(demo, *longest_pair(demo)[:2]), (big, *longest_pair(big)[:2])]


def test_the_generated_plan_has_more_than_two_parts_of_rows(big):
    assert longest_pair(big)[2] > 2 * ROWS_PER_PART


@pytest.mark.parametrize("query", ["", "&view=inline", "&changes=only"])
@pytest.mark.usefixtures("page_cache_off")
def test_the_parts_htmx_appends_are_the_whole_comparison_in_order(client, cases, query):
    """The first part, then each part its link asks for (HX-Request): every row once, in the comparison's order."""
    for plan, a, b in cases:
        page, parts = htmx_parts(client, url_of(plan, a, b, query))
        shown = ROW_ID.findall(page) + [row for part in parts for row in ROW_ID.findall(part)]
        expected = expected_ids(plan, a, b, changes_only="only" in query)
        assert shown == expected, (plan.slug, a, b)
        assert len(ROW_ID.findall(page)) <= ROWS_PER_PART
        assert all(len(ROW_ID.findall(part)) <= ROWS_PER_PART for part in parts)
        assert len(parts) >= 1  # the demo's longest pair too has rows past its first part


@pytest.mark.usefixtures("page_cache_off")
def test_following_the_next_links_without_javascript_ends_with_the_whole_comparison(client, cases):
    for plan, a, b in cases:
        assert ROW_ID.findall(through_last(client, url_of(plan, a, b))) == expected_ids(plan, a, b)


def test_the_next_link_is_a_plain_address_of_the_page_through_the_next_part(client, big):
    """Without JavaScript: rows 1-60, landing on row 31; its own link goes on to part 3. htmx asks the same address."""
    a, b, _ = longest_pair(big)
    url = url_of(big, a, b, "&changes=all")
    first = get_html(client, url)
    expected = expected_ids(big, a, b)
    (href, get), *_ = next_links(first)
    assert href == f"{get}#{expected[ROWS_PER_PART]}"
    assert get == f"/plans/{big.slug}/compare/?a={a}&b={b}&view=side&changes=all&part=2"
    link = re.search(r"<a [^>]*data-rows-next>.*?</a>", first, re.S).group(0)
    assert 'hx-trigger="revealed, click"' in link and 'hx-swap="outerHTML"' in link
    assert 'hx-target="closest .rows-next"' in link and "hx-push-url" not in link
    assert f'Next rows <span class="meta">(31–60 of {len(big_covered(big, a, b))})</span>' in link
    second = get_html(client, href.split("#")[0])
    assert ROW_ID.findall(second)[: 2 * ROWS_PER_PART] == expected[: 2 * ROWS_PER_PART]
    assert "<html" in second and 'id="compare-sources"' in second  # the whole page, with its frame
    assert next_links(second)[0][1].endswith("&part=3")


def big_covered(plan, a, b):
    return compare_revisions(plan, plan.revisions.get(slug=a), plan.revisions.get(slug=b)).covered


def test_a_part_asked_for_by_htmx_is_its_rows_and_the_next_link_alone(client, big):
    a, b, _ = longest_pair(big)
    part = get_html(client, url_of(big, a, b, "&part=2"), **{"HX-Request": "true"})
    assert part.lstrip().startswith('<li class="compare-row ')
    assert "<html" not in part and "compare-form" not in part and "compare-index" not in part
    assert ROW_ID.findall(part) == expected_ids(big, a, b)[ROWS_PER_PART : 2 * ROWS_PER_PART]
    assert part.rstrip().endswith("</li>") and part.count("data-rows-next") == 1


def test_filters_and_view_are_kept_in_the_next_links(client, big):
    a, b, _ = longest_pair(big)
    topics = sorted({row.point.topic.slug for row in big_covered(big, a, b) if row.point.topic})[:3]
    query = "&view=inline&changes=only" + "".join(f"&topic={slug}" for slug in topics)
    html = get_html(client, url_of(big, a, b, query))
    for href, get in next_links(html):
        assert "view=inline" in get and "changes=only" in get and href.startswith(get)
        assert all(f"topic={slug}" in get for slug in topics)


@pytest.mark.usefixtures("page_cache_off")
def test_the_index_lists_every_row_and_links_past_the_first_part_through_their_part(client, big):
    """Each entry of the first part is its anchor; further ones the address of the page through their part, with it."""
    a, b, _ = longest_pair(big)
    html = get_html(client, url_of(big, a, b))
    index = section(html, '<details class="compare-index">', "</details>")
    entries = [
        (html_lib.unescape(href), bool(loads))
        for href, loads in re.findall(r'<a href="([^"]+)"( data-rows-anchor)?>', index)
    ]
    covered = big_covered(big, a, b)
    assert f"Index: {len(covered)} points" in index
    assert entries[len(covered) :] == ([("#not-in-b", False)] if 'id="not-in-b"' in html else [])
    for n, (row, (link, loads)) in enumerate(zip(covered, entries, strict=False)):
        part = n // ROWS_PER_PART + 1
        if part == 1:
            assert (link, loads) == (f"#point-{row.point.key}", False)
        else:  # rows.js loads the parts up to it in place; without it, the address renders through the row
            assert link.endswith(f"&part={part}#point-{row.point.key}") and loads
    far = covered[-1].point.key
    far_link = entries[len(covered) - 1][0]
    # Without JavaScript the address renders through the row, which is then on the page: the anchor resolves.
    through = get_html(client, far_link.split("#")[0])
    assert f'id="point-{far}"' in through
    assert ROW_ID.findall(through)[: len(covered)] == [f"point-{row.point.key}" for row in covered]


def test_counts_and_summary_count_every_row_not_the_first_part(client, big):
    a, b, _ = longest_pair(big)
    comparison = compare_revisions(big, big.revisions.get(slug=a), big.revisions.get(slug=b))
    html = get_html(client, url_of(big, a, b))
    counts = section(html, 'class="counts"', "</ul>")
    for _, label, n in comparison.nonzero_count_items():
        assert f"<strong>{n}</strong> {html_lib.escape(label)}" in counts
    assert sum(int(n) for n in re.findall(r"<strong>(\d+)</strong>", counts)) == len(comparison.rows)
    if comparison.uncovered:
        assert f"Not in B's text: {len(comparison.uncovered)} point" in html


def test_the_csv_and_the_embed_are_not_paged(client, big):
    a, b, _ = longest_pair(big)
    expected = [row.point.key for row in big_covered(big, a, b)]
    response = client.get(f"/plans/{big.slug}/compare.csv?a={a}&b={b}&part=2")
    assert response.status_code == 200
    keys = [line["key"] for line in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))]
    assert keys[: len(expected)] == expected and len(keys) > 2 * ROWS_PER_PART
    embed = get_html(client, f"/embed/plans/{big.slug}/compare/?a={a}&b={b}&part=2")
    assert all(f'id="point-{key}"' in embed or f"#point-{key}" in embed for key in expected)


def test_the_closed_section_loads_its_rows_in_parts_of_its_own(client):
    """US draft -> Geneva: few rows both texts speak to, 40 that Geneva does not cover, in parts 2 and 3."""
    plan = Plan.objects.get(slug=DEMO)
    url = url_of(plan, "us-28-point-draft", "us-ukraine-geneva-framework")
    page = get_html(client, url)
    closed = section(page, '<details class="compare-uncovered" id="not-in-b">', "</details>")
    assert ROW_ID.findall(closed) == []
    (href, get), *_ = next_links(closed)
    assert get.endswith("&part=2") and "intersect once" in closed
    part = get_html(client, get, **{"HX-Request": "true"})
    expected = expected_ids(plan, "us-28-point-draft", "us-ukraine-geneva-framework")
    covered = len(ROW_ID.findall(page))
    assert ROW_ID.findall(part) == expected[covered : covered + ROWS_PER_PART]
    assert 'hx-trigger="intersect once, click"' in part  # its next link stays inside the section
    opened = get_html(client, href.split("#")[0])
    assert '<details class="compare-uncovered" id="not-in-b" open>' in opened


@pytest.mark.parametrize(
    "query,status,message",
    [
        ("&part=0", 400, "“part” must be a whole number"),
        ("&part=-1", 400, "“part” must be a whole number"),
        ("&part=two", 400, "“part” must be a whole number"),
        ("&part=1.5", 400, "“part” must be a whole number"),
        ("&part=%D9%A2", 400, "“part” must be a whole number"),
        ("&part=2&part=3", 400, "given 2 times"),
        ("&part=9999999999", 400, "“part” must be a whole number"),
        ("&part=4", 404, "There is no part 4"),
        ("&part=999999999", 404, "There is no part 999999999"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_part_is_a_clear_4xx(client, query, status, message, htmx):
    """US draft -> E3 has parts 1 (the rows both speak to) and 2 (those E3 does not cover)."""
    url = f"/plans/{DEMO}/compare/?a=us-28-point-draft&b=e3-counter-proposal{query}"
    html = get_html(client, url, status=status, **({"HX-Request": "true"} if htmx else {}))
    assert message in html and "<script>" not in html
    get_html(client, url.replace(query, "&part=3"), status=404)
    get_html(client, url.replace(query, "&part=2"))


def test_the_same_text_on_both_sides_has_one_part(client):
    url = f"/plans/{DEMO}/compare/?a=us-28-point-draft&b=us-28-point-draft"
    assert "Both sides are the same text" in get_html(client, url + "&part=1")
    get_html(client, url + "&part=2", status=404)


def test_the_htmx_region_is_small_on_a_big_plan(client, big):
    """Budget: an HTMX fragment at most 15 KB compressed: the form-and-rows region and each part."""
    a, b, _ = longest_pair(big)
    headers = {"HX-Request": "true", "Accept-Encoding": "gzip"}
    for query in ("", "&view=inline", "&part=2", "&part=3"):
        response = client.get(url_of(big, a, b, query), headers=headers)
        assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
        assert len(response.content) <= 15 * 1024, (query, len(response.content))
        assert gzip.decompress(response.content).count(b'class="compare-row ') <= ROWS_PER_PART


def test_the_page_varies_on_hx_request_and_loads_the_anchor_script(client):
    response = client.get(f"/plans/{DEMO}/compare/?a=us-28-point-draft&b=e3-counter-proposal&part=2")
    assert "HX-Request" in response["Vary"]
    assert re.search(
        r'<script src="/static/peaceplans/rows\.[0-9a-f]*\.?js" defer></script>', response.content.decode()
    )
