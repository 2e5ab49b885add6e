"""
Hostile input through the two doors that are not the admin's forms: `manage.py import_revision`
and the admin's "paste a new draft" page.

The corpus (tests/hostile.py; the sample of tests/editing/test_hostile_input.py: every written payload and
every 8th BLNS string, 244 strings, HOSTILE_ALL=1 for all 664) goes

- through the real command (call_command) into every text field its JSON format reads: the
  revision's title, summary, provenance, original language and translation; each source's outlet,
  title, via and URL (as the query of an https address, when that is a valid URL); each clause's
  text and change note, and the title of the new point a clause makes;
- through the real paste page (the test client as an editor, CSRF checked, both steps): the title,
  the summary, the pasted clause text and the pasted source list (outlet).

Then, as in tests/editing/test_hostile_input.py and with its checkers, every place the text comes out is
parsed: the full pages, their HTMX partials, the embeds, oEmbed, the Atom feeds, the JSON API, the
CSV exports, the admin's changelists, change pages and the paste confirm page. Nothing may survive
as markup, and the exact strings must survive as text: in the JSON, the CSV and (escaped) the HTML.

What the command or the page must refuse (a NUL character, a title or text of spaces alone, a
hostile string where a slug, party, topic, number, date, kind or URL goes, a malformed source line)
gets a clear error naming the field, and nothing already stored changes.

Runtime on SQLite (2 cores): about 3 minutes for the default sample, most of it the checks.
"""

import io
import json
import re
import time

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

from .test_hostile_input import (
    ADMIN_LISTS,
    BATCHES,
    CORPUS,
    Parsed,
    assert_inert,
    baseline_of,
    check_csv,
    check_feed,
    check_json,
    fetch,
)
from .test_hostile_input import baselines as baselines  # noqa: F401 (a fixture, used by name below)
from .test_hostile_input import chief_client as chief_client  # noqa: F401 (the fixture baselines needs)

PLAN = "russia-ukraine-2025"
PASTE = "/admin/peaceplans/revision/paste/"
MODELS = (Plan, Party, Topic, Source, Revision, Point, Clause, Stance, Event, Annotation)
TRIED = {"import": 0, "import-refused": 0, "paste": 0, "paste-refused": 0, "paste-retried": 0}


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


def fit(text: str, limit: int) -> str:
    return text[:limit]


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
    TRIED["import-refused"] += 1
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
            TRIED["import"] += 1
            field = "title" if blank(p.text) or "\x00" in p.text[:200] else "summary"
            assert_import_refused(tmp_path, import_item(n, p.text), field, f"{p.id} {p.text!r}")
        field = list(REFERENCES)[n % len(REFERENCES)]
        TRIED["import"] += 1
        reference_refused(tmp_path, n, p.text, field)
    # The rest in one file: all accepted.
    TRIED["import"] += len(good)
    run_import(tmp_path, [import_item(n, p.text) for n, p in good])
    stored = time.perf_counter()
    revisions = {n: Revision.objects.get(plan=plan, slug=f"hostile-import-{n}") for n, _ in good}
    for n, p in good:
        revision = revisions[n]
        assert revision.title == fit(p.text, 200) and revision.summary == fit(p.text, 4000), p.id
        assert revision.translation == fit(p.text, 200) and revision.original_language == fit(p.text, 50), p.id
        texts = sorted(revision.clauses.values_list("text", "change_note"))
        assert texts == [(fit(p.text, 10_000).strip(), p.text)] * 2, p.id
        assert Point.objects.get(plan=plan, key=f"hostile-import-{n}-1").title == fit(p.text, 120), p.id
        assert Source.objects.get(url=f"https://example.org/hostile-import/{n}").outlet == fit(p.text, 200), p.id
    first, last = good[0][0], good[-1][0]
    check_outputs(client, chief, plan, baselines, revisions, first, last, settings)
    for n, p in good[:: max(1, len(good) // 8)]:  # exact strings, in every format, for a spread of them
        assert_text_survives(client, revisions[n], p.text)
    print(
        f"import batch {batch}: {len(payloads)} payloads, imported {stored - started:.1f} s, "
        f"checked {time.perf_counter() - stored:.1f} s; tried so far {TRIED}"
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
    TRIED["paste"] += 1
    before = snapshot()
    fields = paste_fields(n, text)
    response = client.post(PASTE, step_one(client, plan, n, **fields))
    assert response.status_code == 200, (text, response.status_code)
    html = response.content.decode()
    assert_inert(html, f"paste step 1 with {text!r}", baselines[("paste-confirm", False)], PASTE, PASTE)
    if response.context["confirm"] is None:
        assert "errorlist" in html or "errornote" in html, f"paste refused {text!r} without saying why"
        assert snapshot() == before, f"paste refused {text!r} but changed the database"
        TRIED["paste-refused"] += 1
        TRIED["paste-retried"] += 1
        fields = cleaned_fields(n, text)
        response = client.post(PASTE, step_one(client, plan, n, **fields))
        assert response.context["confirm"] is not None, f"paste refused the retyped {text!r}: {response.context}"
    expected = [c.text for c in paste.parse_clauses(fields["text"])]
    data = {**confirm_data(response), "csrfmiddlewaretoken": client.csrf, "clause-0-point": ConfirmForm.NEW}
    response = client.post(PASTE, data)
    assert response.status_code == 302, f"confirm refused {text!r}"
    revision = Revision.objects.get(plan=plan, slug=f"hostile-paste-{n}")
    assert revision.title == fields["title"].strip() and revision.summary == fields["summary"].strip(), text
    assert list(revision.clauses.order_by("sort_order").values_list("text", flat=True)) == expected, text
    outlet = fields["sources"].split("|")[1].strip()
    assert Source.objects.get(url=f"https://example.org/hostile-paste/{n}").outlet == outlet, text
    return publish(revision)


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
        f"checked {time.perf_counter() - stored:.1f} s; tried so far {TRIED}"
    )


def test_the_sample_is_the_hostile_input_sample():
    assert len(CORPUS) == sum(map(len, BATCHES)) and {p.category for p in CORPUS} >= {"htmx", "nul", "script"}
    assert Parsed("<b hx-get='/x'>").htmx()  # the shared checkers are the ones imported
