"""
/sources/ in pages of SOURCES_PER_PAGE (the demo's sources fit on the first): its order, its
page links, ?source=<id> landing on the page that lists a source (every source's address),
bad page numbers, a fixed query count, and the CSV still listing every source.
"""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peaceplans.models import Source
from peaceplans.web.views import SOURCES_PER_PAGE

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(db):
    """Enough sources for three pages, with shared days and outlets and some undated."""
    Source.objects.bulk_create(
        Source(
            url=f"https://sources-test.example/{n}",
            outlet=f"Outlet {n % 7}",
            kind=Source.Kind.ORIGINAL_REPORT,
            published_on=None if n % 50 == 0 else datetime.date(2025, 1, 1) + datetime.timedelta(days=n % 40),
        )
        for n in range(2 * SOURCES_PER_PAGE + 150 - Source.objects.count())
    )
    return list(Source.objects.in_order())


def listed(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li id="source-(\d+)"', html)]


def test_the_demo_sources_fit_on_one_page_without_page_links(client):
    html = client.get("/sources/").content.decode()
    assert len(listed(html)) == Source.objects.count() == 140
    assert "Pages of the sources" not in html


def test_pages_list_the_sources_in_order_and_link_each_other(client, many):
    pages = [client.get("/sources/", {"page": n}).content.decode() for n in (1, 2, 3)]
    assert [pk for html in pages for pk in listed(html)] == [s.pk for s in many]
    assert [len(listed(html)) for html in pages] == [SOURCES_PER_PAGE, SOURCES_PER_PAGE, 150]
    assert "Page 2 of 3 (550 sources)" in pages[1]
    assert 'rel="prev" href="?page=1"' in pages[1] and 'rel="next" href="?page=3"' in pages[1]
    assert '<ol class="source-list" start="201">' in pages[1]


def test_undated_sources_come_last(many):
    dated = [s.published_on is not None for s in many]
    assert dated == sorted(dated, reverse=True)


def test_every_sources_address_lands_on_the_page_that_lists_it(client, many):
    for source in [many[0], many[SOURCES_PER_PAGE - 1], many[SOURCES_PER_PAGE], many[-1], *many[::37]]:
        url = source.get_absolute_url()
        assert url == f"/sources/?source={source.pk}#source-{source.pk}"
        response = client.get(url.split("#")[0])
        assert source.pk in listed(response.content.decode())
    # the page links drop ?source=, so they lead to the pages themselves
    html = client.get("/sources/", {"source": many[-1].pk}).content.decode()
    assert 'href="?page=2"' in html and "source=" not in html.split("Pages of the sources")[1]


@pytest.mark.parametrize(
    "query,status,message",
    [
        ({"page": "4"}, 404, "There is no page 4"),
        ({"page": "0"}, 400, "“page” must be a whole number"),
        ({"page": "-1"}, 400, "“page” must be a whole number"),
        ({"page": "2.5"}, 400, "“page” must be a whole number"),
        ({"page": "９"}, 400, "“page” must be a whole number"),
        ({"page": "9" * 40}, 400, "“page” must be a whole number"),
        ({"page": ["1", "2"]}, 400, "given 2 times"),
        ({"source": "abc"}, 400, "“source” must be a whole number"),
        ({"source": "999999999"}, 404, "There is no source with that number"),
    ],
)
def test_bad_page_or_source_values_get_a_clear_answer(client, many, query, status, message):
    response = client.get("/sources/", query)
    assert response.status_code == status
    assert message in response.content.decode()


def test_the_query_count_is_fixed(client, many, settings):
    settings.PAGE_CACHE_SECONDS = 0  # the page itself, not a cache hit
    for query, expected in (({}, 2), ({"page": "3"}, 2), ({"source": many[-1].pk}, 4)):
        client.get("/sources/", query)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/sources/", query).status_code == 200
        assert len(queries) == expected, [q["sql"][:100] for q in queries]


def test_the_csv_still_lists_every_source(client, many):
    lines = client.get("/sources.csv").content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + len(many)
