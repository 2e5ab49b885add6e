"""
Text in any script survives the round trip unchanged, code point for code point: typed into the
admin form, stored, shown on the full page, in the HTMX partial and in JSON, and through
dumpdata/loaddata. Nothing is normalised: "é" as e + U+0301 stays two code points, the U+02BC
apostrophe of Ukrainian stays U+02BC, ZWJ sequences keep their joiners. Runs on SQLite and on
PostgreSQL (DATABASE_URL).

Except bidi controls (issue 19, item 8): "RTL\u202egnp.exe" displays as "RTLexe.png". Overrides, and
embeddings and isolates left open, are dropped on save (peaceplans/markup.py's pre_save receiver, and
migration 0015 for rows stored before), so no page, admin list, feed, embed, export or API answer
carries one; balanced isolates and the marks (RLM, LRM, ALM) stay, and Arabic and Hebrew read as
typed. Pages also isolate editors' text in headings and breadcrumbs (<bdi>, the `bidi` filter) and
strip every control where nothing can isolate it (<title>, attributes, feeds, a search echoed back).
"""

import importlib
import io
import json
import re
import unicodedata
from datetime import date
from html import unescape
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from peaceplans.markup import BIDI_CONTROLS, neutralise_bidi, strip_bidi
from peaceplans.models import Annotation, Clause, Event, Party, Point, Revision, Source, Stance

PLAN = "russia-ukraine-2025"
TEXTS = {
    "ukrainian": "Ґрунт, їжак, єдність; мʼясо і пʼять",  # ʼ is U+02BC, the Ukrainian apostrophe
    "russian": "Съешь же ещё этих мягких французских булок, да выпей чаю",
    "hebrew": "שלום עכשיו — הסכם הפסקת אש",
    "arabic": "اتفاق وقف إطلاق النار في أوكرانيا",
    "combining": "Caf\u0065\u0301 cre\u0300me, n\u0303",  # e + U+0301, not U+00E9
    "emoji": "Families 👩\u200d👩\u200d👧\u200d👦 and flags 🏳️\u200d🌈 🇺🇦",
}
TEXT = " | ".join(TEXTS.values())


def test_the_samples_are_what_they_claim():
    assert "\u02bc" in TEXTS["ukrainian"] and "'" not in TEXTS["ukrainian"]
    assert {"ґ", "ї", "є"} <= set(TEXTS["ukrainian"].lower())
    assert "\u0301" in TEXTS["combining"] and unicodedata.normalize("NFC", TEXT) != TEXT
    assert TEXT.count("\u200d") == 4
    assert (
        unicodedata.bidirectional(TEXTS["hebrew"][0]) == "R" and unicodedata.bidirectional(TEXTS["arabic"][0]) == "AL"
    )


class ElementText(HTMLParser):
    """The text of every element with the given id, entities decoded (as a browser shows it)."""

    def __init__(self, html: str, element_id: str):
        super().__init__(convert_charrefs=False)
        self.element_id, self.depth, self.parts = element_id, 0, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif self.element_id is not None and dict(attrs).get("id") == self.element_id:
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
            if not self.depth:
                self.element_id = None  # the first such element only

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)

    def handle_entityref(self, name):
        self.handle_data(unescape(f"&{name};"))

    def handle_charref(self, name):
        self.handle_data(unescape(f"&#{name};"))

    @property
    def text(self) -> str:
        return "".join(self.parts)


@pytest.fixture
def editor(db):
    client = Client(enforce_csrf_checks=False)
    client.force_login(User.objects.create_superuser("unicode-desk", password="unused-0123456789"))
    return client


@pytest.mark.django_db
def test_every_script_survives_admin_database_page_partial_json_and_dump(client, editor, plan, settings, tmp_path):
    settings.PAGE_CACHE_SECONDS = 0
    point = plan.points.get(key="6")
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", point=point)
    # Through the admin's forms: a note (Markdown), a clause's wording.
    response = editor.post(
        reverse("admin:peaceplans_annotation_add"), {"point": point.pk, "body": TEXT, "status": "published"}
    )
    assert response.status_code == 302
    note = Annotation.objects.latest("pk")
    change = reverse("admin:peaceplans_clause_change", args=[clause.pk])
    form = editor.get(change).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(text=TEXT, sources=[s.pk for s in clause.sources.all()], point=point.pk)
    data.pop("dropped", None)
    data.pop("material_change", None)
    assert editor.post(change, data).status_code == 302
    # The database holds exactly what was typed.
    note.refresh_from_db()
    clause.refresh_from_db()
    assert note.body == TEXT and clause.text == TEXT
    # The full page: the note's element, and the clause's wording.
    html = client.get(f"/plans/{PLAN}/points/6/").content.decode()
    fragment = html.split(f'id="note-{note.pk}"', 1)[1]
    assert ElementText('<div id="body"' + fragment.split('class="note__body"', 1)[1], "body").text == f"{TEXT}"
    assert TEXT in unescape(html)
    # The HTMX partial (the wording list) and the revision page.
    partial = client.get(f"/plans/{PLAN}/points/6/?against=us-28-point-draft", headers={"HX-Request": "true"})
    assert TEXT in unescape(partial.content.decode())
    assert TEXT in unescape(client.get(clause.revision.get_absolute_url()).content.decode())
    # JSON: the API's note text and the clause's wording, decoded.
    data = json.loads(client.get(reverse("api_point", args=[PLAN, "6"])).content)
    assert any(n["body_html"] == f"<p>{TEXT}</p>" for n in data["notes"]), "the note as HTML, every code point"
    wordings = json.dumps(data, ensure_ascii=False)
    assert f'"text": "{TEXT}"' in wordings or f'"text":"{TEXT}"' in wordings
    # dumpdata, delete, loaddata: the same code points come back.
    dump = tmp_path / "dump.json"
    out = io.StringIO()
    call_command("dumpdata", "peaceplans.annotation", "peaceplans.clause", "--indent", "1", stdout=out)
    dump.write_text(out.getvalue(), encoding="utf-8")
    Annotation.objects.filter(pk=note.pk).update(body="gone")
    Clause.objects.filter(pk=clause.pk).update(text="gone")
    call_command("loaddata", str(dump), verbosity=0)
    assert Annotation.objects.get(pk=note.pk).body == TEXT
    assert Clause.objects.get(pk=clause.pk).text == TEXT


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(TEXTS))
def test_each_script_alone_in_titles(client, editor, plan, settings, name):
    """Short fields too (a point's title, a revision's title), each sample alone."""
    settings.PAGE_CACHE_SECONDS = 0
    text = TEXTS[name]
    point = Point.objects.create(plan=plan, key="unicode", title=text[:120], topic=plan.points.first().topic)
    revision = Revision.objects.create(
        plan=plan, slug="unicode", title=text, published_on=date(2026, 1, 1), status="framework"
    )
    Clause.objects.create(revision=revision, point=point, number="1", text=text)
    html = client.get(point.get_absolute_url()).content.decode()
    assert text[:120] in unescape(html)
    assert text in unescape(client.get(revision.get_absolute_url()).content.decode())
    api = json.loads(client.get(reverse("api_point", args=[PLAN, "unicode"])).content)
    assert text[:120] in json.dumps(api, ensure_ascii=False)


# ---- bidi controls (issue 19, item 8) ----

RLO, LRO, PDF, RLI, PDI, RLE = "\u202e", "\u202d", "\u202c", "\u2067", "\u2069", "\u202b"
SPOOF = f"RTL{RLO}gnp.exe"  # shows as "RTLexe.png"
SHOWN = "RTLgnp.exe"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SPOOF, SHOWN),
        (f"{SPOOF}{PDF}", SHOWN),  # a closed override goes too, and its PDF with it
        (f"x{LRO}abc{PDF}", "xabc"),
        (f"a {RLI}{TEXTS['hebrew']}{PDI} b", None),  # a balanced isolate: kept
        (f"{RLE}{TEXTS['arabic']}{PDF}", None),  # a balanced embedding: kept
        (f"a{RLI}x", "ax"),  # left open: it would run into the page after the text
        (f"x{PDI}y{PDF}z", "xyz"),  # closers that close nothing
        (f"{RLI}a{RLE}b{PDI}c", f"{RLI}ab{PDI}c"),  # an embedding left open inside an isolate
        (f"a{RLE}{RLI}b{PDF}c{PDI}", f"a{RLI}bc{PDI}"),  # a PDF cannot close past an isolate
        (f"{RLI}a\nb{PDI}", "a\nb"),  # a paragraph ends every embedding and isolate
        (TEXTS["arabic"] + "\u200f", None),  # the marks stay: RLM, LRM, ALM
        ("\u200eabc\u061c", None),
        (TEXT, None),  # every script of the samples above, untouched
    ],
)
def test_neutralise_bidi(text, expected):
    assert neutralise_bidi(text) == (text if expected is None else expected)
    assert strip_bidi(text) == "".join(c for c in text if c not in BIDI_CONTROLS)


def balanced(text: str) -> bool:
    """No override, and every embedding and isolate closed in its paragraph (UAX #9's pairing)."""
    for paragraph in text.split("\n"):
        opened: list[str] = []
        for char in paragraph:
            if char in (RLO, LRO):
                return False
            if char in "\u202a\u202b\u2066\u2067\u2068":
                opened.append(char)
            elif char == PDF:
                if not opened or opened[-1] not in "\u202a\u202b":
                    return False
                opened.pop()
            elif char == PDI:
                if not any(c in "\u2066\u2067\u2068" for c in opened):
                    return False
                while opened.pop() not in "\u2066\u2067\u2068":
                    return False  # an embedding left open inside the isolate
        if opened:
            return False
    return True


@given(st.text(alphabet="ab\nש\u200f" + BIDI_CONTROLS, max_size=40))
def test_neutralised_text_is_balanced_and_loses_nothing_but_controls(text):
    out = neutralise_bidi(text)
    assert balanced(out)
    assert strip_bidi(out) == strip_bidi(text)  # only controls dropped, nothing else
    assert neutralise_bidi(out) == out
    if balanced(text):
        assert out == text


def spoof_everywhere(plan) -> dict:
    """SPOOF in every text field a page shows, saved the ordinary way (Model.save, as the admin and imports do)."""
    e3 = Revision.objects.get(plan=plan, slug="e3-counter-proposal")
    russia = Party.objects.get(slug="russia")
    point = Point.objects.create(plan=plan, key="bidi", title=SPOOF, label="B1", topic=plan.points.first().topic)
    source = Source.objects.create(
        url="https://example.org/bidi", outlet=SPOOF, title=SPOOF, note=SPOOF, via=SPOOF,
        kind=Source.Kind.ORIGINAL_REPORT, published_on=date(2026, 1, 1),
    )  # fmt: skip
    e3.sources.add(source)
    revision = Revision.objects.create(
        plan=plan, slug="bidi", title=SPOOF, summary=SPOOF, short_label="B" + SPOOF, published_on=date(2026, 1, 2),
        status="framework",
    )  # fmt: skip
    revision.authors.add(russia)
    clause = Clause.objects.create(revision=revision, point=point, number="1", text=SPOOF, wording_note=SPOOF)
    clause.sources.add(source)
    Clause.objects.create(revision=e3, point=point, number="99", text=f"army {SPOOF}", change_note=SPOOF)
    stance = Stance.objects.create(
        plan=plan, party=russia, point=point, revision=revision, position=Stance.Position.OPPOSES,
        stated_on=date(2026, 1, 3), summary=f"army {SPOOF}", quote=SPOOF, speaker=SPOOF, source=source,
    )  # fmt: skip
    note = Annotation.objects.create(point=point, body=f"army **{SPOOF}**", status=Annotation.Status.PUBLISHED)
    event = Event.objects.create(plan=plan, date=date(2026, 1, 4), title=SPOOF, summary=SPOOF, source=source)
    event.parties.add(russia)
    return {"point": point, "source": source, "revision": revision, "clause": clause, "stance": stance, "note": note}


def stored_texts() -> list[str]:
    """Every text value of every row of the app's models (history included)."""
    values = []
    for model in apps.get_app_config("peaceplans").get_models():
        fields = [f.attname for f in model._meta.concrete_fields if f.get_internal_type() in ("CharField", "TextField")]
        if fields:
            values += [v for row in model.objects.values_list(*fields) for v in row if isinstance(v, str)]
    return values


def every_surface(plan: str, point: str, revision: str, source_pk: int) -> list[str]:
    """Every public address that shows the texts above, HTMX partials, feeds, embeds, API and exports."""
    page = f"/plans/{plan}/points/{point}/"
    return [
        page,
        f"{page}?against=us-28-point-draft",  # the HTMX partial, asked as HTMX below too
        f"{page}stances/russia/",
        f"/plans/{plan}/",
        f"/plans/{plan}/?on={revision}",
        f"/plans/{plan}/revisions/{revision}/",
        f"/plans/{plan}/parties/russia/",
        f"/plans/{plan}/timeline/",
        f"/plans/{plan}/changes/",
        f"/plans/{plan}/compare/?a=e3-counter-proposal&b={revision}",
        "/search/?q=army",
        "/sources/",
        f"/feeds/plans/{plan}/",
        f"/feeds/plans/{plan}/points/{point}/",
        f"/feeds/plans/{plan}/parties/russia/",
        f"/embed/plans/{plan}/points/{point}/",
        f"/embed/plans/{plan}/compare/?a=e3-counter-proposal&b={revision}&points={point}",
        f"/oembed/?url=http://testserver{page}",
        f"/api/v1/plans/{plan}/points/{point}/",
        f"/api/v1/plans/{plan}/revisions/{revision}/",
        f"/api/v1/plans/{plan}/stances/?point={point}",
        f"/api/v1/plans/{plan}/events/",
        f"/plans/{plan}/dataset.json",
        f"{page}wording.csv",
        f"{page}stances.csv",
        f"/plans/{plan}/revisions/{revision}/clauses.csv",
        f"/plans/{plan}/timeline.csv",
        "/sources.csv",
    ]


HTMX = {"HX-Request": "true"}
ADMIN_LISTS = ["point", "stance", "clause", "source", "annotation", "revision", "event"]


@pytest.mark.django_db
def test_a_spoofing_override_is_dropped_on_save_and_shown_nowhere(client, editor, plan, settings):
    settings.PAGE_CACHE_SECONDS = 0
    made = spoof_everywhere(plan)
    assert RLO not in "".join(stored_texts())
    assert made["point"].title == SHOWN and made["stance"].quote == SHOWN and made["note"].body == f"army **{SHOWN}**"
    shown = {}
    surfaces = every_surface(PLAN, "bidi", "bidi", made["source"].pk)
    for url, headers in [(url, {}) for url in surfaces] + [(url, HTMX) for url in surfaces[1:3]]:
        if url.endswith("/stances/russia/") and not headers:
            continue  # HTMX's alone (a browser is sent to the point page)
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        text = (b"".join(response) if response.streaming else response.content).decode("utf-8-sig")
        assert RLO not in text and "&#8238;" not in text and "\\u202e" not in text.lower(), url
        shown[url] = SHOWN in text
    for name in ADMIN_LISTS:
        html = editor.get(reverse(f"admin:peaceplans_{name}_changelist")).content.decode()
        assert RLO not in html, name
    # The typed text itself is shown, minus the override, on the pages that show those fields.
    assert all(shown[url] for url in surfaces[:6] if url in shown), shown


@pytest.mark.django_db
def test_legitimate_right_to_left_text_is_stored_and_shown_as_typed(client, plan, settings):
    settings.PAGE_CACHE_SECONDS = 0
    typed = f"{TEXTS['arabic']} {RLI}{TEXTS['hebrew']}{PDI} 2025\u200f"
    point = Point.objects.create(plan=plan, key="rtl", title=typed, topic=plan.points.first().topic)
    point.refresh_from_db()
    assert point.title == typed  # balanced isolates and marks are kept
    html = client.get(point.get_absolute_url()).content.decode()
    assert f'<h1><span class="point-key">{point.number}</span> <bdi>{typed}</bdi></h1>' in html
    assert f"<title>Point {point.number}: {strip_bidi(typed)} · " in html  # no element can isolate it there


@pytest.mark.django_db
def test_text_that_skipped_save_is_neutralised_where_pages_show_it(client, plan, settings):
    """A row written before this change (or by a raw UPDATE): headings, titles, notes and feeds still drop it;
    migration 0015 neutralises such rows for every other place."""
    settings.PAGE_CACHE_SECONDS = 0
    point = plan.points.get(key="6")
    note = Annotation.objects.create(point=point, body="army", status=Annotation.Status.PUBLISHED)
    Point.objects.filter(pk=point.pk).update(title=SPOOF)
    Annotation.objects.filter(pk=note.pk).update(body=SPOOF, body_html=f"<p>{SPOOF}</p>")
    html = client.get(point.get_absolute_url()).content.decode()
    assert f"<bdi>{SHOWN}</bdi></h1>" in html and f"Point {point.number}: {SHOWN} · " in html
    assert f'<div dir="auto" class="note__body"><p>{SHOWN}</p></div>' in html
    feed = client.get(f"/feeds/plans/{PLAN}/points/6/").content.decode()
    assert RLO not in feed and f"{SHOWN} · " in feed
    # The data migration: every such row, history included, as a save would have stored it.
    migration = importlib.import_module("peaceplans.migrations.0015_neutralise_bidi_controls")
    migration.neutralise(apps, type("Editor", (), {"connection": connection})())
    assert RLO not in "".join(stored_texts())
    assert Point.objects.get(pk=point.pk).title == SHOWN


@pytest.mark.django_db
def test_a_search_echoed_back_drops_bidi_controls(client):
    html = client.get("/search/", {"q": f"army {SPOOF}"}).content.decode()
    assert RLO not in html and re.search(r"for “army RTLgnp\.exe”", html)


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>\u202egnp.exe",
        '"><img src=x onerror=alert(1)>',
        "</bdi><script>alert(1)</script><bdi>",
        "&lt;b&gt; & \u2067unclosed",
    ],
)
def test_the_bidi_filters_isolate_escapes_every_hostile_string(hostile):
    """markup.isolate is a mark_safe: the only markup in its answer is its own <bdi>…</bdi>."""
    from django.utils.html import escape

    from peaceplans.markup import isolate, neutralise_bidi

    html = str(isolate(hostile))
    assert html == f"<bdi>{escape(neutralise_bidi(hostile))}</bdi>"
    inner = html.removeprefix("<bdi>").removesuffix("</bdi>")
    assert "<" not in inner and ">" not in inner and '"' not in inner
    assert "\u202e" not in html and "\u2067" not in html
