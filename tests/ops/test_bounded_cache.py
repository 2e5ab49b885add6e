"""
A bounded page cache (issue 19, item 6; peaceplans/ops/pagecache.py, cache_query; web/params.py,
CACHED_QUERIES): only the query strings a page takes are stored, keyed the one way our links write
them. Before, 707 random addresses made 707 Redis keys.

- 1,000 random junk addresses (unknown and repeated parameters, empty values, refused values, numbers
  with leading zeros, paths no view answers, and reordered or re-encoded spellings of addresses
  already stored) add no key, on local memory and on a real redis-server, while canonical addresses
  are still stored and served from the cache;
- every link and GET form on the pages, as a browser follows or submits them, is storable: the
  list of parameters cannot drift from what the pages write without this failing;
- the Redis that `make cluster` starts (tests/stack.py) has a memory limit and evicts the least
  recently used keys.

Runs in about 15 s (two passes of 1,000 requests, most of them rendered).
"""

import random
import string
import uuid
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
import redis as redis_client
from django.core.cache import caches
from django.test import Client, RequestFactory
from django.urls import resolve

from peaceplans.models import Revision
from peaceplans.ops.pagecache import cache_query, resolve_route
from tests import stack

# What is stored does not depend on the database engine: left out of CI's PostgreSQL pass.
pytestmark = [pytest.mark.django_db, pytest.mark.engine_independent]

PLAN = "russia-ukraine-2025"
US, E3 = "us-28-point-draft", "e3-counter-proposal"
JUNK = 1000
# Addresses as our pages link to them: stored, and the second request is a hit.
CANONICAL = [
    f"/plans/{PLAN}/",
    f"/plans/{PLAN}/?party=russia&position=opposes",
    f"/plans/{PLAN}/compare/?a={US}&b={E3}&view=inline&changes=only",
    f"/plans/{PLAN}/points/6/?against={US}",
    "/search/?q=ceasefire",
    f"/api/v1/plans/{PLAN}/stances/?party=russia&point=6",
    "/sources/?page=1",
]
# Cheap to render (1-3 ms), so that a thousand requests take seconds: junk goes to these with odd queries.
TARGETS = [
    "/search/",
    "/oembed/",
    "/api/v1/plans/",
    "/api/v1/parties/",
    f"/api/v1/plans/{PLAN}/",
    f"/api/v1/plans/{PLAN}/revisions/",
]


def word(rng: random.Random, size: int = 8) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=size))


def junk_addresses(rng: random.Random, count: int) -> list[str]:
    """Random addresses no link of ours leads to, in every way one can be made."""
    kinds = [
        lambda: f"{rng.choice(TARGETS)}?{word(rng, 5)}={word(rng)}",  # a parameter no page takes
        lambda: f"/api/v1/plans/?page=1&utm_source={word(rng)}",  # a known one with an unknown one
        lambda: f"/search/?q={word(rng)}&q={word(rng)}",  # a parameter given twice
        lambda: f"/plans/{PLAN}/compare/?a={US}&a={E3}&b={word(rng)}",
        lambda: f"/plans/{PLAN}/compare/?a=&b={E3}",  # empty where no form of ours sends it empty
        lambda: f"/api/v1/plans/{PLAN}/stances/?party=&point={rng.randint(1, 99)}",
        lambda: f"/plans/{PLAN}/compare/?a={US}&view={word(rng)}",  # a refused value: 400
        lambda: f"/api/v1/plans/{PLAN}/stances/?position={word(rng)}",
        lambda: f"/plans/{PLAN}/points/6/?against={word(rng)}",  # a revision that is not there: 404
        lambda: f"/api/v1/parties/?page=0{rng.randint(1, 9)}",  # a number as no link writes it
        lambda: f"/api/v1/plans/?page={rng.randint(10**6, 10**8)}",  # past the last page: a 404 with a query
        lambda: f"/{word(rng)}/{word(rng, 4)}.php",  # a path no view answers
        lambda: f"/plans/{PLAN}/{word(rng)}?{word(rng, 3)}=1",
        lambda: f"/healthz?part=database&{word(rng, 4)}=1",  # never stored, however asked
        # Other spellings of addresses already stored: the same entry, not a new one.
        lambda: f"/plans/{PLAN}/compare/?changes=only&view=inline&b={E3}&a={US}",
        lambda: f"/plans/{PLAN}/?position=opposes&party=russi%61",
        lambda: "/search/?q=cease%66ire",
    ]
    return [rng.choice(kinds)() for _ in range(count)]


def assert_canonical_addresses_are_stored_and_hit(client: Client) -> None:
    for url in CANONICAL:
        first = client.get(url)
        assert first.status_code == 200 and first["X-Page-Cache"] == "miss", (url, first.status_code)
        assert client.get(url)["X-Page-Cache"] == "hit", url


def run_junk(client: Client, count_keys) -> dict:
    """Store the canonical addresses, then send the junk; the key counts and statuses seen."""
    assert_canonical_addresses_are_stored_and_hit(client)
    stored = count_keys()
    statuses: dict[int, int] = {}
    for url in junk_addresses(random.Random(19), JUNK):
        response = client.get(url)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, url
        assert response.get("X-Page-Cache") in (None, "uncached", "miss", "hit"), url
    return {"canonical": stored, "after_junk": count_keys(), "statuses": dict(sorted(statuses.items()))}


def test_a_thousand_junk_addresses_add_no_key_in_local_memory(settings):
    location = f"bounded-{uuid.uuid4()}"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": location}}
    settings.PAGE_CACHE_SECONDS = 3600
    figures = run_junk(Client(), lambda: len(caches["default"]._cache))
    print(
        f"\nlocal memory: keys after {len(CANONICAL)} canonical addresses {figures['canonical']}, after {JUNK} junk "
        f"addresses {figures['after_junk']}; statuses {figures['statuses']}"
    )
    assert figures["canonical"] >= len(CANONICAL)  # each page and its "latest" pointer
    assert figures["after_junk"] == figures["canonical"]


@pytest.fixture(scope="module")
def make_cluster_redis(tmp_path_factory):
    """The Redis `make cluster` starts (tests/stack.py), on a free port; skipped without redis-server."""
    with stack.redis(stack.free_port(), tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.mark.servers
def test_a_thousand_junk_addresses_add_no_key_in_redis(settings, make_cluster_redis):
    prefix = f"bounded-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": make_cluster_redis.url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"CLIENT_CLASS": "peaceplans.ops.breaker.BreakerClient", "SOCKET_TIMEOUT": 1},
        }
    }
    settings.PAGE_CACHE_SECONDS = 3600
    inside = redis_client.Redis(port=make_cluster_redis.port)
    try:
        figures = run_junk(Client(), lambda: len(inside.keys(f"{prefix}:*")))
        used = inside.info("memory")["used_memory"]
    finally:
        inside.close()
    print(
        f"\nRedis: keys after {len(CANONICAL)} canonical addresses {figures['canonical']}, after {JUNK} junk "
        f"addresses {figures['after_junk']}; statuses {figures['statuses']}; used_memory {used / 2**20:.1f} MiB"
    )
    assert figures["canonical"] >= len(CANONICAL)
    assert figures["after_junk"] == figures["canonical"]


@pytest.mark.servers
def test_make_clusters_redis_has_a_memory_limit_and_evicts_the_least_recently_used(make_cluster_redis):
    inside = redis_client.Redis(port=make_cluster_redis.port)
    try:
        assert inside.config_get("maxmemory") == {"maxmemory": str(64 * 1024 * 1024)}
        assert inside.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    finally:
        inside.close()


# ---- which queries are stored, and under which key ----


def query_of(url: str, **headers) -> str | None:
    request = RequestFactory().get(url, headers=headers)
    return cache_query(request, resolve_route(request.path_info))


@pytest.mark.parametrize(
    "url,key",
    [
        (f"/plans/{PLAN}/", ""),
        (f"/plans/{PLAN}/compare/?b={E3}&a={US}", f"a={US}&b={E3}"),  # sorted
        (f"/plans/{PLAN}/compare/?a={US}&b=e3-counter-proposa%6C", f"a={US}&b={E3}"),  # decoded
        (f"/plans/{PLAN}/compare/?topic=nato&topic=energy&a={US}", f"a={US}&topic=energy&topic=nato"),
        (f"/plans/{PLAN}/compare/?a={US}&b={E3}&points=", f"a={US}&b={E3}&points="),  # the form's empty box
        (f"/plans/{PLAN}/?on=latest&topic=&party=&position=&q=", "on=latest&party=&position=&q=&topic="),
        ("/search/?q=800%2C000&plan=", "plan=&q=800%2C000"),
        (f"/plans/{PLAN}/?per_page=100&page=2", "page=2&per_page=100"),
    ],
)
def test_a_query_a_page_takes_is_keyed_sorted_and_decoded(url, key):
    assert query_of(url) == key


@pytest.mark.parametrize(
    "url",
    [
        f"/plans/{PLAN}/?utm_source=x",  # a name the page does not take
        f"/plans/{PLAN}/?party=russia&party=us",  # a single value given twice
        f"/plans/{PLAN}/compare/?topic=nato&topic=nato",  # the same topic twice
        f"/plans/{PLAN}/compare/?a=",  # empty, and no form of ours sends it empty
        f"/plans/{PLAN}/?page=02",
        f"/plans/{PLAN}/?per_page=101",  # shown as 100: the address a link of ours would use is per_page=100
        f"/plans/{PLAN}/?page=-1",
        f"/plans/{PLAN}/revisions/{US}/?anything=1",  # a page that takes no query at all
        "/no/such/page/?q=1",
        "/healthz?part=database",
    ],
)
def test_any_other_query_is_never_stored(url):
    assert query_of(url) is None


def test_what_is_not_stored_is_answered_in_full_and_marked(client, settings):
    settings.PAGE_CACHE_SECONDS = 3600
    for _ in range(2):
        response = client.get(f"/plans/{PLAN}/points/6/?utm_source=newsletter")
        assert response.status_code == 200 and response["X-Page-Cache"] == "uncached"
        assert "Army" in response.content.decode() and "ETag" in response


# ---- every address our pages lead to is one the cache stores ----


class Addresses(HTMLParser):
    """The same-site links (href, hx-get) with a query string, and the GET forms as a browser submits them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self.form: list[tuple[str, str]] | None = None
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in ("href", "hx-get"):
            if a.get(name) and "?" in a[name] and urlsplit(a[name]).netloc in ("", "testserver"):
                self.links.append(a[name])
        if tag == "form" and (a.get("method") or "get").lower() == "get" and a.get("action"):
            self.form = []
            self.forms.append((a["action"], self.form))
        if self.form is None:
            return
        if tag == "input" and a.get("name") and a.get("type", "text") not in ("submit", "button", "reset"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.form.append((a["name"], a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self.select, self.options, self.multiple = a["name"], [], "multiple" in a
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))

    def handle_endtag(self, tag):
        if tag == "select" and self.select and self.form is not None:
            chosen = [value for value, selected in self.options if selected]
            if not chosen and not self.multiple and self.options:
                chosen = [self.options[0][0]]  # a browser sends the first option of a single select
            self.form.extend((self.select, value) for value in chosen)
            self.select = None
        elif tag == "form":
            self.form = None


PAGES = [
    f"/plans/{PLAN}/",
    f"/plans/{PLAN}/?party=russia&sort=-point",
    f"/plans/{PLAN}/compare/?a={US}&b={E3}&topic=nato",
    f"/plans/{PLAN}/points/6/?against={US}",
    f"/plans/{PLAN}/parties/russia/",
    f"/plans/{PLAN}/timeline/?party=russia",
    "/search/?q=ceasefire",
    "/sources/",
]


def test_every_link_and_form_on_the_pages_leads_to_a_stored_address(client):
    if not Revision.objects.filter(slug=US).exists():
        pytest.skip("the demo data is not loaded")
    checked = 0
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        found = Addresses()
        found.feed(response.content.decode())
        addresses = [urlsplit(link) for link in found.links]
        addresses += [urlsplit(f"{action}?{urlencode(fields)}") for action, fields in found.forms if fields]
        for address in addresses:
            path = address.path or urlsplit(page).path
            url = f"{path}?{address.query}"
            route = resolve(path)
            assert route is not None
            assert query_of(url) is not None, f"{url} (on {page}) would not be stored"
            checked += 1
    assert checked > 30, checked
