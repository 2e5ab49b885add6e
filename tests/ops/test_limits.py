"""
Request limits (issue 7, item 7): the overview's page and per_page checked rather than handed
to django-tables2, NUL characters refused before the database, over-long addresses a 414 and
over-long bodies a 400 (peaceplans/ops/limits.py, settings "Request limits").
"""

import html
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from peaceplans.models import Point, Source
from tests.conftest import PLAN

pytestmark = pytest.mark.django_db

OVERVIEW = f"/plans/{PLAN}/"
ROW = re.compile(rb'<tr id="point-')


def rows(response) -> int:
    return len(ROW.findall(response.content))


def human_page(response, *phrases: str) -> str:
    """The site's own HTML page (not a traceback), saying each phrase."""
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert page.lstrip().startswith("<!doctype html>") and "Traceback" not in page
    for phrase in phrases:
        assert phrase in html.unescape(page), phrase
    return page


@pytest.fixture(autouse=True)
def _fresh(page_cache_off):
    """Each request renders; the tests of the page cache turn it back on themselves."""


# ---- per_page and page on the overview ----


@pytest.mark.parametrize("value", ["abc", "1e3", "%2010%20", "1.5", "%D9%A3", "+5", "--5", "-", "10abc"])
@pytest.mark.parametrize("htmx", [False, True])
def test_per_page_that_is_not_a_whole_number_is_a_400_that_says_so(client, value, htmx):
    response = client.get(f"{OVERVIEW}?per_page={value}", headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 400
    human_page(response, "“per_page” must be a whole number, such as 30; from 1 to 100 rows are shown on a page.")
    assert rows(response) == 0


@pytest.mark.parametrize(
    ("value", "per_page"),
    [("-5", 1), ("0", 1), ("-99999999999999", 1), ("101", 100), ("100000000", 100), ("9" * 400, 100)],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_per_page_out_of_range_is_clamped(client, value, per_page, htmx):
    """-5 crashed django-tables2 (a 500) and 100000000 returned every row; both now come back clamped to 1..100."""
    response = client.get(f"{OVERVIEW}?per_page={value}", headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 200
    assert response.context["table"].paginator.per_page == per_page
    assert rows(response) == min(per_page, Point.objects.count())


def test_per_page_is_clamped_to_100_rows_even_when_there_are_more(client, plan):
    """With 150 points, 100000000 shows 100 rows and a second page: never every row."""
    Point.objects.bulk_create(
        Point(plan=plan, key=f"extra-{n}", title=f"Extra {n}", topic=plan.points.first().topic, sort_order=1000 + n)
        for n in range(150 - plan.points.count())
    )
    response = client.get(f"{OVERVIEW}?per_page=100000000")
    assert rows(response) == 100 and "Page 1 of 2" in response.content.decode()


@pytest.mark.parametrize(
    ("value", "shown", "pages"), [("1", 1, "Page 1 of 53"), ("10", 10, "Page 1 of 6"), ("100", 53, "")]
)
def test_per_page_in_range_shows_that_many_rows(client, value, shown, pages):
    response = client.get(f"{OVERVIEW}?per_page={value}")
    assert response.status_code == 200
    assert rows(response) == shown
    assert pages in response.content.decode()


def test_per_page_defaults_to_30(client):
    response = client.get(OVERVIEW)
    assert rows(response) == 30 and "Page 1 of 2" in response.content.decode()


def test_per_page_given_twice_is_a_400(client):
    response = client.get(f"{OVERVIEW}?per_page=5&per_page=10")
    assert response.status_code == 400
    human_page(response, "“per_page” was given 2 times; give it once.")


@pytest.mark.parametrize("value", ["abc", "-1", "0", "99999999999999999999", "1e3", "%202", "2.0"])
def test_malformed_page_is_a_400(client, value):
    response = client.get(f"{OVERVIEW}?page={value}")
    assert response.status_code == 400
    human_page(response, "“page” must be a whole number, such as 2.")


@pytest.mark.parametrize("query", ["?page=3", "?page=999999999", "?page=2&per_page=53", "?page=2&q=ceasefire"])
def test_a_page_past_the_last_is_a_404(client, query):
    """As on the sources page and in the API; django-tables2 used to show the last page instead."""
    response = client.get(OVERVIEW + query)
    assert response.status_code == 404
    human_page(response, "There is no page")


def test_page_and_per_page_together(client):
    response = client.get(f"{OVERVIEW}?page=2&per_page=50")
    assert response.status_code == 200
    assert rows(response) == 3 and "Page 2 of 2" in response.content.decode()


def test_the_csv_export_is_not_paginated_and_ignores_per_page(client):
    """The matrix CSV has every row of the filters; per_page is the page's business only."""
    response = client.get(f"/plans/{PLAN}/matrix.csv?per_page=-5")
    assert response.status_code == 200
    assert len(response.content.decode().splitlines()) == 1 + 53


# ---- NUL characters ----

NUL_ADDRESSES = [
    f"{OVERVIEW}?q=%00",
    f"{OVERVIEW}?sort=%00",
    f"{OVERVIEW}?topic=a%00b",
    f"{OVERVIEW}?q%00=1",
    f"/plans/{PLAN}/points/6%00/",
    f"/plans/{PLAN}/points/6%00/wording.csv",
    f"/plans/{PLAN}/compare/?a=%00",
    f"/feeds/plans/{PLAN}/points/6%00/",
    f"/embed/plans/{PLAN}/points/6%00/",
    "/search/?q=peace%00",
    "/oembed/?url=http://testserver/plans/x/points/6%00/",
    f"/api/v1/plans/{PLAN}/points/6%00/",
    f"/api/v1/plans/{PLAN}/stances/?point=6%00",
    "/api/v1/parties/%00/",
]


@pytest.mark.parametrize("address", NUL_ADDRESSES)
def test_nul_is_refused_with_a_400_before_any_query(client, address):
    """
    No query runs at all, so none can carry the NUL to the database (on PostgreSQL it would
    raise: see the next test). The API answers in JSON, every other address with the 400 page.
    """
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    assert response.status_code == 400
    assert not any("\x00" in query["sql"] for query in queries.captured_queries)
    assert len(queries) == 0
    if address.startswith("/api/"):
        assert response.json() == {"error": "The address contains a NUL character (%00), which is not text: remove it."}
    else:
        human_page(response, "The address contains a NUL character (%00), which is not text: remove it.")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL refuses NUL in text; SQLite stores it")
def test_postgresql_would_raise_on_the_nul_the_middleware_keeps_out(db):
    """Why the guard exists: the lookup a point page makes fails outright on PostgreSQL with a NUL."""
    with pytest.raises((DatabaseError, ValueError)):
        Point.objects.filter(key="6\x00").first()


@pytest.mark.parametrize(
    "address",
    [
        f"/plans/{PLAN}/points/6%00/",
        f"/plans/{PLAN}/points/6%00/wording.csv",
        f"/plans/{PLAN}/points/6%00/stances.csv",
        f"/embed/plans/{PLAN}/points/6%00/",
        f"/feeds/plans/{PLAN}/points/6%00/",
        f"/api/v1/plans/{PLAN}/points/6%00/",
    ],
)
def test_without_the_middleware_a_nul_in_a_point_key_is_still_a_404(client, settings, address):
    """
    Defence in depth: selectors.point_by_key sends no value that cannot be a key to the database
    (PostgreSQL would raise on the NUL, the test above), so even without the guard every address
    naming a point answers 404, never a 500.
    """
    limits = "peaceplans.ops.limits.RequestLimitsMiddleware"
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != limits]
    assert client.get(address).status_code == 404


def test_nul_in_a_cookie_is_refused_before_the_session_is_read(client):
    """A session cookie is looked up in the database: a NUL in it must not get that far."""
    client.cookies[settings.SESSION_COOKIE_NAME] = "abcdefgh\x00ijkl"
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/")
    assert response.status_code == 400 and len(queries) == 0


@pytest.mark.parametrize("value", ["%C0%80", "%ED%A0%80", "%2500", "%E0%80%80", "\\0", "%5C0"])
def test_things_that_only_look_like_nul_are_answered_normally(client, value):
    """Overlong UTF-8 and surrogates decode to U+FFFD; "%2500" is the text "%00". None is a NUL."""
    response = client.get(f"/search/?q={value}")
    assert response.status_code == 200
    assert "NUL" not in response.content.decode()


# ---- Over-long addresses: 414 ----


def assert_refusal_headers(response):
    """The same security headers as any page, and marked never to be stored."""
    assert response["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_a_query_string_over_the_limit_is_a_414_page(client):
    query = "q=" + "a" * (settings.MAX_QUERY_STRING_BYTES - 1)  # one byte over
    response = client.get(f"/search/?{query}")
    assert response.status_code == 414
    html = human_page(response, "Address too long", f"is {settings.MAX_QUERY_STRING_BYTES + 1:,} bytes long")
    assert "a" * 200 not in html  # the address is not echoed back (no canonical link, no card)
    assert_refusal_headers(response)


def test_a_query_string_at_the_limit_is_read_by_the_view(client):
    """Exactly MAX_QUERY_STRING_BYTES: the view answers (its own 400: a search of at most 200 characters)."""
    query = "q=" + "a" * (settings.MAX_QUERY_STRING_BYTES - 2)
    response = client.get(f"/search/?{query}")
    assert response.status_code == 400
    human_page(response, "Search for at most 200 characters")


def test_the_limit_counts_bytes_as_sent_percent_encoded(client):
    """The longest search, 200 four-byte characters, is 2,400 bytes of query (each byte as %XX): it passes."""
    query = "q=" + "%F0%9F%95%8A" * 200  # 🕊
    assert len(query) == 2402
    assert client.get(f"/search/?{query}").status_code == 200
    assert client.get(f"/search/?{query}{'%F0%9F%95%8A' * 150}").status_code == 414


@pytest.mark.parametrize("length", [settings.MAX_PATH_BYTES + 1, 8 * 1024, 64 * 1024])
def test_a_path_over_the_limit_is_a_414_page(client, length):
    response = client.get("/" + "a" * (length - 1))
    assert response.status_code == 414
    human_page(response, "Address too long", f"This address is {length:,} bytes long")
    assert_refusal_headers(response)


def test_a_path_at_the_limit_is_routed_as_usual(client):
    response = client.get("/" + "a" * (settings.MAX_PATH_BYTES - 1))
    assert response.status_code == 404


def test_an_over_long_api_address_gets_the_api_s_json(client):
    response = client.get(f"/api/v1/plans/{PLAN}/points/?party=" + "x" * settings.MAX_QUERY_STRING_BYTES)
    assert response.status_code == 414
    assert response.json()["error"].startswith("This address's query (after the “?”) is 4,102 bytes long")
    assert response["Cache-Control"] == "no-store"


def test_refusals_never_reach_the_page_cache(client, settings):
    """Before the cache in the middleware order: no entry is made, and a repeat is refused again, not replayed."""
    settings.PAGE_CACHE_SECONDS = 3600
    cache.clear()
    address = f"{OVERVIEW}?q=" + "a" * settings.MAX_QUERY_STRING_BYTES
    for _ in range(2):
        response = client.get(address)
        assert response.status_code == 414 and "X-Page-Cache" not in response
    assert "X-Page-Cache" not in client.get(f"{OVERVIEW}?q=%00")
    assert not [key for key in cache._cache if ":page:" in key]  # LocMemCache's own store
    assert client.get(OVERVIEW)["X-Page-Cache"] == "miss"  # the cache itself is on
    assert [key for key in cache._cache if ":page:" in key]


def test_the_middleware_runs_after_the_security_headers_and_before_the_page_cache():
    order = settings.MIDDLEWARE
    limits = order.index("peaceplans.ops.limits.RequestLimitsMiddleware")
    assert order.index("django.middleware.security.SecurityMiddleware") < limits
    assert limits < order.index("peaceplans.ops.pagecache.PageCacheMiddleware")
    assert order.index("peaceplans.ops.security.SecurityHeadersMiddleware") < limits  # it adds CSP etc. to refusals


# ---- Over-long bodies: 400 ----


def test_a_declared_body_over_the_limit_is_a_400_before_it_is_read(client):
    body = b"x" * (settings.MAX_REQUEST_BODY_BYTES + 1)
    response = client.generic("POST", "/search/", body, content_type="application/octet-stream")
    assert response.status_code == 400
    human_page(response, f"The request's body is {len(body):,} bytes; at most 4,194,304 are accepted.")
    assert_refusal_headers(response)


def test_a_lying_content_length_is_refused_on_its_word(client):
    """A small body declaring a huge length: refused on the header, nothing waits for bytes that never come."""
    response = client.generic("POST", "/admin/login/", b"a=1", CONTENT_LENGTH=str(10**12))
    assert response.status_code == 400
    human_page(response, "The request's body is 1,000,000,000,000 bytes")


@pytest.mark.parametrize("value", ["-1", "abc", "1e9", "9" * 5000])
def test_a_malformed_content_length_is_a_400(client, value):
    response = client.generic("POST", "/admin/login/", b"a=1", CONTENT_LENGTH=value)
    assert response.status_code == 400
    human_page(response)


@pytest.fixture
def editor_client(client, db):
    client.force_login(User.objects.create_superuser("chief", "chief@example.org", "a-long-test-password-1"))
    return client


def test_an_admin_form_over_django_s_data_limit_is_a_400(editor_client):
    """Under our body limit but over DATA_UPLOAD_MAX_MEMORY_SIZE: Django's RequestDataTooBig, the 400 page."""
    source = Source.objects.first()
    data = {"outlet": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    response = editor_client.post(f"/admin/peaceplans/source/{source.pk}/change/", data)
    assert response.status_code == 400
    human_page(response, "Bad request")
    source.refresh_from_db()
    assert not source.outlet.startswith("xxx")


def test_the_paste_import_over_django_s_data_limit_is_a_400(editor_client):
    response = editor_client.post("/admin/peaceplans/revision/paste/", {"text": "ж" * 1_400_000})  # 2.8 MB
    assert response.status_code == 400
    human_page(response, "Bad request")


def test_the_largest_paste_in_cyrillic_fits_under_the_limits(editor_client):
    """paste.MAX_CHARS of Cyrillic posts (multipart, as the browser does) and reaches the form's own checks."""
    text = "1. " + "ж" * 9_000 + "\n"
    text = (text * (500_000 // len(text)))[:499_000]
    response = editor_client.post("/admin/peaceplans/revision/paste/", {"text": text, "title": "Big"})
    assert response.status_code == 200
    assert response.context["form"].is_bound
