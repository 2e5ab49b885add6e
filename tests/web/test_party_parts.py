"""
The party page in parts (issue 18, item 2; peaceplans/web/parts.py): its first 30 points with the
page, the rest as the reader scrolls (htmx) or follows "Next rows" (no JavaScript). Every point once,
in plan order; the share's tally and the citation count every point; the CSV is not paged.
"""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peaceplans.models import Stance
from peaceplans.web.parts import ROWS_PER_PART
from tests.parts import get_html, htmx_parts, next_links, through_last

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
URL = f"/plans/{PLAN}/parties/russia/"
ROW_ID = re.compile(r'<tr id="(point-[^"]+)">')


@pytest.fixture
def keys(plan):
    return [f"point-{key}" for key in plan.points.public().in_order().values_list("key", flat=True)]


def test_the_demo_has_more_points_than_one_part(keys):
    assert ROWS_PER_PART < len(keys) <= 2 * ROWS_PER_PART


def test_the_first_part_and_the_parts_htmx_appends_are_every_point_in_order(client, keys):
    page, parts = htmx_parts(client, URL)
    assert ROW_ID.findall(page) == keys[:ROWS_PER_PART]
    assert [row for part in parts for row in ROW_ID.findall(part)] == keys[ROWS_PER_PART:]
    part = parts[0]
    assert part.lstrip().startswith("<tr id=") and "<table" not in part and "<html" not in part
    assert "data-rows-next" not in part  # the last part has no next link


def test_following_next_rows_without_javascript_shows_every_point(client, keys):
    assert ROW_ID.findall(through_last(client, URL)) == keys


def test_the_next_link_is_a_table_row_and_a_plain_address(client, keys):
    html = get_html(client, URL)
    (href, get), *_ = next_links(html)
    assert get == f"{URL}?part=2" and href == f"{get}#{keys[ROWS_PER_PART]}"
    row = re.search(r'<tr class="rows-next"><td colspan="4">(.*?)</td></tr>', html, re.S).group(1)
    assert f'Next rows <span class="meta">(31–{len(keys)} of {len(keys)})</span>' in row
    assert 'hx-trigger="revealed, click"' in row and 'hx-target="closest .rows-next"' in row
    assert html.index('class="rows-next"') < html.index("</tbody>")
    # Without JavaScript: the page through part 2, an anchor to any point resolves
    through = get_html(client, href.split("#")[0])
    assert all(f'<tr id="{key}">' in through for key in keys) and "Statements on whole texts" in through


def test_the_share_and_the_citation_count_every_point_not_the_first_part(client, keys):
    html = get_html(client, URL)
    stances = Stance.objects.filter(plan__slug=PLAN, party__slug="russia", point__isnull=False)
    recorded = stances.values("point").distinct().count()
    description = re.search(r'<meta name="description" content="([^"]*)">', html).group(1)
    assert f"on {recorded} of {len(keys)} points" in description
    cited = {s.source.outlet for s in stances.select_related("source")}
    citation = html.split('id="cite-text"')[1].split("</pre>")[0]
    assert all(outlet.replace("&", "&amp;") in citation for outlet in cited)


def test_the_csv_is_not_paged(client, keys):
    response = client.get(f"/plans/{PLAN}/parties/russia/positions.csv?part=2")
    assert response.status_code == 200
    assert len(list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))) == len(keys) + 1


@pytest.mark.parametrize(
    "query,status",
    [("?part=0", 400), ("?part=x", 400), ("?part=1e1", 400), ("?part=2&part=2", 400), ("?part=3", 404)],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_part_is_a_clear_4xx(client, query, status, htmx):
    html = get_html(client, URL + query, status=status, **({"HX-Request": "true"} if htmx else {}))
    assert ("“part”" in html) if status == 400 else ("There is no part 3: this page has parts 1 to 2." in html)


def test_the_page_varies_on_hx_request(client):
    assert "HX-Request" in client.get(URL)["Vary"]


@pytest.mark.usefixtures("page_cache_off")
def test_the_page_and_a_part_run_few_queries(client):
    """Plan, party, the latest stances (texts and sources joined), the points; the page: statements on whole texts."""
    for url, headers, expected in ((URL, {}, 5), (URL + "?part=2", {"HX-Request": "true"}, 4)):
        client.get(url, headers=headers)
        with CaptureQueriesContext(connection) as queries:
            client.get(url, headers=headers)
        assert len(queries) == expected, [q["sql"][:100] for q in queries]
