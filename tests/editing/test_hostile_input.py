"""
Hostile input through every door, checked at every window.

Every string of the corpus (tests/hostile.py: the Big List of Naughty Strings, the OWASP-style
filter-evasion payloads and the htmx payloads, 664 strings) is typed into every field an editor
writes, through the real admin forms (POSTs with the test client, as an editor, CSRF checks on),
each string into a new object of every model, in batches. Then every place those objects come
out is fetched and parsed (html.parser, attributes as a browser decodes them): the full pages,
their HTMX partials, the embeds, the Atom feeds (their type="html" elements parsed as HTML),
the JSON API (its one HTML field, a note's body_html), the CSV exports (no cell a spreadsheet
would run) and the admin's changelists and Markdown preview. The same strings also go through
`import_revision` and the paste import: tests/editing/test_hostile_import.py, with these checkers.

Nothing may survive as markup: no <script> (but the page's own /static/ ones), no on* event
handler, no javascript:/vbscript:/data: URL in a URL attribute, no hx-*/data-hx-* attribute the
page did not have without the data. Input a form refuses gets a form error, not a 500, and
nothing is stored.
"""

import csv
import io
import json
import os
import re
import time
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from peaceplans.models import Annotation, Event, Party, Plan, Point, Revision, Source, Topic
from peaceplans.publish.exports import FORMULA_STARTS

from tests import hostile

PLAN = "russia-ukraine-2025"
ROOT = Path(__file__).resolve().parents[2]
# Every written payload, and every 8th BLNS string: 243 strings, about 2 minutes a batch of 60 on
# SQLite (2 cores). HOSTILE_ALL=1 runs all 664 (about 25 minutes).
CORPUS = (
    hostile.payloads()
    if os.environ.get("HOSTILE_ALL")
    else (*hostile.owasp(), *hostile.htmx(), *[p for p in hostile.payloads() if p.category == "blns"][::8])
)
BATCH = 61
BATCHES = [CORPUS[i : i + BATCH] for i in range(0, len(CORPUS), BATCH)]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset", "ping"}
TRIED = {"admin": 0, "preview": 0, "rejected": 0}  # counts, printed per batch (-s)


# Reading HTML as a browser would


class Parsed(HTMLParser):
    """Every start tag with its attributes, entities decoded."""

    def __init__(self, html: str, path: str = ""):
        super().__init__(convert_charrefs=True)
        self.path = path  # a form's hx-get is often the page's own address: compared as "{path}"
        self.tags: list[tuple[str, list[tuple[str, str]]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, [(name, value or "") for name, value in attrs]))

    handle_startendtag = handle_starttag

    def htmx(self) -> set[tuple[str, str, str]]:
        """htmx attributes as (tag, name, value without its query string): pagination adds page numbers."""
        return {
            (tag, name, value.split("?")[0].replace(self.path, "{path}") if self.path else value.split("?")[0])
            for tag, attrs in self.tags
            for name, value in attrs
            if name.startswith(("hx-", "data-hx-"))
        }


def url_scheme(value: str) -> str | None:
    """The scheme a browser reads: leading controls and spaces dropped, tabs and newlines dropped anywhere."""
    value = re.sub(r"[\t\n\r]", "", re.sub(r"^[\x00-\x20]+", "", value))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", value)
    return match.group(1).lower() if match else None


def problems(html: str, allowed_htmx: set = frozenset(), path: str = "") -> list[str]:
    """What in this HTML could run, navigate to script, or make htmx act: [] when nothing."""
    page, found = Parsed(html, path), []
    for tag, attrs in page.tags:
        if tag == "script" and not dict(attrs).get("src", "").startswith(("/static/", "/admin/jsi18n/")):
            found.append(f"<script {attrs}>")
        for name, value in attrs:
            if re.fullmatch(r"on\w+", name):
                found.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and url_scheme(value) in {"javascript", "vbscript", "data"}:
                found.append(f"<{tag} {name}={value!r}>")
            if name in {"srcdoc", "style"}:
                found.append(f"<{tag} {name}=...>")
    found += [f"htmx attribute {a}" for a in page.htmx() - allowed_htmx]
    return found


def assert_inert(html: str, where: str, baseline: str | None = None, path: str = "", baseline_path: str = ""):
    allowed = Parsed(baseline, baseline_path).htmx() if baseline is not None else set()
    assert problems(html, allowed, path) == [], where


def test_the_checks_catch_what_they_look_for():
    """Each rule fails on the thing it guards against, and passes what the templates write."""
    assert problems('<script src="/static/peaceplans/app.js"></script><p title="<script>">x</p>') == []
    for bad in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="  java\tscript:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<iframe src="data:text/html,x"></iframe>',
        '<svg><a xlink:href="vbscript:x">y</a></svg>',
        '<div hx-get="/admin/" hx-trigger="load">x</div>',
        '<div data-hx-on-click="x">y</div>',
        '<button formaction="javascript:x">y</button>',
    ]:
        assert problems(bad), bad
    assert problems('<form hx-get="/x/">', Parsed('<form hx-get="/x/?page=2">').htmx()) == []


# The corpus


def test_the_corpus_is_whole():
    assert len(hostile.blns()) == 481  # 485 in the file, 4 repeated
    assert len(hostile.owasp()) >= 140 and len(hostile.htmx()) >= 35
    assert len(hostile.payloads()) == 664 and len(CORPUS) == 244
    ids = [p.id for p in CORPUS]
    assert len(ids) == len(set(ids))
    assert {"htmx", "nul", "script", "event-handler", "javascript-url", "data-url", "svg-mathml", "css"} <= set(
        hostile.categories()
    )
    readme = (ROOT / "tests" / "data" / "hostile" / "README.md").read_text()
    assert "MIT License" in readme and "Max Woolf" in readme and "664" in readme


# Editors and their forms


@pytest.fixture
def editor_client(db):
    """An editor (group Editors) signed in; CSRF checked as for a browser, the token taken from the form."""
    editor = User.objects.create_user("hostile-desk", password="unused-0123456789", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    return client


@pytest.fixture
def chief_client(db):
    """Plans, parties and topics are the superuser's to add (migration 0002): a superuser types those."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("hostile-chief", password="unused-0123456789"))
    return client


SUPERUSER_ONLY = {"plan", "party", "topic"}


_skeletons: dict = {}


def form_data(client, url: str, inlines: dict | None = None) -> dict:
    """The add form's CSRF token and inline management forms, with one form per named inline (cached per form)."""
    key = (id(client), url)
    if key not in _skeletons:
        _skeletons[key] = skeleton(client, url)
    data = dict(_skeletons[key])
    for prefix, fields in (inlines or {}).items():
        data[f"{prefix}-TOTAL_FORMS"] = 1
        data.update({f"{prefix}-0-{name}": value for name, value in fields.items()})
    return data


def skeleton(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, url
    data = {"csrfmiddlewaretoken": response.cookies["csrftoken"].value if "csrftoken" in response.cookies else ""}
    if not data["csrfmiddlewaretoken"]:
        data["csrfmiddlewaretoken"] = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()
        )[1]
    for formset in response.context.get("inline_admin_formsets", []):
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    return data


def fit(text: str, limit: int) -> str:
    return text[:limit]


class Probe:
    """Everything the admin forms of one batch refer to."""

    def __init__(self, plan):
        self.plan = plan
        self.point = plan.points.get(key="6")
        self.topic = Topic.objects.first()
        self.party = Party.objects.get(slug="russia")
        self.e3 = Revision.objects.get(plan=plan, slug="e3-counter-proposal")
        self.source = self.e3.sources.first()


def admin_post(clients, model: str, fields: dict, inlines: dict | None = None):
    """POST the add form of `model`; returns the response (302 when saved)."""
    client = clients["chief" if model in SUPERUSER_ONLY else "editor"]
    url = reverse(f"admin:peaceplans_{model}_add")
    data = form_data(client, url, inlines)
    data.update(fields)
    response = client.post(url, data)
    assert response.status_code in (200, 302), (model, response.status_code)
    return response


def saved_or_refused(response, model_class, before: int, where: str) -> bool:
    """True when the form saved; when it refused, a visible error and nothing stored."""
    if response.status_code == 302:
        return True
    html = response.content.decode()
    assert "errornote" in html or "errorlist" in html, f"{where}: refused without saying why"
    assert model_class.objects.count() == before, f"{where}: refused but stored"
    TRIED["rejected"] += 1
    return False


def submit_everywhere(clients, probe: Probe, n: int, text: str) -> dict:
    """The payload into every editor-written field of every model, through the admin's add forms."""
    made = {}
    day = date(2026, 3, 1) + timedelta(days=n)
    one_line = text  # Django strips CharFields' ends; a value of spaces alone is "required" then

    def attempt(model, model_class, fields, inlines=None, retry_fields=None):
        TRIED["admin"] += 1
        before = model_class.objects.count()
        response = admin_post(clients, model, fields, inlines)
        if saved_or_refused(response, model_class, before, f"{model} {text!r}"):
            return model_class.objects.order_by("-pk").first()
        # Refused (empty after stripping, a NUL character, too long...): the same string with a
        # visible prefix and without NUL must then be accepted, so that it is still shown below.
        assert "\x00" in text or not text.strip() or retry_fields, f"{model}: refused {text!r}"
        response = admin_post(clients, model, retry_fields or {}, inlines)
        assert response.status_code == 302, f"{model}: refused the cleaned {text!r}"
        return model_class.objects.order_by("-pk").first()

    def clean(value: str, limit: int) -> str:
        return fit("probe " + value.replace("\x00", ""), limit)

    def both(**limits):
        return {k: fit(one_line, v) for k, v in limits.items()}, {k: clean(one_line, v) for k, v in limits.items()}

    raw, retry = both(title=200, summary=4000)
    made["plan"] = attempt(
        "plan", Plan, {**raw, "slug": f"hostile-plan-{n}"}, retry_fields={**retry, "slug": f"hostile-plan-{n}"}
    )
    raw, retry = both(name=100, short_name=20)
    extra = {"slug": f"hostile-{n}", "colour": "#123456", "sort_order": 100 + n}
    made["party"] = attempt("party", Party, {**raw, **extra}, retry_fields={**retry, **extra})
    raw, retry = both(name=100)
    extra = {"slug": f"hostile-{n}", "sort_order": 100 + n}
    made["topic"] = attempt("topic", Topic, {**raw, **extra}, retry_fields={**retry, **extra})
    raw, retry = both(outlet=200, title=500, via=200, note=300)
    extra = {"url": f"https://example.org/hostile/{n}", "kind": "original-report", "published_on": day.isoformat()}
    extra["citable"] = "on"
    made["source"] = attempt("source", Source, {**raw, **extra}, retry_fields={**retry, **extra})
    raw, retry = both(title=300, summary=4000)
    extra = {"plan": probe.plan.pk, "date": day.isoformat(), "parties": [probe.party.pk], "source": made["source"].pk}
    made["event"] = attempt("event", Event, {**raw, **extra}, retry_fields={**retry, **extra})
    # A revision with one clause (the inline), on the probe point.
    raw, retry = both(title=200, summary=4000, provenance=4000, original_language=50, translation=200)
    extra = {
        "plan": probe.plan.pk,
        "slug": f"hostile-{n}",
        "authors": [probe.party.pk],
        "published_on": day.isoformat(),
        "status": "leaked-draft",
        "sources": [made["source"].pk],
        "public": "on",  # the "published" box, ticked: an unpublished revision is on no public page
    }
    clause = {"number": "1", "point": probe.point.pk, "sort_order": 0, "text": text, "change_note": text}
    clean_clause = {**clause, "text": clean(text, 10_000), "change_note": clean(text, 4000)}
    TRIED["admin"] += 1
    before = Revision.objects.count()
    response = admin_post(clients, "revision", {**raw, **extra}, {"clauses": clause})
    if not saved_or_refused(response, Revision, before, f"revision {text!r}"):
        response = admin_post(clients, "revision", {**retry, **extra}, {"clauses": clean_clause})
        assert response.status_code == 302, f"revision: refused the cleaned {text!r}"
    made["revision"] = Revision.objects.get(plan=probe.plan, slug=f"hostile-{n}")
    # A point with one stance (the inline), on the new revision.
    stance = {
        "party": probe.party.pk,
        "position": "opposes",
        "stated_on": day.isoformat(),
        "revision": made["revision"].pk,
        "summary": text,
        "quote": text,
        "speaker": fit(text, 200),
        "source": made["source"].pk,
    }
    clean_stance = {**stance, "summary": clean(text, 4000), "quote": clean(text, 1000), "speaker": clean(text, 200)}
    extra = {"plan": probe.plan.pk, "key": f"hostile-{n}", "topic": made["topic"].pk, "sort_order": 90_000 + n}
    TRIED["admin"] += 1
    before = Point.objects.count()
    response = admin_post(clients, "point", {"title": fit(text, 120), **extra}, {"stances": stance})
    if not saved_or_refused(response, Point, before, f"point {text!r}"):
        response = admin_post(clients, "point", {"title": clean(text, 120), **extra}, {"stances": clean_stance})
        assert response.status_code == 302, f"point: refused the cleaned {text!r}"
    made["point"] = Point.objects.get(plan=probe.plan, key=f"hostile-{n}")
    # The note, published, on the probe point (shown with the demo's notes) and on the new one.
    for point in (probe.point, made["point"]):
        made["note"] = attempt(
            "annotation",
            Annotation,
            {"point": point.pk, "body": text, "status": "published"},
            retry_fields={"point": point.pk, "body": clean(text, 20_000), "status": "published"},
        )
    return made


# Where it comes out


def fetch(client, url: str, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response


def check_feed(xml: bytes, where: str):
    """Atom: the HTML a reader renders (type="html") is inert; the rest is text and parses as XML."""
    for element in ET.fromstring(xml).iter():  # noqa: S314 (our own feed, in a test)
        if element.get("type") == "html" and element.text:
            assert_inert(element.text, f"{where} <{element.tag}>")


def check_csv(content: bytes, where: str):
    for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))):
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), f"{where}: formula cell {cell!r}"


def check_json(content: bytes, where: str):
    def walk(value, key=""):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key.endswith("_html"):
            assert_inert(value, f"{where} {key}")

    walk(json.loads(content))


def public_urls(probe: Probe, made_list: list[dict]) -> dict[str, list[str]]:
    plan = probe.plan.slug
    first, last = made_list[0], made_list[-1]
    compare = f"/plans/{plan}/compare/?a={first['revision'].slug}&b=e3-counter-proposal"
    pages = [
        "/",
        f"/plans/{plan}/",
        f"/plans/{plan}/?topic={first['topic'].slug}",
        f"/plans/{plan}/points/6/",
        f"/plans/{plan}/parties/russia/",
        f"/plans/{plan}/parties/{first['party'].slug}/",
        f"/plans/{plan}/timeline/",
        f"/plans/{plan}/changes/",
        compare,
        compare + "&view=inline",
        "/sources/",
        "/search/?q=probe",
        f"/plans/{first['plan'].slug}/",
    ]
    for made in made_list:
        pages += [made["revision"].get_absolute_url(), made["point"].get_absolute_url()]
    return {
        "pages": pages,
        "partials": [
            f"/plans/{plan}/?topic={first['topic'].slug}",
            f"/plans/{plan}/points/6/?against={last['revision'].slug}",
            f"/plans/{plan}/points/{first['point'].key}/?against={first['revision'].slug}",
            f"/plans/{plan}/timeline/",
            compare + "&view=inline",
            "/search/?q=probe",
        ],
        "embeds": [
            f"/embed/plans/{plan}/points/6/",
            f"/embed/plans/{plan}/points/{first['point'].key}/",
            f"/embed/plans/{plan}/compare/?a={first['revision'].slug}&b=e3-counter-proposal",
        ],
        "oembed": [f"/oembed/?url=http://testserver/plans/{plan}/points/{first['point'].key}/"],
        "feeds": [
            f"/feeds/plans/{plan}/",
            f"/feeds/plans/{plan}/points/6/",
            f"/feeds/plans/{plan}/points/{first['point'].key}/",
            f"/feeds/plans/{plan}/parties/russia/",
        ],
        "json": [
            "/api/v1/plans/",
            "/api/v1/parties/",
            f"/api/v1/plans/{plan}/",
            f"/api/v1/plans/{plan}/revisions/",
            f"/api/v1/plans/{plan}/revisions/{first['revision'].slug}/",
            f"/api/v1/plans/{plan}/points/",
            f"/api/v1/plans/{plan}/points/6/",
            f"/api/v1/plans/{plan}/points/{first['point'].key}/",
            f"/api/v1/plans/{plan}/stances/",
            f"/api/v1/plans/{plan}/events/",
            f"/plans/{plan}/dataset.json",
        ],
        "csv": [
            f"/plans/{plan}/matrix.csv",
            f"/plans/{plan}/timeline.csv",
            f"/plans/{plan}/compare.csv?a={first['revision'].slug}&b=e3-counter-proposal",
            f"/plans/{plan}/points/6/wording.csv",
            f"/plans/{plan}/points/{first['point'].key}/stances.csv",
            f"/plans/{plan}/revisions/{first['revision'].slug}/clauses.csv",
            f"/plans/{plan}/parties/russia/positions.csv",
            f"/plans/{plan}/changes.csv",
            "/sources.csv",
        ],
    }


ADMIN_LISTS = ["plan", "party", "topic", "source", "event", "revision", "point", "clause", "stance", "annotation"]


def baseline_of(baselines: dict, path: str, htmx: bool = False) -> tuple[str, str]:
    """The demo page of the same kind as `path`, and its address: point pages share point 6's, and so on."""
    plan = f"/plans/{PLAN}/"
    if "/points/" in path:
        key = plan + "points/6/"
    elif "/compare/" in path:
        key = plan + "compare/"
    elif "/revisions/" in path:
        key = plan + "revisions/e3-counter-proposal/"
    elif "/parties/" in path:
        key = plan + "parties/russia/"
    elif path.startswith("/plans/") and path.count("/") == 3:
        key = plan
    else:
        key = path
    return baselines[(key, htmx)], key


def check_everywhere(client, admin_client, made_list, urls, baselines):
    for url in urls["pages"] + [("htmx", url) for url in urls["partials"]]:
        htmx = isinstance(url, tuple)
        url = url[1] if htmx else url
        html = fetch(client, url, **({"HX-Request": "true"} if htmx else {})).content.decode()
        path = url.split("?")[0]
        base, base_path = baseline_of(baselines, path, htmx)
        assert_inert(html, url + (" (HTMX)" if htmx else ""), base, path, base_path)
    for url in urls["embeds"]:
        assert_inert(fetch(client, url).content.decode(), url)
    for url in urls["oembed"]:
        assert_inert(json.loads(fetch(client, url).content)["html"], url)
    for url in urls["feeds"]:
        check_feed(fetch(client, url).content, url)
    for url in urls["json"]:
        check_json(fetch(client, url).content, url)
    for url in urls["csv"]:
        check_csv(fetch(client, url).content, url)
    for model in ADMIN_LISTS:
        url = reverse(f"admin:peaceplans_{model}_changelist")
        assert_inert(fetch(admin_client, url).content.decode(), url, baselines[(url, False)])
    for made in (made_list[0], made_list[-1]):
        for obj in made.values():
            name = obj._meta.model_name
            url = reverse(f"admin:peaceplans_{name}_change", args=[obj.pk])
            assert_inert(fetch(admin_client, url).content.decode(), url, baselines[(f"change-{name}", False)])


BASELINE_PAGES = [
    "/",
    f"/plans/{PLAN}/",
    f"/plans/{PLAN}/points/6/",
    f"/plans/{PLAN}/revisions/e3-counter-proposal/",
    f"/plans/{PLAN}/parties/russia/",
    f"/plans/{PLAN}/timeline/",
    f"/plans/{PLAN}/changes/",
    f"/plans/{PLAN}/compare/",
    "/sources/",
    "/search/",
]


@pytest.fixture
def baselines(client, chief_client, plan, settings):
    """The pages as the demo data renders them, for the htmx attributes they have of their own."""
    settings.PAGE_CACHE_SECONDS = 0
    out = {}
    for url in BASELINE_PAGES:
        out[(url, False)] = fetch(client, url).content.decode()
        out[(url, True)] = fetch(client, url, **{"HX-Request": "true"}).content.decode()
    for model in ADMIN_LISTS:
        url = reverse(f"admin:peaceplans_{model}_changelist")
        out[(url, False)] = fetch(chief_client, url).content.decode()
        out[(f"change-{model}", False)] = fetch(chief_client, reverse(f"admin:peaceplans_{model}_add")).content.decode()
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("batch", range(len(BATCHES)), ids=[f"{b[0].id}..{b[-1].id}" for b in BATCHES])
def test_admin_forms_store_the_corpus_inert_in_every_output(
    client, editor_client, chief_client, plan, baselines, batch
):
    probe, clients = Probe(plan), {"editor": editor_client, "chief": chief_client}
    started = time.perf_counter()
    made_list = [submit_everywhere(clients, probe, n, p.text) for n, p in enumerate(BATCHES[batch])]
    stored = time.perf_counter()
    check_everywhere(client, chief_client, made_list, public_urls(probe, made_list), baselines)
    for p in BATCHES[batch]:
        TRIED["preview"] += 1
        response = editor_client.post(
            reverse("admin:peaceplans_annotation_preview"),
            {"body": p.text, "csrfmiddlewaretoken": editor_client.cookies["csrftoken"].value},
        )
        assert response.status_code == 200
        assert_inert(response.content.decode(), f"admin preview of {p.id}")
    print(
        f"batch {batch}: {len(BATCHES[batch])} payloads, stored {stored - started:.1f} s, "
        f"checked {time.perf_counter() - stored:.1f} s; tried so far {TRIED}"
    )
