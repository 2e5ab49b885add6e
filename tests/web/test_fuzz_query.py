"""
Query-string fuzzing of every public route (issue 7, item 7), with Hypothesis.

For each route of peaceplans/urls.py outside /admin/ (a test fails when a route has no entry
in ROUTES), FUZZ_EXAMPLES requests (1,000 in the ci profile, 200 in the dev profile that `make test`
uses by default, see tests/conftest.py; PEACEPLANS_FUZZ_EXAMPLES=N sets it) built from:
- the path's own segments (plan, point, revision, party), valid most of the time so that the
  query is read at all, otherwise near-valid or hostile;
- every parameter the route reads, each absent, given once or repeated, its value valid
  (from the demo data), near-valid (case, spaces, signs, numbers at and past the bounds,
  floats, exponents, Arabic-Indic digits) or hostile (any Unicode text, NUL, lone surrogates
  and overlong UTF-8 as percent-encodings, broken escapes, injection and markup strings,
  values long enough to pass the 4 KB query limit);
- unknown parameters, and the parameters of other routes;
- HX-Request on or off;
- and, in one example in eight, a request a reader's browser could send: valid segments and
  valid values only, so that every route's normal path is reached in both profiles.

The property: a 414 exactly when the path or the query is over its limit (settings,
peaceplans/ops/limits.py), otherwise 200, 301, 302, 400 or 404 only (and oEmbed's 501 for a
format other than JSON, which its specification requires); never a 500, which the test
client raises as the view's exception. 4xx bodies are the site's HTML page, the API's JSON
error or an export's plain-text reason, never a traceback. Each route must also answer
both its normal status (200; the API's catch-all 404) and some other 4xx over its run, so
the fuzzer demonstrably reaches the views' normal path as well as their refusals.

The page cache is off and the cache a DummyCache, so every example renders; the demo data is
loaded once (tests/conftest.py) and every example reads it through the Django test client.
Hypothesis is derandomized (the same examples on every run and in CI) and keeps no database.
"""

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote, unquote_to_bytes

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.encoding import repercent_broken_unicode
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import PLAN, TEST_PROFILE

# A fifth in the dev profile. Every route reaches its normal path, which the test demands, at 40 examples
# already: one example in eight is a valid request (requests() below).
FUZZ_EXAMPLES = int(os.environ.get("PEACEPLANS_FUZZ_EXAMPLES") or (1000 if TEST_PROFILE == "ci" else 200))
FUZZ = hypothesis_settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---- Valid values, from the demo data ----

REVISIONS = [
    "us-28-point-draft",
    "e3-counter-proposal",
    "europe-24-point-telegraph",
    "us-ukraine-geneva-framework",
    "berlin-joint-statement",
]
PARTIES = ["us", "ukraine", "europe", "russia"]
POINTS = ["1", "6", "7", "10a", "24d", "28", "europe-24-point-telegraph-7"]
TOPICS = ["sovereignty", "nato", "military-limits", "territory", "frozen-assets", "other"]
POSITIONS = ["supports", "opposes", "conditional", "proposes-amendment", "unclear"]
WORDS = ["army", "600,000", "NATO", "Russia's", "армія", "Росії", "ceasefire zone", "z"]
SORTS = ["key", "-key", "title", "-title", "topic", "-topic", *PARTIES, *(f"-{p}" for p in PARTIES)]
PAGES = ["1", "2"]
PARTS = ["1", "2", "3"]  # the compare and party pages' parts (web/parts.py)
PER_PAGE = ["1", "10", "30", "100", "200"]
POINT_LISTS = ["6", "6,7", "6,7,28", "10a,24d"]
REVISION_LISTS = ["us-28-point-draft", "us-28-point-draft,e3-counter-proposal"]
HOST = "http://testserver"
OEMBED_URLS = [
    f"{HOST}/plans/{PLAN}/points/6/",
    f"{HOST}/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal",
    f"{HOST}/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal#point-6",
    f"{HOST}/embed/plans/{PLAN}/points/6/?revisions=us-28-point-draft",
    f"{HOST}/embed/plans/{PLAN}/compare/?points=6,7",
    f"https://testserver/plans/{PLAN}/points/7/",
    f"{HOST}/plans/{PLAN}/",
    "https://example.org/plans/x/points/6/",
    "javascript:alert(1)",
    f"/plans/{PLAN}/points/6/",
    "http://user@testserver/plans/x/",
    "http://testserver:99999/",
]

# ---- Values a reader, a program or an attacker might send instead ----

NUMBERS = [
    "0",
    "-0",
    "-1",
    "-5",
    "+1",
    "1.0",
    "1.5",
    "1e3",
    "1E2",
    "0x10",
    "010",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999999999",
    "100000000",
    "101",
    "201",
    "10001",
    "NaN",
    "inf",
    "-inf",
    "١٢",  # Arabic-Indic digits: str.isdigit() says yes, int() agrees, isascii() does not
    "²",  # superscript two: isdigit() says yes, int() raises
    "1_000",
    " 10 ",
    "10\n",
    "½",
]
# Already percent-encoded, inserted into the query as they are.
RAW = [
    "%00",
    "a%00b",
    "%ED%A0%80",  # a lone surrogate (U+D800) as UTF-8
    "%ED%BF%BF",
    "%C0%80",  # overlong NUL
    "%C0%AF",  # overlong slash
    "%E0%80%AF",
    "%F4%90%80%80",  # past U+10FFFF
    "%FF%FE",
    "%",
    "%2",
    "%zz",
    "%%",
    "%25%30%30",
    "+",
    "%2B",
    "%0A%0D",
    "%E2%80%AE",  # right-to-left override
    "%EF%BB%BF",  # byte-order mark
    "%F0%9F%95%8A%EF%B8%8F",  # 🕊️
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    "'%20OR%201%3D1%20--",
    "..%2F..%2Fetc%2Fpasswd",
    "a%26b%3Dc",
    "%5B%5D",
]
HOSTILE_TEXT = [
    "",
    " ",
    "\t",
    "'",
    '"',
    "\\",
    "'; DROP TABLE peaceplans_point; --",
    "<script>alert(1)</script>",
    'hx-get="/admin/"',
    "{{ request }}",
    "{% debug %}",
    "${7*7}",
    "%s%s%s",
    "../../",
    "null",
    "undefined",
    "true",
    "[]",
    "{}",
    "\u202e\u200b",
    "𝕬",
    "ﬁ",
    "I\u0307",
    "ß",
    "İ",
    "\ud800",  # a lone surrogate: percent-encoded as %ED%A0%80 by surrogatepass
    "\x7f",
    "\x1b[31m",
]
POISON = ["%00", "a%00", "%00%00", "%ED%A0%80%00", "x" * 4100, "%F0%9F%95%8A" * 400]
UNKNOWN_KEYS = ["utm_source", "fbclid", "_", "callback", "format", "a[]", "page[size]", "", "=", "__proto__"]


# The strategies below are built once per distinct argument (functools.cache) and reused by every
# example: the same strategies draw the same examples, but Hypothesis no longer re-validates a fresh
# strategy object at each draw, which cost more than half of each example's time.


@cache
def near(valid: str) -> st.SearchStrategy[str]:
    """Variants of a valid value that are almost right."""
    return st.sampled_from(
        [
            valid.upper(),
            valid.title(),
            f" {valid}",
            f"{valid} ",
            f"{valid}/",
            f"{valid},",
            valid[:-1],
            valid + valid[-1:],
            valid.replace("-", "_"),
            valid.replace("-", " "),
            f"-{valid}",
            f"{valid}\x00",
            valid * 3,
        ]
    )


def plain(values) -> st.SearchStrategy[tuple[str, bool]]:
    """(value, False): a value still to be percent-encoded."""
    return choice(values).map(lambda v: (v, False))


def choice(values) -> st.SearchStrategy:
    """st.sampled_from(values), the same strategy object for the same values."""
    return _choice(tuple(values))


@cache
def _choice(values: tuple) -> st.SearchStrategy:
    return st.sampled_from(values)


VALUE_KINDS = 7


def value_for(valid: list[str]) -> st.SearchStrategy[tuple[str, bool]]:
    """One parameter value as (text, already encoded?): valid twice as often as each other kind."""
    return _value_for(tuple(valid))


@cache
def _value_for(valid: tuple[str, ...]) -> st.SearchStrategy[tuple[str, bool]]:
    return st.one_of(
        plain(valid),
        plain(valid),
        st.sampled_from(valid).flatmap(near).map(lambda v: (v, False)),
        plain(NUMBERS),
        st.sampled_from(RAW).map(lambda v: (v, True)),
        plain(HOSTILE_TEXT),
        st.text(max_size=30).map(lambda v: (v, False)),
        # Long enough to pass the query limit now and then (4,096 bytes; up to 12 a character).
        st.text(min_size=200, max_size=500).map(lambda v: (v, False)),
    )


def encode(value: tuple[str, bool]) -> str:
    text, raw = value
    return text if raw else quote(text.encode("utf-8", "surrogatepass"), safe="")


@dataclass
class Route:
    """How to fuzz one route: its path with {segments}, the segments' valid values, the parameters it reads."""

    path: str
    params: dict[str, list[str]] = field(default_factory=dict)
    segments: dict[str, list[str]] = field(default_factory=dict)
    normal: int = 200  # what the view answers a valid request with


SEGMENTS = {"plan": [PLAN], "point": POINTS, "revision": REVISIONS, "party": PARTIES}
MATRIX = {
    "on": ["latest", *REVISIONS],
    "topic": TOPICS,
    "party": PARTIES,
    "position": POSITIONS,
    "q": WORDS,
    "sort": SORTS,
    "page": PAGES,
    "per_page": PER_PAGE,
}
COMPARE = {"a": REVISIONS, "b": REVISIONS, "view": ["side", "inline"], "changes": ["all", "only"]}
API_PAGES = {"page": PAGES, "per_page": PER_PAGE}
P = "/plans/{plan}"
API = "/api/v1/plans/{plan}"

# Every public route by its name in peaceplans/urls.py (the API's catch-all has none: "api_v1_other").
ROUTES = {
    "home": Route("/", MATRIX),
    "plan_detail": Route(f"{P}/", MATRIX),
    "plan_matrix_csv": Route(f"{P}/matrix.csv", MATRIX),
    "compare": Route(f"{P}/compare/", {**COMPARE, "part": PARTS}),
    "point_detail": Route(f"{P}/points/{{point}}/", {"against": REVISIONS}),
    "point_party_stances": Route(f"{P}/points/{{point}}/stances/{{party}}/"),
    "revision_detail": Route(f"{P}/revisions/{{revision}}/"),
    "party_detail": Route(f"{P}/parties/{{party}}/", {"part": PARTS}),
    "timeline": Route(f"{P}/timeline/", {"party": PARTIES}),
    "change_log": Route(f"{P}/changes/"),
    "source_list": Route("/sources/", {"page": ["1"], "source": ["1", "60", "123"]}),
    "search": Route("/search/", {"q": WORDS, "plan": [PLAN]}),
    "timeline_csv": Route(f"{P}/timeline.csv", {"party": PARTIES}),
    "compare_csv": Route(f"{P}/compare.csv", COMPARE),
    "wording_csv": Route(f"{P}/points/{{point}}/wording.csv", {"against": REVISIONS}),
    "stances_csv": Route(f"{P}/points/{{point}}/stances.csv"),
    "clauses_csv": Route(f"{P}/revisions/{{revision}}/clauses.csv"),
    "positions_csv": Route(f"{P}/parties/{{party}}/positions.csv"),
    "changes_csv": Route(f"{P}/changes.csv"),
    "sources_csv": Route("/sources.csv"),
    "feed_plan": Route("/feeds/plans/{plan}/"),
    "feed_point": Route("/feeds/plans/{plan}/points/{point}/"),
    "feed_party": Route("/feeds/plans/{plan}/parties/{party}/"),
    "plan_dataset": Route(f"{P}/dataset.json"),
    "api_docs": Route("/api/"),
    "api_index": Route("/api/v1/"),
    "api_openapi": Route("/api/v1/openapi.json"),
    "api_parties": Route("/api/v1/parties/", API_PAGES),
    "api_party": Route("/api/v1/parties/{party}/"),
    "api_plans": Route("/api/v1/plans/", API_PAGES),
    "api_plan": Route(f"{API}/"),
    "api_revisions": Route(f"{API}/revisions/", API_PAGES),
    "api_revision": Route(f"{API}/revisions/{{revision}}/"),
    "api_points": Route(f"{API}/points/", API_PAGES),
    "api_point": Route(f"{API}/points/{{point}}/"),
    "api_stances": Route(f"{API}/stances/", {"party": PARTIES, "point": POINTS, "position": POSITIONS, **API_PAGES}),
    "api_events": Route(f"{API}/events/", {"party": PARTIES, **API_PAGES}),
    "api_v1_other": Route("/api/v1/{rest}", segments={"rest": ["nothing/", "plans/x/y/z/", "parties"]}, normal=404),
    "embed_point": Route("/embed/plans/{plan}/points/{point}/", {"revisions": REVISION_LISTS}),
    "embed_compare": Route("/embed/plans/{plan}/compare/", {**COMPARE, "points": POINT_LISTS}),
    "oembed": Route(
        "/oembed/",
        {"url": OEMBED_URLS, "format": ["json", "xml"], "maxwidth": ["1", "640", "10000"], "maxheight": ["400"]},
    ),
    "healthz": Route("/healthz", {"part": ["database", "cache"]}),  # its cache check needs a cache that stores (below)
}
ALL_PARAMS = sorted({name for route in ROUTES.values() for name in route.params})
ALLOWED = {200, 301, 302, 400, 404}


def public_route_names() -> set[str]:
    """Every route of the URLconf outside the admin, by name (the unnamed API catch-all as api_v1_other)."""
    names = set()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            assert str(entry.pattern) == "admin/", f"an unexpected include: {entry.pattern}"
            continue
        assert isinstance(entry, URLPattern)
        names.add(entry.name or ("api_v1_other" if str(entry.pattern) == "^api/v1/" else str(entry.pattern)))
    return names


TIMES = st.sampled_from([0, 0, 1, 1, 1, 2])
EXTRA_KEYS = st.lists(st.one_of(st.sampled_from(UNKNOWN_KEYS + ALL_PARAMS), st.text(max_size=12)), max_size=2)
MALFORMED = st.sampled_from(["", "&", "&&", "=", "a", "a=1=2", ";", "?"])


@st.composite
def requests(draw, route: Route) -> tuple[str, str, bool]:
    """(path, query string, HX-Request?) for one example."""
    # One example in eight is a request a reader's browser could send: every segment and every
    # parameter present valid, nothing else. Without it, a page that reads eight parameters and
    # refuses any bad one (the overview) got all of them right in about one example in 250, so
    # whether the run reached the view's normal path at all was luck (the dev profile's 200
    # examples did not, for the overview and its CSV).
    valid_only = draw(st.integers(0, 7)) == 0
    fill = {}
    for name in sorted(set(route.segments) | {n for n in SEGMENTS if f"{{{n}}}" in route.path}):
        valid = route.segments.get(name) or SEGMENTS[name]
        # Mostly valid: a wrong segment is a 404 before the query is read at all.
        if valid_only or draw(st.integers(0, 3)):
            fill[name] = quote(draw(choice(valid)), safe="/")
        else:
            fill[name] = encode(draw(value_for(valid)))
    path = route.path.format(**fill)
    pairs = []
    for name, valid in route.params.items():
        if valid_only:
            pairs += [(quote(name), encode(draw(plain(valid))))] if draw(st.booleans()) else []
            continue
        times = draw(TIMES)  # absent, once (mostly) or repeated
        pairs += [(quote(name), encode(draw(value_for(valid)))) for _ in range(times)]
    if valid_only:
        return path, "&".join(f"{key}={value}" for key, value in pairs), draw(st.booleans())
    extra = draw(EXTRA_KEYS)
    pairs += [(quote(key.encode("utf-8", "surrogatepass"), safe=""), encode(draw(value_for(["1"])))) for key in extra]
    # Something every route refuses before its view (a NUL, an over-long value): in a quarter of the
    # examples, and in three quarters where the view reads no parameter and would only render its
    # page again with the junk ignored; each example costs what the page costs, and a run has budget.
    if draw(st.integers(0, 3)) < (3 if not route.params else 1):
        key = draw(choice([*route.params, *UNKNOWN_KEYS, "%00", "a%00"]))
        pairs.append((quote(key, safe="%"), draw(choice(POISON))))
    pairs = draw(st.permutations(pairs))
    query = "&".join(f"{key}={value}" for key, value in pairs)
    if draw(st.integers(0, 9)) == 0:  # the odd malformed shape: a bare key, a stray separator
        query = draw(MALFORMED) + query
    return path, query, draw(st.booleans())


def path_bytes(path: str) -> int:
    """The path's length as the limits middleware counts it: as Django decodes PATH_INFO, in UTF-8."""
    return len(repercent_broken_unicode(unquote_to_bytes(path)).decode().encode("utf-8", "surrogatepass"))


def check_body(response, htmx: bool) -> None:
    """
    An error is the site's page (an HTMX request may get the page's region instead), the API's
    JSON, or an export's plain-text reason; never a traceback.
    """
    content = response.content
    assert b"Traceback" not in content and b'File "/' not in content
    kind = response.get("Content-Type", "")
    if response.status_code in (301, 302):
        return
    if kind.startswith("text/html"):
        if response.status_code >= 400 and not htmx:
            assert content.lstrip().lower().startswith(b"<!doctype html>") and b"</html>" in content
        assert content.strip()
    elif kind.startswith("application/json"):
        assert isinstance(json.loads(content), dict)
        if response.status_code >= 400:
            assert set(json.loads(content)) == {"error"}
    elif kind.startswith("text/plain"):
        assert content.strip()
    else:
        assert response.status_code == 200, kind  # a CSV or an Atom feed is only ever a success


@pytest.fixture
def fuzz_client(client, settings, db):
    """Every example renders: no page cache, no cache at all (the dummy one stores nothing)."""
    settings.PAGE_CACHE_SECONDS = 0
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    return client


def test_every_public_route_is_fuzzed():
    """A new route in peaceplans/urls.py must get an entry in ROUTES."""
    assert public_route_names() == set(ROUTES)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_route_templates_name_their_routes(name):
    """Each template, with valid segments, resolves to the route it fuzzes."""
    route = ROUTES[name]
    fill = {key: (route.segments.get(key) or SEGMENTS[key])[0] for key in [*SEGMENTS, *route.segments]}
    match = resolve(route.path.format(**fill))
    assert (match.url_name or "api_v1_other") == name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_hostile_query_strings_get_only_the_documented_statuses(fuzz_client, name, settings):
    route = ROUTES[name]
    if name == "healthz":  # the dummy cache stores nothing, so /healthz would rightly report it broken (503)
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    statuses = Counter()

    @FUZZ
    @given(requests(route))
    def run(example):
        path, query, htmx = example
        headers = {"HX-Request": "true"} if htmx else {}
        response = fuzz_client.generic("GET", path, QUERY_STRING=query, headers=headers)
        statuses[response.status_code] += 1
        over = len(query) > settings.MAX_QUERY_STRING_BYTES or path_bytes(path) > settings.MAX_PATH_BYTES
        if over:
            assert response.status_code == 414, (path, query[:200], response.status_code)
        elif name == "oembed" and response.status_code == 501:
            assert "format=" in query and response.content == b"Only format=json is available.\n"
        else:
            assert response.status_code in ALLOWED, (path, query, response.status_code)
        check_body(response, htmx)

    run()
    assert sum(statuses.values()) >= FUZZ_EXAMPLES * 0.9, statuses
    assert statuses[route.normal] > 0, f"the fuzzer never reached the view's normal path: {statuses}"
    assert statuses.keys() & {400, 404} - {route.normal}, f"the fuzzer never reached a refusal: {statuses}"
    print(f"\n{name}: {sum(statuses.values())} examples, {dict(sorted(statuses.items()))}")
