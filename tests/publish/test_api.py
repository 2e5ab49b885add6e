"""
The read-only JSON API, its OpenAPI document and documented schema page, and the dataset download.

Every response is validated against the schema the OpenAPI document gives for it (every field
required, no extra ones), so a renamed or missing field fails here, not in a newsroom's chart.
"""

import json
import re
from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, get_resolver, resolve
from django.utils import timezone
from jsonschema import Draft202012Validator, ValidationError
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from peaceplans.models import Annotation, Clause, Event, Party, Point, Source, Stance, Topic
from peaceplans.publish import openapi, schemas

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
API = f"/api/v1/plans/{PLAN}/"
DATASET = f"/plans/{PLAN}/dataset.json"
DOC_URI = "urn:peaceplans:openapi"
PRAVDA = "https://news-pravda.com/world/2025/11/20/1873519.html"

# Every endpoint, in the shapes it answers: (address, schema name in the OpenAPI document)
ENDPOINTS = [
    ("/api/v1/", "Index"),
    ("/api/v1/parties/", "PartyPage"),
    ("/api/v1/parties/russia/", "Party"),
    ("/api/v1/plans/", "PlanPage"),
    (API, "PlanDetail"),
    (API + "revisions/", "RevisionPage"),
    (API + "revisions/us-28-point-draft/", "RevisionDetail"),
    (API + "revisions/berlin-joint-statement/", "RevisionDetail"),
    (API + "points/", "PointPage"),
    (API + "points/?page=2&per_page=20", "PointPage"),
    (API + "points/6/", "PointDetail"),
    (API + "points/europe-24-point-telegraph-7/", "PointDetail"),
    (API + "stances/", "StancePage"),
    (API + "stances/?party=russia&point=6&position=opposes", "StancePage"),
    (API + "events/", "EventPage"),
    (API + "events/?party=ukraine", "EventPage"),
    (DATASET, "Dataset"),
]


def schema_validator(name: str) -> Draft202012Validator:
    """A validator for one component schema, its $refs resolved inside the OpenAPI document."""
    resource = Resource.from_contents(openapi.document(), default_specification=DRAFT202012)
    registry = Registry().with_resource(DOC_URI, resource)
    return Draft202012Validator(
        {"$ref": f"{DOC_URI}#/components/schemas/{name}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def get_json(client, url, status=200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    return response.json()


def note(point, body, status=Annotation.Status.PUBLISHED) -> Annotation:
    return Annotation.objects.create(point=point, body=body, status=status)


# ---- The OpenAPI document and the schema page ----


def test_openapi_document_is_valid_openapi_3_1():
    """The served document passes the OpenAPI 3.1 validator."""
    validate_openapi(openapi.document())
    assert openapi.document()["openapi"] == "3.1.0"


def test_openapi_document_is_served_as_json(client):
    """/api/v1/openapi.json is the document itself."""
    assert get_json(client, "/api/v1/openapi.json") == json.loads(json.dumps(openapi.document()))


def test_every_route_is_documented_and_every_documented_path_resolves():
    """The API routes and the document's paths are the same set, each path reaching its own view."""
    documented = {}
    for path, item in openapi.document()["paths"].items():
        example = re.sub(r"\{(\w+)\}", lambda m: openapi.EXAMPLE[m.group(1)], path)
        documented[item["get"]["operationId"]] = resolve(example).url_name
    assert all(name == url_name for name, url_name in documented.items()), documented
    routed = {
        p.name
        for p in get_resolver().url_patterns
        if isinstance(p, URLPattern) and p.name and (p.name.startswith("api_") or p.name == "plan_dataset")
    }
    assert routed - {"api_docs"} == set(documented)


def test_every_field_and_parameter_is_described():
    """The schema page lists a description for every field of every object and every parameter."""
    components = openapi.document()["components"]
    missing = [
        f"{name}.{field}"
        for name, schema in components["schemas"].items()
        for field, sub in schema["properties"].items()
        if not sub.get("description")
    ]
    missing += [name for name, parameter in components["parameters"].items() if not parameter.get("description")]
    assert missing == []


def test_schema_page_shows_every_endpoint_field_and_the_downloads(client):
    """/api/ is generated from the document: every path, every schema with its fields, examples and links."""
    response = client.get("/api/")
    assert response.status_code == 200
    html = response.content.decode()
    for path in openapi.document()["paths"]:
        assert f'<code class="api-path">{path}</code>' in html
    for name, schema in openapi.document()["components"]["schemas"].items():
        section = html.split(f'id="schema-{name}"')[1].split("</section>")[0]
        for field in schema["properties"]:
            assert f"<dt><code>{field}</code>" in section, (name, field)
    assert f'href="/plans/{PLAN}/dataset.json" download' in html
    assert 'href="/api/v1/openapi.json"' in html
    assert f"curl -i 'http://testserver/api/v1/plans/{PLAN}/points/6/'" in html
    assert 'Returns: <a href="#schema-PointDetail">PointDetail</a>' in html
    assert '<span class="api-type">array of <a href="#schema-Source">Source</a></span>' in html
    assert "<code>proposes-amendment</code>" in html  # enum values listed


@pytest.mark.usefixtures("page_cache_off")
def test_schema_page_runs_no_query(client, django_assert_num_queries):
    """The page comes from the document alone."""
    with django_assert_num_queries(0):
        client.get("/api/")


def test_footer_links_to_the_api_page_and_the_overview_to_the_dataset(client):
    """Every page's footer says where the data is; the plan overview offers the dataset download."""
    html = client.get(f"/plans/{PLAN}/").content.decode()
    assert '<a href="/api/">Data &amp; API</a>' in html
    assert f'href="/plans/{PLAN}/dataset.json"' in html


def test_index_links_every_endpoint_and_the_documents(client):
    """/api/v1/ links the OpenAPI document, the schema page and every documented path."""
    index = get_json(client, "/api/v1/")
    assert index["openapi_url"] == "http://testserver/api/v1/openapi.json"
    assert index["docs_html_url"] == "http://testserver/api/"
    assert [e["path"] for e in index["endpoints"]] == list(openapi.document()["paths"])
    assert "http://testserver/api/v1/plans/{plan}/points/{point}/" in [e["url_template"] for e in index["endpoints"]]


# ---- Every response against its schema ----


@pytest.mark.parametrize("url,schema", ENDPOINTS)
def test_response_validates_against_its_documented_schema(client, url, schema):
    """The real response on the demo data is exactly what the OpenAPI document says."""
    data = get_json(client, url)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in schema_validator(schema).iter_errors(data)]
    assert errors == []


@pytest.mark.parametrize("name", ["PointDetail", "RevisionDetail", "PlanDetail"])
def test_documented_schemas_are_strict(client, name):
    """The check above can fail: an extra or a missing field is a validation error."""
    url = {"PointDetail": API + "points/6/", "RevisionDetail": API + "revisions/us-28-point-draft/"}.get(name, API)
    data = get_json(client, url)
    validator = schema_validator(name)
    validator.validate(data)
    with pytest.raises(ValidationError):
        validator.validate({**data, "extra_field": 1})
    with pytest.raises(ValidationError):
        validator.validate({k: v for k, v in data.items() if k != "html_url"})


def test_error_bodies_validate_against_the_error_schema(client):
    """400, 404 and 405 bodies are the documented Error object."""
    validator = schema_validator("Error")
    for response in (
        client.get(API + "stances/?position=maybe"),
        client.get(API + "points/999/"),
        client.post(API),
    ):
        validator.validate(response.json())


# ---- Content ----


def test_point_6_wording_in_the_us_draft_is_the_600000_cap(client):
    """The army cap reads 600,000 in the US draft, with its source, numbered 6."""
    point = get_json(client, API + "points/6/")
    assert point["title"] == "Army cap"
    us = next(c for c in point["wording"] if c["revision"] == "us-28-point-draft")
    assert "600,000" in us["text"]
    assert us["number"] == "6" and us["dropped"] is False
    assert us["html_url"] == f"http://testserver/plans/{PLAN}/revisions/us-28-point-draft/#point-6"
    assert us["point_url"] == f"http://testserver{API}points/6/"
    assert point["html_url"] == f"http://testserver/plans/{PLAN}/points/6/"


def test_point_fields_are_exactly_as_documented_in_order(client):
    """Field names and order come from the document."""
    point = get_json(client, API + "points/6/")
    assert list(point) == list(openapi.SCHEMAS["PointDetail"]["properties"])
    assert list(point["stances"][0]) == list(schemas.STANCE)
    assert list(point["stances"][0]["source"]) == list(schemas.SOURCE)


def test_revision_lists_its_clauses_in_order_with_dropped_ones(client):
    """A revision carries every clause in print order, dropped points marked with empty text."""
    revision = get_json(client, API + "revisions/e3-counter-proposal/")
    numbers = [c["number"] for c in revision["clauses"]]
    expected = list(
        Clause.objects.filter(revision__slug="e3-counter-proposal")
        .order_by("sort_order", "pk")
        .values_list("number", flat=True)
    )
    assert numbers == expected
    dropped = [c for c in revision["clauses"] if c["dropped"]]
    assert dropped and all(c["text"] == "" for c in dropped)
    assert revision["authors"] == ["europe"]


def test_cyrillic_survives_unescaped(client):
    """A Russian quote arrives as readable UTF-8, not \\u escapes."""
    stance = Stance.objects.filter(quote__contains="На самом деле").get()
    response = client.get(API + f"stances/?party={stance.party.slug}&per_page=200")
    body = response.content.decode("utf-8")
    assert "На самом деле" in body
    assert "\\u041d" not in body
    quotes = [s["quote"] for s in response.json()["results"] if s["id"] == stance.pk]
    assert quotes == [stance.quote]


def test_stances_filter_by_party_point_and_position(client):
    """The filters combine; each result matches all of them; dates are ISO 8601."""
    data = get_json(client, API + "stances/?party=russia&position=opposes&per_page=200")
    expected = Stance.objects.filter(plan__slug=PLAN, party__slug="russia", position="opposes").count()
    assert data["count"] == expected == len(data["results"]) > 0
    assert {(s["party"], s["position"]) for s in data["results"]} == {("russia", "opposes")}
    on_six = get_json(client, API + "stances/?point=6")["results"]
    assert on_six and {s["point"] for s in on_six} == {"6"}
    assert all(date.fromisoformat(s["stated_on"]) for s in on_six)


def test_stances_on_a_whole_revision_link_to_the_revision(client):
    """A stance with no point names its revision and links the revision page's anchor."""
    stance = Stance.objects.filter(point__isnull=True).select_related("revision").first()
    data = get_json(client, API + f"revisions/{stance.revision.slug}/")
    found = next(s for s in data["stances"] if s["id"] == stance.pk)
    assert found["point"] is None and found["point_url"] is None
    assert found["html_url"].endswith(f"/revisions/{stance.revision.slug}/#stance-{stance.pk}")


def test_events_filter_by_party(client):
    """Only events involving the party, all of them."""
    data = get_json(client, API + "events/?party=ukraine&per_page=200")
    assert data["count"] == Event.objects.filter(plan__slug=PLAN, parties__slug="ukraine").count() > 0
    assert all("ukraine" in e["parties"] for e in data["results"])
    assert data["results"][0]["html_url"].startswith(f"http://testserver/plans/{PLAN}/timeline/#event-")


def test_draft_notes_never_appear_and_published_ones_are_sanitized(client):
    """Only published notes, as sanitized HTML; the draft's text is nowhere in the point or the dataset."""
    point = Point.objects.get(plan__slug=PLAN, key="6")
    note(point, "Draft only: SECRET-DRAFT-TEXT", status=Annotation.Status.DRAFT)
    published = note(point, "See **this** [report](https://example.org/a) <script>alert(1)</script>")
    data = get_json(client, API + "points/6/")
    assert [n["id"] for n in data["notes"]] == [published.pk]
    body = data["notes"][0]["body_html"]
    assert "<strong>this</strong>" in body
    assert 'rel="noopener nofollow"' in body
    assert "<script" not in body
    assert data["notes"][0]["author"] == "Editors"
    dataset = client.get(DATASET).content.decode()
    assert "SECRET-DRAFT-TEXT" not in dataset and "SECRET-DRAFT-TEXT" not in json.dumps(data)
    assert [n["id"] for n in json.loads(dataset)["notes"]] == [published.pk]


def test_a_non_citable_source_never_exposes_its_url(client):
    """A propaganda-network page cited anywhere shows its outlet, `citable: false` and a null URL."""
    pravda = Source.objects.get(url=PRAVDA)
    assert pravda.citable is False
    clause = Clause.objects.get(revision__slug="us-28-point-draft", point__key="6")
    clause.sources.add(pravda)
    stance = Stance.objects.filter(point__key="6").first()
    Stance.objects.filter(pk=stance.pk).update(source=pravda)
    Event.objects.filter(plan__slug=PLAN).filter(pk=Event.objects.first().pk).update(source=pravda)
    for url in (API + "points/6/", API + "revisions/us-28-point-draft/", API + "stances/?point=6", API + "events/"):
        body = client.get(url).content.decode()
        assert "news-pravda.com/world" not in body, url
    point = get_json(client, API + "points/6/")
    cited = next(c for c in point["wording"] if c["revision"] == "us-28-point-draft")["sources"]
    shown = next(s for s in cited if s["id"] == pravda.pk)
    assert shown["url"] is None and shown["citable"] is False and shown["outlet"] == pravda.outlet
    dataset = client.get(DATASET)
    assert "news-pravda.com/world" not in dataset.content.decode()
    assert pravda.pk in [s["id"] for s in dataset.json()["sources"]]


# ---- Pagination ----


def test_pagination_walks_every_point_once_in_plan_order(client):
    """Following `next` from page 1 visits every point exactly once, in plan order."""
    keys, url = [], API + "points/?per_page=20"
    pages = 0
    while url:
        data = get_json(client, url)
        keys += [p["key"] for p in data["results"]]
        url, pages = data["next"], pages + 1
    assert pages == 3
    assert keys == list(
        Point.objects.filter(plan__slug=PLAN).order_by("sort_order", "pk").values_list("key", flat=True)
    )


def test_pagination_links_are_absolute_and_keep_the_other_parameters(client):
    """`next` and `previous` are full URLs with the same filters and page size."""
    data = get_json(client, API + "stances/?party=russia&per_page=5&page=2")
    for link, page in ((data["next"], "3"), (data["previous"], "1")):
        parts = urlsplit(link)
        assert (parts.scheme, parts.netloc, parts.path) == ("http", "testserver", API + "stances/")
        assert parse_qs(parts.query) == {"party": ["russia"], "per_page": ["5"], "page": [page]}


def test_first_and_last_pages(client):
    """The first page has no previous, the last no next; the default page size is 50."""
    first = get_json(client, API + "points/")
    assert first["count"] == 53 and len(first["results"]) == 50 and first["previous"] is None
    last = get_json(client, first["next"])
    assert len(last["results"]) == 3 and last["next"] is None
    assert last["previous"] == f"http://testserver{API}points/?page=1"


def test_an_empty_list_is_one_empty_page(client):
    """No matching stance: page 1 exists and is empty."""
    data = get_json(client, API + "stances/?party=us&position=opposes&point=28")
    assert data == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    "query,status,message",
    [
        ("?page=3", 404, "There is no page 3: pages run from 1 to 2."),
        ("?page=0", 404, "There is no page 0: pages run from 1 to 2."),
        ("?page=999999999", 404, "There is no page 999999999"),
        ("?page=two", 400, "“page” must be a whole number"),
        ("?page=-1", 400, "“page” must be a whole number"),
        ("?page=1.5", 400, "“page” must be a whole number"),
        ("?page=1&page=2", 400, "“page” was given 2 times"),
        ("?per_page=201", 400, "“per_page” must be from 1 to 200"),
        ("?per_page=0", 400, "“per_page” must be from 1 to 200"),
        ("?per_page=ten", 400, "“per_page” must be a whole number"),
        ("?per_page=200&per_page=10", 400, "“per_page” was given 2 times"),
        ("?page=" + "9" * 2000, 400, "“page” must be a whole number"),
        ("?page=1000000000", 400, "“page” must be a whole number"),  # past openapi.MAX_PAGE, the documented maximum
        ("?page=2%0A", 400, "“page” must be a whole number"),
    ],
)
def test_bad_pagination_is_a_json_error(client, query, status, message):
    """Out of range is 404; not a number, too large a page or a repeated parameter is 400."""
    data = get_json(client, API + "points/" + query, status=status)
    assert data["error"].startswith(message)


def test_per_page_at_the_maximum_is_accepted(client):
    """per_page=200 returns every point on one page."""
    assert len(get_json(client, API + "points/?per_page=200")["results"]) == 53


# ---- Caching: ETag and conditional GET ----


def test_headers_allow_public_caching_and_reading_from_any_site(client):
    """ETag, 60-second public caching and CORS on every response; no cookie set, none varied on."""
    for url in (API + "points/6/", API + "points/999/", DATASET):
        response = client.get(url)
        assert re.fullmatch(r'(W/)?"[^"]+"', response["ETag"])
        assert response["Cache-Control"] == "public, max-age=60"
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "ETag" in response["Access-Control-Expose-Headers"]
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")


def test_if_none_match_gives_304_with_no_body(client):
    """Sending the ETag back gives 304, with the ETag and no body."""
    first = client.get(API + "points/6/")
    again = client.get(API + "points/6/", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("header", ['"nope", {etag}', "W/{etag}", "*"])
def test_if_none_match_accepts_lists_weak_tags_and_star(client, header):
    """A list containing the ETag, its weak form and * all match."""
    etag = client.get(API + "revisions/")["ETag"]
    response = client.get(API + "revisions/", headers={"If-None-Match": header.format(etag=etag)})
    assert response.status_code == 304


def test_gzip_weak_etag_round_trips(client):
    """Compressed responses carry a weak ETag (GZipMiddleware); sending it back still gives 304."""
    first = client.get(API + "points/", headers={"Accept-Encoding": "gzip"})
    assert first["Content-Encoding"] == "gzip" and first["ETag"].startswith('W/"')
    again = client.get(API + "points/", headers={"Accept-Encoding": "gzip", "If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]  # the 304 names the tag the client holds


def test_a_stale_etag_gets_the_full_response(client):
    """Another ETag gives 200 with the body."""
    response = client.get(API + "points/6/", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200 and response.json()["key"] == "6"


def test_changing_an_object_changes_the_etag(client):
    """An edit to a clause changes the revision's and the point's ETags; the old ETag gets a 200."""
    urls = (API + "revisions/us-28-point-draft/", API + "points/6/")
    before = {url: client.get(url)["ETag"] for url in urls}
    clause = Clause.objects.get(revision__slug="us-28-point-draft", point__key="6")
    clause.text = clause.text.replace("600,000", "800,000")
    clause.save()
    for url in urls:
        response = client.get(url, headers={"If-None-Match": before[url]})
        assert response.status_code == 200
        assert response["ETag"] != before[url]
        assert "800,000" in response.content.decode()


def test_errors_are_never_304(client):
    """Conditional GET applies to successful responses only."""
    missing = client.get(API + "points/999/")
    again = client.get(API + "points/999/", headers={"If-None-Match": "*"})
    assert missing.status_code == again.status_code == 404


def test_head_gives_the_headers_of_get_without_a_body(client):
    """HEAD works on every endpoint, with GET's ETag and no body."""
    for url, _schema in ENDPOINTS:
        if url == DATASET:
            continue
        head = client.head(url)
        assert head.status_code == 200, url
        assert head.content == b""
        assert head["ETag"] == client.get(url)["ETag"]


# ---- Errors ----


@pytest.mark.parametrize(
    "url,message",
    [
        ("/api/v1/plans/no-such-plan/", "There is no plan called “no-such-plan”."),
        ("/api/v1/plans/no-such-plan/points/6/", "There is no plan called “no-such-plan”."),
        (API + "revisions/no-such-revision/", "This plan has no revision with that name."),
        (API + "points/999/", "This plan has no point with that key."),
        ("/api/v1/parties/martians/", "There is no party with that name."),
        ("/api/v1/nowhere/", "There is no such endpoint"),
        ("/api/v1/plans", "There is no such endpoint"),
        ("/plans/no-such-plan/dataset.json", "There is no plan called “no-such-plan”."),
        ("/plans/не-план/dataset.json", "There is nothing at this address"),  # no route: handler404, still JSON
        (API + "stances/?party=martians", "There is no party “martians”; the parties are: us, ukraine, europe"),
        (API + "stances/?point=999", "This plan has no point “999”."),
        (API + "events/?party=nobody", "There is no party “nobody”; the parties are: us, ukraine, europe, russia."),
    ],
)
def test_unknown_things_are_404_json(client, url, message):
    """404 as JSON with a message, never the HTML page: in the address or named by a filter."""
    assert get_json(client, url, status=404)["error"].startswith(message)


@pytest.mark.parametrize(
    "query,message",
    [
        ("?party=mar%20tians", "“party” must be a party's slug, such as russia."),
        ("?point=6%20OR%201=1", "“point” must be a point's key, such as 6 or 10a."),
        ("?position=maybe", "“position” must be one of: supports, opposes, conditional, proposes-amendment, unclear."),
        ("?party=us&party=russia", "“party” was given 2 times"),
    ],
)
def test_bad_stance_filters_are_400_json(client, query, message):
    """Malformed or repeated filter values are a 400 saying what is allowed."""
    assert get_json(client, API + "stances/" + query, status=400)["error"].startswith(message)


def test_bad_event_filter_is_400_json(client):
    """The events' party filter is checked the same way."""
    assert "must be a party's slug" in get_json(client, API + "events/?party=no%20body", status=400)["error"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_other_methods_are_405_json(client, method):
    """The API is read-only: anything but GET and HEAD is 405 with an Allow header, CSRF or not."""
    response = getattr(client, method)(API + "points/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"].startswith(f"{method.upper()} is not allowed here")


HOSTILE = [
    "'; DROP TABLE peaceplans_point; --",
    "../../etc/passwd",
    "%2e%2e%2f",
    "..",
    "%00",
    "6%00",
    "x" * 5000,
    "план",
    "%D0%BF%D0%BB%D0%B0%D0%BD",
    "%ff%fe",
    "🕊️",
    "<script>alert(1)</script>",
    "6 OR 1=1",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    "template",
    [
        "/api/v1/plans/{}/",
        "/api/v1/plans/{}/points/",
        API + "points/{}/",
        API + "revisions/{}/",
        "/api/v1/parties/{}/",
        API + "stances/?party={}",
        API + "stances/?point={}",
        API + "stances/?position={}",
        API + "events/?party={}",
        API + "points/?page={}",
        API + "points/?per_page={}",
        "/plans/{}/dataset.json",
    ],
)
def test_hostile_values_are_400_or_404_json_never_500(client, template, value):
    """Injection, traversal, NUL, huge (414 past the address limits), Cyrillic and emoji values, in path or query."""
    response = client.get(template.format(value))
    assert response.status_code in (400, 404, 414), response.status_code
    assert response["Content-Type"] == "application/json"  # the dataset of a non-slug too (handler404)
    assert set(response.json()) == {"error"}


def test_plan_table_is_intact_after_hostile_input(client):
    """SQL in a value is only ever a value."""
    client.get("/api/v1/plans/'; DROP TABLE peaceplans_point; --/points/")
    client.get(API + "stances/?point=6'; DELETE FROM peaceplans_stance; --")  # noqa: S608 (a URL, not SQL)
    assert Point.objects.filter(plan__slug=PLAN).count() == 53 and Stance.objects.count() == 69


# ---- Query counts ----


def grow_data(plan):
    """60 more points, each worded in every revision with a source, a stance from every party, a note; events."""
    topic = Topic.objects.get(slug="nato")
    source = Source.objects.filter(citable=True).first()
    revisions = list(plan.revisions.all())
    points = Point.objects.bulk_create(
        Point(plan=plan, key=f"gen-{i}", title=f"Generated {i}", topic=topic, sort_order=1000 + i) for i in range(60)
    )
    clauses = Clause.objects.bulk_create(
        Clause(revision=r, point=p, number=f"g{p.sort_order}", text="Generated text") for p in points for r in revisions
    )
    Clause.sources.through.objects.bulk_create(
        Clause.sources.through(clause_id=c.pk, source_id=source.pk) for c in clauses
    )
    Stance.objects.bulk_create(
        Stance(
            plan=plan, party=party, point=p, position="opposes", stated_on=date(2025, 12, 1), summary="g", source=source
        )
        for p in points
        for party in Party.objects.all()
    )
    now = timezone.now()
    Annotation.objects.bulk_create(
        Annotation(point=p, body="A *note*", status="published", published_at=now) for p in points
    )
    events = Event.objects.bulk_create(
        Event(plan=plan, date=date(2025, 12, 2), title=f"Generated event {i}", source=source) for i in range(60)
    )
    Event.parties.through.objects.bulk_create(
        Event.parties.through(event_id=e.pk, party_id=party.pk) for e in events for party in Party.objects.all()
    )
    gen = points[0]
    Annotation.objects.bulk_create(
        Annotation(point=gen, body=f"note {i}", status="published", published_at=now) for i in range(20)
    )
    Stance.objects.bulk_create(
        Stance(
            plan=plan, party=party, point=gen, position="supports", stated_on=date(2025, 12, 3), summary="h", source=s
        )
        for party in Party.objects.all()
        for s in Source.objects.filter(citable=True)[:10]
    )


QUERY_COUNTS = [
    ("/api/v1/", 0),
    ("/api/v1/openapi.json", 0),
    ("/api/v1/parties/", 2),
    ("/api/v1/parties/russia/", 1),
    ("/api/v1/plans/", 2),
    (API, 5),
    (API + "revisions/?per_page=200", 5),
    (API + "revisions/us-28-point-draft/", 7),
    (API + "points/?per_page=200", 3),
    (API + "points/{gen}/", 6),
    (API + "stances/?per_page=200", 3),
    (API + "stances/?party=russia&point={gen}&position=supports", 5),
    (API + "events/?per_page=200", 4),
    (API + "events/?party=ukraine", 5),
    (DATASET, 10),  # topics come with the points, the four many-to-many links in one query (serializers.py)
]


@pytest.mark.parametrize("url,count", QUERY_COUNTS)
@pytest.mark.usefixtures("page_cache_off")
def test_query_count_is_pinned_and_does_not_grow_with_data(client, plan, url, count):
    """Each endpoint runs a fixed, small number of queries before and after the data grows several times over."""
    before_url = url.format(gen="6")
    client.get(before_url)
    with CaptureQueriesContext(connection) as before:
        assert client.get(before_url).status_code == 200
    grow_data(plan)
    after_url = url.format(gen="gen-0")
    with CaptureQueriesContext(connection) as after:
        response = client.get(after_url)
    assert response.status_code == 200
    assert len(before) == len(after) == count, [q["sql"][:120] for q in after]


def test_grown_data_is_served(client, plan):
    """The grown point has its 21 notes and 44 stances: the constant counts above are not empty answers."""
    grow_data(plan)
    point = get_json(client, API + "points/gen-0/")
    assert len(point["notes"]) == 21 and len(point["stances"]) == 44 and len(point["wording"]) == 6


# ---- The whole-dataset download ----


def test_dataset_is_an_attachment_named_after_the_plan(client):
    """Downloaded as <plan>-dataset.json, in JSON."""
    response = client.get(DATASET)
    assert response["Content-Disposition"] == f'attachment; filename="{PLAN}-dataset.json"'
    assert response["Content-Type"] == "application/json"


def test_dataset_counts_match_the_database(client, plan):
    """Every table of the plan, whole; sources are those the plan's data cites."""
    point = Point.objects.get(plan=plan, key="6")
    note(point, "Published")
    note(point, "Draft", status=Annotation.Status.DRAFT)
    data = get_json(client, DATASET)
    cited = (
        set(Source.objects.filter(revisions__plan=plan).values_list("pk", flat=True))
        | set(Source.objects.filter(clauses__revision__plan=plan).values_list("pk", flat=True))
        | set(Source.objects.filter(stances__plan=plan).values_list("pk", flat=True))
        | set(Source.objects.filter(events__plan=plan).values_list("pk", flat=True))
    )
    assert {
        "parties": len(data["parties"]),
        "topics": len(data["topics"]),
        "revisions": len(data["revisions"]),
        "points": len(data["points"]),
        "clauses": len(data["clauses"]),
        "stances": len(data["stances"]),
        "events": len(data["events"]),
        "notes": len(data["notes"]),
    } == {
        "parties": Party.objects.count(),
        "topics": Topic.objects.filter(points__plan=plan).distinct().count(),
        "revisions": 6,
        "points": 53,
        "clauses": 119,
        "stances": 69,
        "events": 32,
        "notes": 1,
    }
    assert sorted(s["id"] for s in data["sources"]) == sorted(cited)
    assert data["plan"]["slug"] == PLAN


def test_dataset_version_is_stable_and_follows_the_data(client, plan):
    """Two downloads of the same data share a version; an edit gives a new one; generated_at is now."""
    first, second = get_json(client, DATASET), get_json(client, DATASET)
    assert first["version"] == second["version"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}\.[0-9a-f]{8}", first["version"])
    Stance.objects.filter(pk=Stance.objects.first().pk).update(summary="Edited without touching updated_at")
    third = get_json(client, DATASET)
    assert third["version"] != first["version"]
    clause = Clause.objects.get(revision__slug="us-28-point-draft", point__key="6")
    clause.save()  # a later edit moves the date part to the edit's day
    latest = datetime.fromisoformat(get_json(client, DATASET)["updated_at"])
    assert latest == clause.updated_at.replace(microsecond=clause.updated_at.microsecond // 1000 * 1000)


def test_dataset_version_does_not_depend_on_the_host_name(client):
    """The same data asked from two host names has one version (the hash uses bare paths)."""
    a = client.get(DATASET).json()
    b = client.get(DATASET, HTTP_HOST="localhost").json()
    assert a["plan"]["url"] != b["plan"]["url"]
    assert a["version"] == b["version"]


def test_dataset_cite_as_and_notice(client, plan):
    """A ready-to-paste citation with the title, version, today's date and the file's address."""
    data = get_json(client, DATASET)
    today = timezone.now().date().isoformat()  # UTC, as the server stamps it
    assert data["cite_as"] == (
        f"peaceplans, “{plan.title}”, dataset version {data['version']}, retrieved {today}, "
        f"http://testserver/plans/{PLAN}/dataset.json"
    )
    assert "paraphrases" in data["notice"]
    assert data["generated_at"].startswith(today)


def test_dataset_etag_follows_the_version_and_gives_304(client):
    """The ETag is the version (weak: generated_at differs each time); sending it back gives 304."""
    response = client.get(DATASET)
    assert response["ETag"] == f'W/"{response.json()["version"]}"'
    again = client.get(DATASET, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_revisions_carry_their_short_label_and_wording_and_clauses_their_wording_note(client):
    revision = get_json(client, API + "revisions/e3-counter-proposal/")
    assert (revision["short_label"], revision["wording"]) == ("E3", "paraphrase")
    noted = [c for c in revision["clauses"] if c["wording_note"]]
    assert noted and all(c["wording_note"] not in c["text"] for c in noted)
    dropped = {c["number"]: c["dropped"] for c in revision["clauses"] if c["dropped"]}
    assert set(dropped) == {"3", "20c", "21a", "21d"}
