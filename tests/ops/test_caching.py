"""
The page cache and HTTP caching (peaceplans/ops/dataversion.py, peaceplans/ops/pagecache.py), on a
fresh local-memory cache per test: hits, exact invalidation by the data version, editors
and the admin never cached, ETag / Last-Modified with 304, Vary, and errors.

Then the page cache on Redis, as several app servers share it (REDIS_URL): a throwaway
redis-server on a free loopback port, started once per worker for those tests and stopped by its PID
(marked `servers`). Skipped, with the reason, when redis-server is not installed
(`apt-get install redis-server`).
"""

import copy
import json
import shutil
import subprocess
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from peaceplans.models import Clause, DataVersion, Event, Party, Point, Source, Stance, Topic
from peaceplans.ops import dataversion, pagecache
from tests.editing.test_editors import PASSWORD, change_form_data, make_editor
from tests.stack import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache_on")]

PLAN = "russia-ukraine-2025"
US, E3 = "us-28-point-draft", "e3-counter-proposal"
OVERVIEW = f"/plans/{PLAN}/"
COMPARE = f"/plans/{PLAN}/compare/?a={US}&b={E3}"
POINT = f"/plans/{PLAN}/points/6/"
HTMX = {"HX-Request": "true"}
# Every kind of public read a clause of point 6 appears in: page, fragment, API, feed, CSV, embed.
SHOWS_THE_CLAUSE = [
    COMPARE,
    POINT,
    f"/api/v1/plans/{PLAN}/points/6/",
    f"/feeds/plans/{PLAN}/points/6/",
    f"/plans/{PLAN}/points/6/wording.csv",
    f"/plans/{PLAN}/compare.csv?a={US}&b={E3}",
    f"/embed/plans/{PLAN}/points/6/",
]
# Where the latest Russian stance on point 6 shows (the overview's matrix cell names its speaker).
SHOWS_THE_STANCE = [
    OVERVIEW,
    POINT,
    f"/api/v1/plans/{PLAN}/stances/?party=russia&point=6",
    f"/feeds/plans/{PLAN}/parties/russia/",
    f"/plans/{PLAN}/points/6/stances.csv",
    f"/plans/{PLAN}/matrix.csv",
]


def get(client, url, **headers):
    return client.get(url, headers=headers)


def text(response) -> str:
    return response.content.decode("utf-8-sig")


def old_version():
    """Date the current version two minutes back, so Last-Modified is sent (see pagecache.set_last_modified)."""
    DataVersion.objects.filter(pk=1).update(changed_at=timezone.now() - timedelta(minutes=2))


def assert_served_from_cache(client, urls, *, absent: str):
    """Each address renders once, then comes from the cache with the version read as its only query."""
    for url in urls:
        first = get(client, url)
        assert first.status_code == 200 and first["X-Page-Cache"] == "miss", url
        with CaptureQueriesContext(connection) as queries:
            again = get(client, url)
        assert again["X-Page-Cache"] == "hit", url
        assert len(queries) == 1 and "peaceplans_dataversion" in queries[0]["sql"], url
        assert again.content == first.content and absent not in text(again), url


def assert_fresh(client, urls, *, present: str):
    for url in urls:
        response = get(client, url)
        assert response["X-Page-Cache"] == "miss", url
        assert present in text(response), url


def edit_clause_in_the_admin(editor_client, wording: str) -> None:
    """An editor changes the US draft's point 6 through the real admin change form."""
    clause = Clause.objects.get(revision__slug=US, point__key="6")
    url = reverse("admin:peaceplans_clause_change", args=[clause.pk])
    data = change_form_data(editor_client, url) | {"text": wording}
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors


def latest_russian_stance_on_six() -> Stance:
    return Stance.objects.filter(point__key="6", party__slug="russia").order_by("stated_on", "pk").last()


def edit_stance_in_the_admin(editor_client, speaker: str) -> None:
    stance = latest_russian_stance_on_six()
    url = reverse("admin:peaceplans_stance_change", args=[stance.pk])
    data = change_form_data(editor_client, url) | {"speaker": speaker, "summary": f"Said by {speaker}."}
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors


# ---- Hits, and exact invalidation ----


def test_a_repeat_anonymous_request_is_served_from_the_cache_with_one_query(client):
    """The second request runs no view: one query (the data version) and the same bytes."""
    assert_served_from_cache(
        client, [COMPARE, f"/api/v1/plans/{PLAN}/", f"/plans/{PLAN}/dataset.json"], absent="777,777"
    )


def test_a_miss_costs_the_views_queries_plus_the_version(client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as uncached:
        get(client, POINT)
    settings.PAGE_CACHE_SECONDS = 3600
    with CaptureQueriesContext(connection) as miss:
        response = get(client, POINT)
    assert response["X-Page-Cache"] == "miss"
    assert len(miss) == len(uncached) + 1
    assert "peaceplans_dataversion" in miss[0]["sql"]


def test_a_clause_edited_in_the_admin_shows_on_the_next_request_everywhere(client, editor_client):
    """Compare, point page, API, feed, both CSVs and the embed: cached, then fresh right after the save."""
    wording = "Ukraine's armed forces are capped at 777,777 personnel."
    assert_served_from_cache(client, SHOWS_THE_CLAUSE, absent="777,777")
    edit_clause_in_the_admin(editor_client, wording)
    assert_fresh(client, SHOWS_THE_CLAUSE, present="777,777")


def test_a_stance_edited_in_the_admin_shows_on_the_next_request_everywhere(client, editor_client):
    """The overview's matrix cell, the point page, API, party feed and CSVs."""
    assert_served_from_cache(client, SHOWS_THE_STANCE, absent="Mykola Cachetest")
    edit_stance_in_the_admin(editor_client, "Mykola Cachetest")
    assert_fresh(client, SHOWS_THE_STANCE, present="Mykola Cachetest")


def test_the_htmx_fragment_is_fresh_after_an_edit_too(client, editor_client):
    url = f"{POINT}?against={E3}"
    assert "777,777" not in text(get(client, url, **HTMX))
    assert get(client, url, **HTMX)["X-Page-Cache"] == "hit"
    edit_clause_in_the_admin(editor_client, "Capped at 777,777.")
    fragment = get(client, url, **HTMX)
    assert "777,777" in text(fragment) and "<html" not in text(fragment)


def test_an_import_through_the_service_shows_on_the_next_request(client, demo_json, tmp_path):
    """import_revision (services.revisions_import) writes in one transaction: the next request sees it."""
    assert_served_from_cache(client, [COMPARE, POINT], absent="888,888")
    revision = copy.deepcopy(next(r for r in demo_json["revisions"] if r["slug"] == US))  # the fixture is shared
    for point in revision["points"]:
        if point["number"] == "6":
            point["text"] = "The army is capped at 888,888."
    path = tmp_path / "us.json"
    path.write_text(json.dumps(revision), encoding="utf-8")
    call_command("import_revision", str(path), plan=PLAN, verbosity=0)
    assert_fresh(client, [COMPARE, POINT], present="888,888")


def test_a_point_title_changed_with_queryset_update_shows_too(client):
    """Writes that send no signal (update, bulk_create, raw SQL) move the version as well."""
    assert_served_from_cache(client, [OVERVIEW], absent="Army cap (renamed)")
    Point.objects.filter(plan__slug=PLAN, key="6").update(title="Army cap (renamed)")
    assert_fresh(client, [OVERVIEW], present="Army cap (renamed)")


def test_a_restore_from_history_in_the_admin_shows_on_the_next_request(client, editor_client):
    clause = Clause.objects.get(revision__slug=US, point__key="6")
    original = clause.text
    assert "600,000" in original
    edit_clause_in_the_admin(editor_client, "Capped at 777,777.")
    assert "777,777" in text(get(client, POINT))
    record = clause.history.filter(text=original).order_by("history_id").last()
    url = reverse("admin:peaceplans_clause_simple_history", args=[clause.pk, record.history_id])
    data = change_form_data(editor_client, url)
    assert editor_client.post(url, data).status_code == 302
    page = text(get(client, POINT))
    assert "777,777" not in page and "capped at 600,000" in page


# ---- What advances the version ----


def rename(user, first_name: str) -> None:
    """A user's name as the admin changes it (notes show their author's name)."""
    user.first_name = first_name
    user.save()


@pytest.mark.parametrize(
    "write",
    [
        lambda: Source.objects.first().save(),
        lambda: Topic.objects.filter(slug="nato").update(name="NATO (edited)"),
        lambda: Stance.objects.filter(pk=latest_russian_stance_on_six().pk).delete(),
        lambda: Point.objects.get(plan__slug=PLAN, key="6").clauses.first().sources.clear(),
        lambda: Party.objects.bulk_create([Party(slug="un", name="United Nations", short_name="UN", colour="#5b92e5")]),
        lambda: rename(make_editor("named"), "Olena"),
        lambda: Event.objects.filter(plan__slug=PLAN).first().parties.add(Party.objects.get(slug="us")),
        lambda: Clause.objects.filter(pk=Clause.objects.first().pk).update(change_note="edited in bulk"),
        lambda: Source.objects.bulk_update([Source.objects.first()], ["note"]),
        lambda: transaction.atomic()(
            lambda: Topic.objects.filter(slug="nato").update(name="NATO (in a transaction)")
        )(),
        lambda: transaction.atomic()(lambda: Source.objects.first().save())(),
    ],
    ids=[
        "save",
        "update",
        "delete",
        "m2m",
        "bulk_create",
        "a user's name",
        "m2m add",
        "update on a custom queryset",
        "bulk_update",
        "update in a transaction",
        "save in a transaction",
    ],
)
def test_every_kind_of_write_gives_a_new_version(write):
    before = dataversion.current()
    write()
    assert dataversion.current().token != before.token


def test_a_write_no_model_sees_needs_the_documented_hook():
    """
    The narrow gap (docs/architecture.md, "The data version"): a bulk update of another app's
    table, such as auth.User, sends no signal; whoever writes that way calls dataversion.bump().
    """
    editor = make_editor("bulk")
    before = dataversion.current()
    User.objects.filter(pk=editor.pk).update(first_name="Unseen")
    assert dataversion.current() == before
    dataversion.bump()
    assert dataversion.current().token != before.token


def test_reads_and_logins_leave_the_version_alone(client):
    editor = make_editor()
    before = dataversion.current()
    list(Stance.objects.select_related("point")[:5])
    # The real sign-in (axes needs its request): stamps last_login, writes the session and axes' log.
    response = client.post("/admin/login/", {"username": editor.username, "password": PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(pk=editor.pk).last_login is not None
    assert dataversion.current() == before


def test_a_rolled_back_write_brings_back_the_version_it_replaced():
    """Tokens, not counters: the data as it was is named by the token it had."""
    before = dataversion.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        Point.objects.filter(key="6").update(title="Never committed")
        assert dataversion.current() != before
        raise RuntimeError
    assert dataversion.current() == before


def test_without_a_version_row_pages_are_served_uncached_until_the_next_write(client):
    DataVersion.objects.all().delete()
    response = get(client, OVERVIEW)
    assert response.status_code == 200 and response["X-Page-Cache"] == "off"
    assert get(client, OVERVIEW)["X-Page-Cache"] == "off"
    Point.objects.filter(key="6").update(title="Army cap")
    assert dataversion.current() is not None
    assert get(client, OVERVIEW)["X-Page-Cache"] == "miss"


# ---- Editors and the admin ----


def test_editors_never_receive_a_cached_page_and_are_told_not_to_keep_theirs(client, editor_client, monkeypatch):
    """Even when the cache holds this address, an editor's request renders it and stores nothing."""
    assert get(client, POINT)["X-Page-Cache"] == "miss"
    stored = []
    monkeypatch.setattr(pagecache.PageCacheMiddleware, "cache_set", lambda self, key, entry: stored.append(key))
    for url in (POINT, f"{POINT}?against={E3}", f"/api/v1/plans/{PLAN}/points/6/", f"/embed/plans/{PLAN}/points/6/"):
        with CaptureQueriesContext(connection) as queries:
            response = get(editor_client, url)
        assert response.status_code == 200 and response["X-Page-Cache"] == "bypass", url
        assert response["Cache-Control"] == "private, no-store", url
        assert len(queries) > 3, url  # the session, the user and the view's own
    assert stored == []


def test_an_editor_sees_their_edit_at_once_while_readers_had_it_cached(client, editor_client):
    assert get(client, POINT)["X-Page-Cache"] == "miss"
    edit_clause_in_the_admin(editor_client, "Capped at 777,777.")
    assert "777,777" in text(get(editor_client, POINT))


def test_the_admin_is_never_cached_and_never_kept(client):
    for _ in range(2):
        response = get(client, "/admin/login/")
        assert response.status_code == 200 and response["X-Page-Cache"] == "bypass"
        assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def test_other_methods_pass_through_uncached(client):
    response = client.post(f"/api/v1/plans/{PLAN}/")
    assert response.status_code == 405 and "X-Page-Cache" not in response


# ---- HTTP: Cache-Control, Vary, ETag, Last-Modified ----


@pytest.mark.parametrize("url", [OVERVIEW, POINT, f"/plans/{PLAN}/matrix.csv", f"/feeds/plans/{PLAN}/"])
def test_public_pages_may_be_kept_briefly_by_proxies_but_not_for_editors(client, url):
    """A CDN keeps them a minute and serves stale while it revalidates; browsers ask again each time."""
    response = get(client, url)
    assert response["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert response["CDN-Cache-Control"] == "public, max-age=60, stale-while-revalidate=300"
    assert "Cookie" in response["Vary"]


def test_the_api_and_embeds_keep_their_own_cache_policy(client):
    assert get(client, f"/api/v1/plans/{PLAN}/")["Cache-Control"] == "public, max-age=60"
    embed = get(client, f"/embed/plans/{PLAN}/points/6/")
    assert embed["Cache-Control"] == "public, max-age=300" and "Cookie" not in embed.get("Vary", "")


def test_vary_names_hx_request_and_the_history_restore_header(client):
    vary = {v.strip() for v in get(client, POINT)["Vary"].split(",")}
    assert {"HX-Request", "HX-History-Restore-Request", "Cookie"} <= vary


def test_the_full_page_and_its_htmx_fragment_are_cached_apart(client):
    page, fragment = get(client, POINT), get(client, POINT, **HTMX)
    restore = get(client, POINT, **HTMX, **{"HX-History-Restore-Request": "true"})
    assert "<html" in text(page) and "<html" not in text(fragment) and "<html" in text(restore)
    assert {page["X-Page-Cache"], fragment["X-Page-Cache"], restore["X-Page-Cache"]} == {"miss"}
    again = [get(client, POINT), get(client, POINT, **HTMX)]
    assert [r["X-Page-Cache"] for r in again] == ["hit", "hit"]
    assert again[0].content == page.content and again[1].content == fragment.content


def test_gzip_and_plain_answers_are_cached_apart(client):
    plain, packed = get(client, COMPARE), get(client, COMPARE, **{"Accept-Encoding": "gzip"})
    again = get(client, COMPARE, **{"Accept-Encoding": "gzip"})
    assert again["X-Page-Cache"] == "hit" and again["Content-Encoding"] == "gzip"
    assert again.content == packed.content != plain.content
    assert get(client, COMPARE)["X-Page-Cache"] == "hit" and "Content-Encoding" not in get(client, COMPARE)


def test_the_host_is_part_of_the_key(client, settings):
    """Pages carry absolute links (canonical, API urls): another host name is another entry."""
    settings.ALLOWED_HOSTS = ["testserver", "news.example"]
    get(client, f"/api/v1/plans/{PLAN}/")
    other = client.get(f"/api/v1/plans/{PLAN}/", HTTP_HOST="news.example")
    assert other["X-Page-Cache"] == "miss" and "http://news.example/" in text(other)


def test_a_new_day_is_a_new_entry(client, monkeypatch):
    """Citations say "Accessed <today>": yesterday's page is not served today."""
    get(client, POINT)
    tomorrow = timezone.localdate() + timedelta(days=1)
    monkeypatch.setattr(pagecache.timezone, "localdate", lambda: tomorrow)
    assert get(client, POINT)["X-Page-Cache"] == "miss"


def test_if_none_match_gives_304_from_the_cache(client):
    first = get(client, COMPARE)
    etag = first["ETag"]
    assert etag.startswith('W/"')  # gzipped and plain answers share it
    for header in (etag, f'"other", {etag}', etag.removeprefix("W/"), "*"):
        response = get(client, COMPARE, **{"If-None-Match": header})
        assert response.status_code == 304 and response.content == b"", header
        assert response["ETag"] == etag and response["Cache-Control"] == first["Cache-Control"]
        assert response["CDN-Cache-Control"] == first["CDN-Cache-Control"]
        assert "HX-Request" in response["Vary"]
    assert get(client, COMPARE, **{"If-None-Match": '"stale"'}).status_code == 200


def test_the_etag_is_the_same_for_every_rendering_and_encoding_of_a_version(client):
    """Another server (or this one after an eviction) and a gzipped answer give the same tag."""
    plain = get(client, POINT)["ETag"]
    cache.clear()
    packed = get(client, POINT, **{"Accept-Encoding": "gzip"})
    assert packed["X-Page-Cache"] == "miss" and packed["Content-Encoding"] == "gzip"
    assert packed["ETag"] == plain
    assert get(client, POINT, **HTMX)["ETag"] != plain


def test_if_none_match_gives_304_on_a_miss_too(client):
    """The view runs without the client's conditions, the response is stored, then compared."""
    etag = get(client, POINT)["ETag"]
    cache.clear()  # as on another server, or after an eviction
    response = get(client, POINT, **{"If-None-Match": etag})
    assert response.status_code == 304 and response["X-Page-Cache"] == "miss"
    assert get(client, POINT)["X-Page-Cache"] == "hit"


def test_an_edit_changes_the_etag(client, editor_client):
    etag = get(client, COMPARE)["ETag"]
    edit_clause_in_the_admin(editor_client, "Capped at 777,777.")
    response = get(client, COMPARE, **{"If-None-Match": etag})
    assert response.status_code == 200 and response["ETag"] != etag and "777,777" in text(response)


def test_the_api_304_keeps_its_cors_headers(client):
    url = f"/api/v1/plans/{PLAN}/points/6/"
    etag = get(client, url)["ETag"]
    response = get(client, url, **{"If-None-Match": etag})
    assert response.status_code == 304 and response["Access-Control-Allow-Origin"] == "*"


def test_if_modified_since_gives_304_until_the_data_changes(client):
    old_version()
    last_modified = get(client, POINT)["Last-Modified"]
    response = get(client, POINT, **{"If-Modified-Since": last_modified})
    assert response.status_code == 304 and response["Last-Modified"] == last_modified
    Point.objects.filter(key="6").update(title="Army cap, edited")
    assert get(client, POINT, **{"If-Modified-Since": last_modified}).status_code == 200


def test_last_modified_is_when_the_data_last_changed_and_left_out_in_the_second_after_an_edit(client):
    old_version()
    changed_at = dataversion.current().changed_at
    feed = get(client, f"/feeds/plans/{PLAN}/")  # the feed's own guess is replaced by the version's time
    assert feed["Last-Modified"] == changed_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    dataversion.bump()
    assert "Last-Modified" not in get(client, POINT)
    time.sleep(1.1)
    assert "Last-Modified" in get(client, POINT)


# ---- Errors and what is never stored ----


def test_a_404_is_cached_until_the_point_is_created(client, plan):
    url = f"/plans/{PLAN}/points/99/"
    assert get(client, url).status_code == 404
    again = get(client, url, **{"If-None-Match": "*"})
    assert again.status_code == 404 and again["X-Page-Cache"] == "hit" and "ETag" not in again
    Point.objects.create(plan=plan, key="99", title="New point", topic=Topic.objects.first(), sort_order=99_000)
    assert get(client, url).status_code == 200


def test_a_400_keeps_its_message_is_never_stored_and_does_not_touch_the_good_address(client):
    """A refused value is rendered each time (issue 19, item 6: scanners invent them endlessly), never kept."""
    bad = f"/plans/{PLAN}/compare/?a={US}&view=sideways"
    for _ in range(2):
        response = get(client, bad)
        assert response.status_code == 400 and "view" in text(response)
        assert response["X-Page-Cache"] == "miss" and "s-maxage=60" in response["Cache-Control"]
    assert get(client, f"/plans/{PLAN}/compare/?a={US}").status_code == 200


def test_head_is_answered_like_get_and_kept_under_its_own_key(client):
    """Pages answer GET and HEAD (require_safe); a HEAD never gets a stored GET body or the reverse."""
    page = get(client, OVERVIEW)
    first, second = client.head(OVERVIEW), client.head(OVERVIEW)
    assert (first.status_code, first["X-Page-Cache"]) == (200, "miss")
    assert (second.status_code, second["X-Page-Cache"]) == (200, "hit")
    assert second["ETag"] == page["ETag"] and second["Content-Type"] == page["Content-Type"]


def test_a_405_is_not_cached(client):
    """Other methods pass the cache by: a POST to a page is 405 every time, and nothing is stored."""
    for _ in range(2):
        response = client.post(OVERVIEW)
        assert response.status_code == 405 and "X-Page-Cache" not in response
    assert get(client, OVERVIEW)["X-Page-Cache"] == "miss"


@pytest.mark.parametrize(
    "response, reason",
    [
        (HttpResponse("x", status=500), "a server error"),
        (HttpResponse("x", status=405), "a 405"),
        (StreamingHttpResponse(iter([b"x"])), "a stream"),
        (HttpResponse("x", headers={"Cache-Control": "private"}), "marked private"),
        (HttpResponse("x", headers={"Cache-Control": "no-cache"}), "marked no-cache"),
        (HttpResponse("x", headers={"Vary": "Accept-Language"}), "a Vary the key does not hold"),
        (HttpResponse("x", headers={"Content-Security-Policy": "script-src 'nonce-abc'"}), "a CSP nonce"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_responses_that_differ_by_reader_or_may_not_be_kept_are_not_stored(rf, response, reason):
    assert not pagecache.storable(rf.get("/"), response), reason


def test_a_response_that_sets_a_cookie_is_never_stored(rf):
    response = HttpResponse("x")
    response.set_cookie("csrftoken", "secret")
    assert not pagecache.storable(rf.get("/"), response)
    pagecache.public_headers(response)
    assert response["Cache-Control"] == "private, no-store"


def test_a_response_varying_on_cookie_is_stored_only_for_a_request_without_cookies(rf):
    response = HttpResponse("x", headers={"Vary": "Cookie"})
    assert pagecache.storable(rf.get("/"), response)
    with_cookie = rf.get("/")
    with_cookie.COOKIES["theme"] = "dark"
    assert not pagecache.storable(with_cookie, response)


def test_when_the_cache_fails_pages_are_served_fresh_and_uncached(client, editor_client, monkeypatch):
    class Down:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache down")

        set = get

    monkeypatch.setattr(pagecache, "cache", Down())
    assert get(client, POINT).status_code == 200
    edit_clause_in_the_admin(editor_client, "Capped at 777,777.")
    response = get(client, POINT)
    assert response.status_code == 200 and "777,777" in text(response)


def test_pages_carry_no_csp_nonce(client):
    """A nonce in a cached page would be replayed to every reader: scripts are files from 'self'."""
    response = get(client, POINT)
    assert "nonce" not in response["Content-Security-Policy"] and "nonce" not in text(response)


# ---- the page cache on Redis ----

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def redis_settings(port: int) -> dict:
    """What settings.py builds from REDIS_URL=redis://127.0.0.1:<port>/0, with a prefix of this run's own."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": f"peaceplans-test-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }


@pytest.fixture(scope="module")
def redis_port():
    if not shutil.which(REDIS_SERVER):
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
    server = subprocess.Popen([REDIS_SERVER, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None:
                    pytest.fail(f"redis-server exited with {server.returncode}")
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not answer within 5 s")
        yield port
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def on_redis(settings, redis_port):
    """The page cache in Redis for this test; returns a client to look inside it."""
    settings.CACHES = redis_settings(redis_port)
    settings.PAGE_CACHE_SECONDS = 3600
    cache.clear()
    inside = redis.Redis(port=redis_port)
    yield inside
    inside.close()


@pytest.mark.servers
def test_an_admin_edit_shows_on_the_next_request_with_redis(client, editor_client, on_redis):
    wording = "Ukraine's armed forces are capped at 777,777 personnel."
    assert_served_from_cache(client, SHOWS_THE_CLAUSE, absent="777,777")
    edit_clause_in_the_admin(editor_client, wording)
    assert_fresh(client, SHOWS_THE_CLAUSE, present="777,777")


@pytest.mark.servers
def test_pages_are_stored_in_redis_under_the_data_version(client, on_redis):
    get(client, POINT)
    token = dataversion.current().token
    keys = [key.decode() for key in on_redis.keys("*")]
    assert any(f":page:{token}:" in key for key in keys), keys


@pytest.mark.servers
def test_a_second_server_serves_what_the_first_stored_and_both_see_an_edit(on_redis, editor_client):
    """Two app servers (two handlers, each its own middleware) share one Redis and one database."""
    first, second = Client(), Client()
    assert get(first, POINT)["X-Page-Cache"] == "miss"
    assert get(second, POINT)["X-Page-Cache"] == "hit"
    edit_clause_in_the_admin(editor_client, "Capped at 777,777.")
    for server in (second, first):
        assert "777,777" in text(get(server, POINT))


@pytest.mark.servers
def test_a_flushed_redis_means_a_miss_never_stale_data(client, on_redis):
    assert_served_from_cache(client, [OVERVIEW], absent="777,777")
    on_redis.flushall()
    response = get(client, OVERVIEW)
    assert response.status_code == 200 and response["X-Page-Cache"] == "miss"


def test_when_redis_is_down_pages_are_served_fresh_and_uncached(client, editor_client, settings):
    """A cache nobody answers on: no 500, no wait beyond the socket timeout, and an edit shows at once."""
    settings.CACHES = redis_settings(free_port())
    settings.PAGE_CACHE_SECONDS = 3600
    started = time.monotonic()
    assert get(client, POINT).status_code == 200
    edit_clause_in_the_admin(editor_client, "Capped at 777,777.")
    response = get(client, POINT)
    assert response.status_code == 200 and "777,777" in text(response)
    assert time.monotonic() - started < 10
