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
`import_revision` and the paste import (the second half of this module), with the same checkers.

Nothing may survive as markup: no <script> (but the page's own /static/ ones), no on* event
handler, no javascript:/vbscript:/data: URL in a URL attribute, no hx-*/data-hx-* attribute the
page did not have without the data. Input a form refuses gets a form error, not a 500, and
nothing is stored.

The second half: hostile input through the two doors that are not the admin's forms: `manage.py import_revision`
and the admin's "paste a new draft" page.

The corpus (the same sample as above) goes

- through the real command (call_command) into every text field its JSON format reads: the
  revision's title, summary, provenance, original language and translation; each source's outlet,
  title, via and URL (as the query of an https address, when that is a valid URL); each clause's
  text and change note, and the title of the new point a clause makes;
- through the real paste page (the test client as an editor, CSRF checked, both steps): the title,
  the summary, the pasted clause text and the pasted source list (outlet).

Then, as above and with the same checkers, every place the text comes out is
parsed: the full pages, their HTMX partials, the embeds, oEmbed, the Atom feeds, the JSON API, the
CSV exports, the admin's changelists, change pages and the paste confirm page. Nothing may survive
as markup, and the exact strings must survive as text: in the JSON, the CSV and (escaped) the HTML,
but for bidi overrides and unbalanced bidi controls, which every model drops on save (issue 19,
peaceplans/markup.py: `saved` below).

What the command or the page must refuse (a NUL character, a title or text of spaces alone, a
hostile string where a slug, party, topic, number, date, kind or URL goes, a malformed source line)
gets a clear error naming the field, and nothing already stored changes.

Runtime on SQLite (2 cores): about 3 minutes for the default sample, most of it the checks.
"""

import csv
import io
import json
import os
import re
import time
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.core.validators import validate_slug
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from peaceplans.editing import paste
from peaceplans.editing.forms import ConfirmForm
from peaceplans.markup import neutralise_bidi
from peaceplans.models import (
    Annotation,
    Clause,
    Event,
    Party,
    Plan,
    Point,
    Revision,
    RevisionStatus,
    Source,
    Stance,
    Topic,
    number_validator,
)
from peaceplans.publish.exports import FORMULA_STARTS
from tests import hostile
from tests.conftest import TEST_PROFILE

PLAN = "russia-ukraine-2025"
ROOT = Path(__file__).resolve().parents[2]
# The sample: every written payload, and every 8th BLNS string, 244 strings, about 2 minutes a batch of
# 61 on SQLite (2 cores). HOSTILE_ALL=1 runs all 664 (about 25 minutes). The dev profile
# (PEACEPLANS_TEST_PROFILE=dev, `make test`'s default; tests/conftest.py) runs about a quarter of the
# sample, every category still in it; CI runs the whole sample.
SAMPLE = (*hostile.owasp(), *hostile.htmx(), *[p for p in hostile.payloads() if p.category == "blns"][::8])


def dev_sample(sample: tuple) -> tuple:
    """Every 4th string of the sample, plus the first of any category that left out."""
    chosen = list(sample[::4])
    for category in dict.fromkeys(p.category for p in sample):
        if not any(p.category == category for p in chosen):
            chosen.append(next(p for p in sample if p.category == category))
    return tuple(chosen)


CORPUS = hostile.payloads() if os.environ.get("HOSTILE_ALL") else SAMPLE if TEST_PROFILE == "ci" else dev_sample(SAMPLE)
# Four batches whatever the profile, so the same tests run in both (and the counts match).
BATCH = -(-len(CORPUS) // 4)
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
        # The site's own static files only: by path on its pages, by its absolute address in the oEmbed
        # snippet (the embed's host script, which a CMS page loads from this site).
        own = ("/static/", "/admin/jsi18n/", "http://testserver/static/")
        if tag == "script" and not dict(attrs).get("src", "").startswith(own):
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


@lru_cache(maxsize=128)
def own_htmx(baseline: str, baseline_path: str) -> frozenset[tuple[str, str, str]]:
    """The htmx attributes a demo page has of its own: parsed once per page, not once per check against it."""
    return frozenset(Parsed(baseline, baseline_path).htmx())


def assert_inert(html: str, where: str, baseline: str | None = None, path: str = "", baseline_path: str = ""):
    allowed = own_htmx(baseline, baseline_path) if baseline is not None else frozenset()
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
    assert len(hostile.payloads()) == 664 and len(SAMPLE) == 244
    assert {p.category for p in CORPUS} == {p.category for p in SAMPLE} and len(BATCHES) == 4
    assert len(CORPUS) == sum(map(len, BATCHES))  # every string of the sample is in a batch
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


def saved(text: str) -> str:
    """What a model stores for `text`: the same, but for bidi overrides and unbalanced bidi controls (issue 19)."""
    return neutralise_bidi(text)


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
    raw, retry = both(title=200, short_label=20, summary=4000, provenance=4000, original_language=50, translation=200)
    extra = {
        "wording": "paraphrase",
        "plan": probe.plan.pk,
        "slug": f"hostile-{n}",
        "authors": [probe.party.pk],
        "published_on": day.isoformat(),
        "status": "leaked-draft",
        "sources": [made["source"].pk],
        "public": "on",  # the "published" box, ticked: an unpublished revision is on no public page
    }
    clause = {"number": "1", "point": probe.point.pk, "sort_order": 0, "text": text, "change_note": text}
    clause["wording_note"] = one_line[:500]
    clean_clause = {**clause, "text": clean(text, 10_000), "change_note": clean(text, 4000)}
    clean_clause["wording_note"] = clean(one_line, 500)
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


_baselines: dict = {}  # rendered by the first test in each process, a copy handed to each test


@pytest.fixture
def baselines(client, chief_client, plan, settings):
    """
    The pages as the demo data renders them, for the htmx attributes they have of their own. Every test
    starts from the same demo data (its changes are rolled back), so they are rendered once per process.
    """
    settings.PAGE_CACHE_SECONDS = 0
    if not _baselines:
        for url in BASELINE_PAGES:
            _baselines[(url, False)] = fetch(client, url).content.decode()
            _baselines[(url, True)] = fetch(client, url, **{"HX-Request": "true"}).content.decode()
        for model in ADMIN_LISTS:
            url = reverse(f"admin:peaceplans_{model}_changelist")
            _baselines[(url, False)] = fetch(chief_client, url).content.decode()
            add = reverse(f"admin:peaceplans_{model}_add")
            _baselines[(f"change-{model}", False)] = fetch(chief_client, add).content.decode()
    return dict(_baselines)


@pytest.mark.slow
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


# ---- the second door: import_revision and the paste page ----

PASTE = "/admin/peaceplans/revision/paste/"
MODELS = (Plan, Party, Topic, Source, Revision, Point, Clause, Stance, Event, Annotation)
TRIED_IMPORT = {"import": 0, "import-refused": 0, "paste": 0, "paste-refused": 0, "paste-retried": 0}


def snapshot() -> dict:
    """Every row of every model, as values: 'nothing changed' is this, equal before and after."""
    rows = {m.__name__: sorted(map(repr, m.objects.values_list())) for m in MODELS}
    rows["revision-sources"] = sorted(Revision.sources.through.objects.values_list("revision_id", "source_id"))
    return rows


def publish(revision: Revision) -> Revision:
    """Pasted revisions may be created unpublished (the model's `public` flag): published here to be seen."""
    if hasattr(revision, "public") and not revision.public:
        revision.public = True
        revision.save()
    return revision


def valid_url(url: str) -> bool:
    try:
        Source._meta.get_field("url").clean(url, None)
    except ValidationError:
        return False
    return True


def blank(text: str) -> bool:
    return not text.strip()


# Through the command


def import_item(n: int, text: str) -> dict:
    """One revision of the import format with `text` in every free-text field the command reads."""
    sources = [
        {
            "url": f"https://example.org/hostile-import/{n}",
            "outlet": fit(text, 200),
            "title": fit(text, 500),
            "via": fit(text, 200),
            "kind": "original-report",
            "date": "2026-02-01",
        }
    ]
    if valid_url(url := f"https://example.org/hostile-import/{n}/?q={text}") and len(url) <= 2000:
        sources.append({"url": url, "outlet": fit(text, 200), "kind": "official"})
    return {
        "slug": f"hostile-import-{n}",
        "title": fit(text, 200),
        "author": ["us"],
        "published_on": "2026-02-01",
        "status": "leaked draft",
        "summary": fit(text, 4000),
        "provenance": fit(text, 4000),
        "original_language": fit(text, 50),
        "translation": fit(text, 200),
        "sources": sources,
        "points": [
            # A new point, titled with the text; and a new wording of the demo's point 6.
            {"number": "1", "topic": "other", "title": fit(text, 120), "text": fit(text, 10_000), "change_note": text},
            {"number": "2", "topic": "other", "derived_from": "6", "text": fit(text, 10_000), "change_note": text},
        ],
    }


def importable(text: str) -> bool:
    """What the command must take as it is: no NUL character, and some visible text."""
    return "\x00" not in text and not blank(text)


def run_import(tmp_path, data, name: str = "import.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    out = io.StringIO()
    call_command("import_revision", str(path), plan=PLAN, stdout=out)
    return out.getvalue()


def assert_import_refused(tmp_path, data, field: str, where: str) -> str:
    """The command refuses `data` with a CommandError naming `field`, and changes nothing."""
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        run_import(tmp_path, data, "refused.json")
    message = str(refused.value)
    assert f"field '{field}" in message and "Nothing was imported" in message, (where, message)
    assert snapshot() == before, f"{where}: refused but changed the database"
    TRIED_IMPORT["import-refused"] += 1
    return message


# Reference fields: a hostile string where a slug, party, topic, number, kind, date or URL goes.
REFERENCES = {
    "slug": lambda item, text: item.update(slug=text),
    "author": lambda item, text: item.update(author=[text]),
    "status": lambda item, text: item.update(status=text),
    "published_on": lambda item, text: item.update(published_on=text),
    "topic": lambda item, text: item["points"][0].update(topic=text),
    "number": lambda item, text: item["points"][0].update(number=text),
    "derived_from": lambda item, text: item["points"][1].update(derived_from=text),
    "sources": lambda item, text: item["sources"][0].update(url=text),
}


def valid_reference(field: str, text: str) -> bool:
    """Whether `text` is a real value of the reference `field` (BLNS has "1", "true", "null"...): not hostile there."""
    try:
        if field == "slug":
            validate_slug(text)
        elif field == "number":
            number_validator(text.strip())
            return len(text.strip()) <= 20
    except ValidationError:
        return False
    return {
        "slug": len(text) <= 80,
        "number": True,
        "author": text in set(Party.objects.values_list("slug", flat=True)),
        "status": text.strip().lower().replace(" ", "-") in RevisionStatus.values,
        "published_on": bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)),
        "topic": text in set(Topic.objects.values_list("slug", flat=True)),
        "derived_from": not text.strip() or text.strip() in set(Point.objects.values_list("key", flat=True)),
        "sources": valid_url(text),
    }[field]


def reference_refused(tmp_path, n: int, text: str, field: str):
    """`text` where the reference `field` goes: refused, naming the field, unless it is a real value of it."""
    item = import_item(n, "a harmless text")
    REFERENCES[field](item, text)
    if not valid_reference(field, text):
        assert_import_refused(tmp_path, item, field, f"{field}={text!r}")


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("batch", range(len(BATCHES)), ids=[f"{b[0].id}..{b[-1].id}" for b in BATCHES])
def test_import_revision_stores_the_corpus_inert_in_every_output(client, plan, tmp_path, request, settings, batch):
    baselines = request.getfixturevalue("baselines")
    started = time.perf_counter()
    chief = request.getfixturevalue("chief_client")
    payloads = BATCHES[batch]
    offset = batch * len(BATCHES[0])
    good = [(offset + i, p) for i, p in enumerate(payloads) if importable(p.text)]
    # What must be refused: each on its own, nothing stored, the error names the field.
    for i, p in enumerate(payloads):
        n = offset + i
        if not importable(p.text):
            TRIED_IMPORT["import"] += 1
            field = "title" if blank(p.text) or "\x00" in p.text[:200] else "summary"
            assert_import_refused(tmp_path, import_item(n, p.text), field, f"{p.id} {p.text!r}")
        field = list(REFERENCES)[n % len(REFERENCES)]
        TRIED_IMPORT["import"] += 1
        reference_refused(tmp_path, n, p.text, field)
    # The rest in one file: all accepted.
    TRIED_IMPORT["import"] += len(good)
    run_import(tmp_path, [import_item(n, p.text) for n, p in good])
    stored = time.perf_counter()
    revisions = {n: Revision.objects.get(plan=plan, slug=f"hostile-import-{n}") for n, _ in good}
    for n, p in good:
        revision = revisions[n]
        assert revision.title == saved(fit(p.text, 200)) and revision.summary == saved(fit(p.text, 4000)), p.id
        assert revision.translation == saved(fit(p.text, 200)), p.id
        assert revision.original_language == saved(fit(p.text, 50)), p.id
        texts = sorted(revision.clauses.values_list("text", "change_note"))
        assert texts == [(saved(fit(p.text, 10_000).strip()), saved(p.text))] * 2, p.id
        assert Point.objects.get(plan=plan, key=f"hostile-import-{n}-1").title == saved(fit(p.text, 120)), p.id
        outlet = Source.objects.get(url=f"https://example.org/hostile-import/{n}").outlet
        assert outlet == saved(fit(p.text, 200)), p.id
    first, last = good[0][0], good[-1][0]
    check_outputs(client, chief, plan, baselines, revisions, first, last, settings)
    for n, p in good[:: max(1, len(good) // 8)]:  # exact strings, in every format, for a spread of them
        assert_text_survives(client, revisions[n], p.text)
    print(
        f"import batch {batch}: {len(payloads)} payloads, imported {stored - started:.1f} s, "
        f"checked {time.perf_counter() - stored:.1f} s; tried so far {TRIED_IMPORT}"
    )


# Where it comes out


def check_outputs(client, chief, plan, baselines, revisions: dict, first: int, last: int, settings):
    """Every output that shows the imported or pasted revisions, parsed; nothing runs, nothing acts."""
    settings.PAGE_CACHE_SECONDS = 0
    slug_a, slug_b = revisions[first].slug, revisions[last].slug
    key_a = f"{slug_a}-1"
    base = f"/plans/{PLAN}/"
    compare = f"{base}compare/?a={slug_a}&b={slug_b}"
    pages = [
        "/",
        base,
        f"{base}points/6/",
        f"{base}points/{key_a}/",
        f"{base}parties/us/",
        f"{base}timeline/",
        f"{base}changes/",
        compare,
        compare + "&view=inline",
        f"{base}compare/?a=us-28-point-draft&b={slug_b}",
        "/sources/",
        "/search/?q=probe",
        *(revisions[n].get_absolute_url() for n in (first, last)),
    ]
    partials = [
        f"{base}points/6/?against={slug_b}",
        f"{base}points/{key_a}/?against={slug_b}",
        compare + "&view=inline",
        f"{base}changes/",
        "/search/?q=probe",
    ]
    for url in pages + [("htmx", url) for url in partials]:
        htmx = isinstance(url, tuple)
        url = url[1] if htmx else url
        html = fetch(client, url, **({"HX-Request": "true"} if htmx else {})).content.decode()
        path = url.split("?")[0]
        base_html, base_path = baseline_of(baselines, path, htmx)
        assert_inert(html, url + (" (HTMX)" if htmx else ""), base_html, path, base_path)
    for url in [f"/embed/plans/{PLAN}/points/6/", f"/embed/plans/{PLAN}/points/{key_a}/", "/embed" + compare]:
        assert_inert(fetch(client, url).content.decode(), url)
    oembed = json.loads(fetch(client, f"/oembed/?url=http://testserver{base}points/{key_a}/").content)
    assert_inert(oembed["html"], "oembed")
    for url in [f"/feeds{base}", f"/feeds{base}points/6/", f"/feeds{base}points/{key_a}/", f"/feeds{base}parties/us/"]:
        check_feed(fetch(client, url).content, url)
    for url in [
        f"/api/v1/plans/{PLAN}/",
        f"/api/v1/plans/{PLAN}/revisions/",
        f"/api/v1/plans/{PLAN}/revisions/{slug_a}/",
        f"/api/v1/plans/{PLAN}/points/",
        f"/api/v1/plans/{PLAN}/points/6/",
        f"/api/v1/plans/{PLAN}/points/{key_a}/",
        f"{base}dataset.json",
    ]:
        check_json(fetch(client, url).content, url)
    for url in [
        f"{base}matrix.csv",
        f"{base}compare.csv?a={slug_a}&b={slug_b}",
        f"{base}points/6/wording.csv",
        f"{base}revisions/{slug_a}/clauses.csv",
        f"{base}changes.csv",
        "/sources.csv",
    ]:
        check_csv(fetch(client, url).content, url)
    for model in ADMIN_LISTS:
        url = reverse(f"admin:peaceplans_{model}_changelist")
        assert_inert(fetch(chief, url).content.decode(), url, baselines[(url, False)])
    for url in [
        reverse("admin:peaceplans_revision_changelist") + "?q=hostile",
        reverse("admin:peaceplans_source_changelist") + "?q=hostile",
    ]:
        assert_inert(fetch(chief, url).content.decode(), url, baselines[(url.split("?")[0], False)])
    for n in (first, last):
        revision = revisions[n]
        objects = [
            ("revision", revision),
            ("point", Point.objects.get(plan=plan, key=f"{revision.slug}-1")),
            ("clause", revision.clauses.first()),
            ("source", revision.sources.order_by("pk").first()),
        ]
        for name, obj in objects:
            url = reverse(f"admin:peaceplans_{name}_change", args=[obj.pk])
            assert_inert(fetch(chief, url).content.decode(), url, baselines[(f"change-{name}", False)])


def json_strings(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*map(json_strings, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(json_strings, value)) if value else set()
    return {value} if isinstance(value, str) else set()


def assert_text_survives(client, revision: Revision, text: str):
    """The text, code point for code point, in the JSON and CSV, and escaped in the HTML page."""
    title = revision.title
    clause = revision.clauses.order_by("sort_order").first()
    strings = json_strings(json.loads(fetch(client, f"/api/v1/plans/{PLAN}/revisions/{revision.slug}/").content))
    assert {title, clause.text} <= strings, f"JSON lost {text!r}"
    rows = fetch(client, f"/plans/{PLAN}/revisions/{revision.slug}/clauses.csv").content.decode("utf-8-sig")
    csv_text = "'" + clause.text if clause.text.startswith(FORMULA_STARTS) else clause.text
    if "\n" not in clause.text and '"' not in clause.text:
        assert csv_text in rows, f"CSV lost {text!r}"
    html = fetch(client, revision.get_absolute_url()).content.decode()
    assert escape(title.strip()) in html or escape(" ".join(title.split())) in html, f"page lost {title!r}"


# Through the paste page


@pytest.fixture
def paste_client(db):
    """An editor (group Editors) signed in; CSRF checked as for a browser."""
    editor = User.objects.create_user("hostile-paste-desk", password="unused-0123456789", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    token = client.get(PASTE)
    assert token.status_code == 200
    client.csrf = token.cookies["csrftoken"].value
    return client


def step_one(client, plan, n: int, *, title: str, summary: str, text: str, sources: str) -> dict:
    return {
        "csrfmiddlewaretoken": client.csrf,
        "plan": plan.pk,
        "title": title,
        "slug": f"hostile-paste-{n}",
        "published_on": "2026-03-01",
        "authors": [Party.objects.get(slug="ukraine").pk],
        "status": "leaked-draft",
        "summary": summary,
        "sources": sources,
        "text": text,
    }


def confirm_data(response) -> dict:
    """What the browser sends from the confirm page: the hidden step-1 fields and every select as proposed."""
    confirm = response.context["confirm"]
    data = {name: confirm.carried[name].value() for name in confirm.carried.fields}
    data.update({name: confirm[name].value() for name in confirm.fields})
    return {**{k: v for k, v in data.items() if v is not None}, "confirm": "Create the revision"}


def paste_fields(n: int, text: str) -> dict:
    """The payload as typed into the paste page: title, summary, the clause text and a source's outlet."""
    return {
        "title": fit(text, 200),
        "summary": fit(text, 4000),
        "text": f"1. {text}\n2. Ukraine's armed forces are capped at 800,000 personnel. {text}",
        "sources": f"https://example.org/hostile-paste/{n} | {fit(text, 200)} | 2026-03-01 | original-report",
    }


def cleaned_fields(n: int, text: str) -> dict:
    """The same payload as an editor would retype it after the page refused it: one line, no NUL, no '|'."""
    line = " ".join(text.replace("\x00", "").replace("|", "/").split())
    return {
        "title": fit("probe " + line, 200),
        "summary": fit("probe " + line, 4000),
        "text": f"1. probe {line}\n2. Ukraine's armed forces are capped at 800,000 personnel. {line}",
        "sources": f"https://example.org/hostile-paste/{n} | {fit('probe ' + line, 200)} | 2026-03-01 | official",
    }


def paste_one(client, plan, baselines, n: int, text: str) -> Revision:
    """Both steps of the paste page with `text`; refused input says why and stores nothing, then is retyped."""
    TRIED_IMPORT["paste"] += 1
    before = snapshot()
    fields = paste_fields(n, text)
    response = client.post(PASTE, step_one(client, plan, n, **fields))
    assert response.status_code == 200, (text, response.status_code)
    html = response.content.decode()
    assert_inert(html, f"paste step 1 with {text!r}", baselines[("paste-confirm", False)], PASTE, PASTE)
    if response.context["confirm"] is None:
        assert "errorlist" in html or "errornote" in html, f"paste refused {text!r} without saying why"
        assert snapshot() == before, f"paste refused {text!r} but changed the database"
        TRIED_IMPORT["paste-refused"] += 1
        TRIED_IMPORT["paste-retried"] += 1
        fields = cleaned_fields(n, text)
        response = client.post(PASTE, step_one(client, plan, n, **fields))
        assert response.context["confirm"] is not None, f"paste refused the retyped {text!r}: {response.context}"
    expected = [c.text for c in paste.parse_clauses(fields["text"])]
    data = {**confirm_data(response), "csrfmiddlewaretoken": client.csrf, "clause-0-point": ConfirmForm.NEW}
    response = client.post(PASTE, data)
    assert response.status_code == 302, f"confirm refused {text!r}"
    revision = Revision.objects.get(plan=plan, slug=f"hostile-paste-{n}")
    assert revision.title == saved(fields["title"].strip()), text
    assert revision.summary == saved(fields["summary"].strip()), text
    assert list(revision.clauses.order_by("sort_order").values_list("text", flat=True)) == list(map(saved, expected))
    outlet = fields["sources"].split("|")[1].strip()
    assert Source.objects.get(url=f"https://example.org/hostile-paste/{n}").outlet == saved(outlet), text
    return publish(revision)


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("batch", range(len(BATCHES)), ids=[f"{b[0].id}..{b[-1].id}" for b in BATCHES])
def test_paste_page_stores_the_corpus_inert_in_every_output(client, plan, paste_client, request, settings, batch):
    baselines = request.getfixturevalue("baselines")
    chief = request.getfixturevalue("chief_client")
    ok = paste_client.post(PASTE, step_one(paste_client, plan, 0, **paste_fields(0, "A plain draft")))
    baselines[("paste-confirm", False)] = ok.content.decode()
    started = time.perf_counter()
    offset = batch * len(BATCHES[0])
    revisions = {
        offset + i: paste_one(paste_client, plan, baselines, offset + i, p.text) for i, p in enumerate(BATCHES[batch])
    }
    stored = time.perf_counter()
    check_outputs(client, chief, plan, baselines, revisions, offset, offset + len(BATCHES[batch]) - 1, settings)
    for n in list(revisions)[:: max(1, len(revisions) // 8)]:  # exact strings, in every format, for a spread
        assert_text_survives(client, revisions[n], revisions[n].title)
    print(
        f"paste batch {batch}: {len(BATCHES[batch])} payloads, pasted {stored - started:.1f} s, "
        f"checked {time.perf_counter() - stored:.1f} s; tried so far {TRIED_IMPORT}"
    )
