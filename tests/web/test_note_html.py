"""
Notes rendered once (issue 18, item 1): a note's sanitized HTML is stored when it is saved, with the
sanitizer's version; pages, the API and the feeds show the stored HTML (cleaned by nh3 again on the
way out) without running Markdown; a note rendered by another sanitizer version is rendered afresh
on the page and stored again by `refresh_note_html`, which runs after every migrate.
"""

import importlib

import pytest
from django.apps import apps
from django.test import Client

from peaceplans import markup
from peaceplans.editing.services import refresh_note_html
from peaceplans.markup import SANITIZER_VERSION, render_markdown, stored_note_html
from peaceplans.models import Annotation
from peaceplans.signals import refresh_notes_after_migrate

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
POINT_PAGE = f"/plans/{PLAN}/points/6/"
BODY = "**Army cap** raised, see [the E3 text](https://example.org/e3) and <script>alert(1)</script>"


@pytest.fixture
def note(plan) -> Annotation:
    return Annotation.objects.create(point=plan.points.get(key="6"), body=BODY, status=Annotation.Status.PUBLISHED)


@pytest.fixture
def no_markdown(monkeypatch):
    """Markdown made to fail: whatever still renders a note's Markdown raises."""

    def refuse(text):
        raise AssertionError("Markdown ran during a request")

    monkeypatch.setattr(markup, "_to_html", refuse)


def notes_of(html: str) -> str:
    return html.split('aria-labelledby="notes-heading"')[1].split("</section>")[0]


def test_saving_a_note_stores_the_sanitizers_html_and_version(note):
    note.refresh_from_db()
    assert note.body_html == str(render_markdown(BODY))
    assert "<strong>Army cap</strong>" in note.body_html and "<script" not in note.body_html
    assert note.body_html_version == SANITIZER_VERSION


def test_editing_the_body_renders_it_again_also_with_update_fields(note):
    note.body = "*Second* thoughts"
    note.save(update_fields=["body"])
    note.refresh_from_db()
    assert note.body_html == "<p><em>Second</em> thoughts</p>"


def test_pages_api_and_feeds_show_the_stored_html_without_running_markdown(note, no_markdown):
    client = Client()
    page = notes_of(client.get(POINT_PAGE).content.decode())
    assert "<strong>Army cap</strong>" in page and 'rel="noopener nofollow"' in page and "alert(1)</script>" not in page
    dataset = client.get(f"/plans/{PLAN}/dataset.json").json()
    assert [n["body_html"] for n in dataset["notes"]] == [note.body_html]
    feed = client.get(f"/feeds/plans/{PLAN}/")
    assert feed.status_code == 200 and "Army cap" in feed.content.decode()


def test_the_stored_html_is_cleaned_again_on_the_way_out(note):
    """A stored value is not trusted blindly: what nh3 would drop never reaches the page."""
    Annotation.objects.filter(pk=note.pk).update(
        body_html='<p onclick="x()">Kept</p><script>alert(2)</script><a href="javascript:y()">link</a>'
    )
    page = notes_of(Client().get(POINT_PAGE).content.decode())
    assert "Kept" in page
    assert "onclick" not in page and "<script" not in page and "javascript:" not in page


def test_a_note_rendered_by_another_sanitizer_version_is_rendered_afresh_then_stored_again(note):
    Annotation.objects.filter(pk=note.pk).update(body_html="<p>STALE RENDERING</p>", body_html_version="0:old")
    page = notes_of(Client().get(POINT_PAGE).content.decode())
    assert "STALE RENDERING" not in page and "<strong>Army cap</strong>" in page
    assert refresh_note_html() == 1
    note.refresh_from_db()
    assert (note.body_html, note.body_html_version) == stored_note_html(BODY)
    assert refresh_note_html() == 0  # nothing left to do: only a changed version re-renders


def test_a_new_sanitizer_version_re_renders_every_note_after_migrate(note, monkeypatch, plan):
    other = Annotation.objects.create(point=plan.points.get(key="7"), body="Plain _words_", status="draft")
    monkeypatch.setattr(markup, "SANITIZER_VERSION", "99:new-rules")
    services = importlib.import_module("peaceplans.editing.services")
    monkeypatch.setattr(services, "SANITIZER_VERSION", "99:new-rules")
    monkeypatch.setattr(services, "stored_note_html", lambda body: (str(render_markdown(body)), "99:new-rules"))
    refresh_notes_after_migrate(apps, "default")
    versions = set(Annotation.objects.filter(pk__in=[note.pk, other.pk]).values_list("body_html_version", flat=True))
    assert versions == {"99:new-rules"}


def test_the_version_names_the_libraries_and_the_allow_lists(monkeypatch):
    assert "markdown " in SANITIZER_VERSION and "nh3 " in SANITIZER_VERSION
    before = markup._sanitizer_version()
    monkeypatch.setattr(markup, "ALLOWED_TAGS", markup.ALLOWED_TAGS | {"img"})
    assert markup._sanitizer_version() != before


def test_the_migration_renders_the_notes_already_written(note):
    Annotation.objects.filter(pk=note.pk).update(body_html="", body_html_version="")
    migration = importlib.import_module("peaceplans.migrations.0013_annotation_body_html")
    migration.render_notes(apps, None)
    note.refresh_from_db()
    assert (note.body_html, note.body_html_version) == stored_note_html(BODY)
