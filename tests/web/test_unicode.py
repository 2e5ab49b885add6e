"""
Text in any script survives the round trip unchanged, code point for code point: typed into the
admin form, stored, shown on the full page, in the HTMX partial and in JSON, and through
dumpdata/loaddata. Nothing is normalised: "é" as e + U+0301 stays two code points, the U+02BC
apostrophe of Ukrainian stays U+02BC, ZWJ sequences keep their joiners. Runs on SQLite and on
PostgreSQL (DATABASE_URL).
"""

import io
import json
import unicodedata
from datetime import date
from html import unescape
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from peaceplans.models import Annotation, Clause, Point, Revision

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
