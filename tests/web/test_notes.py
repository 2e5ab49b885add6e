"""
Editors' notes on points: only published ones reach the public pages, sanitized; the admin's
live preview is for editors only and uses the same sanitizer; a stance's quote stays short.
"""

import re
from datetime import date

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from peaceplans.models import MAX_QUOTE_WORDS, Annotation, Point, Source, Stance

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
POINT_PAGE = f"/plans/{PLAN}/points/6/"
COMPARE = f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal"
PREVIEW = "/admin/peaceplans/annotation/preview/"
PASSWORD = "a-long-test-password-1"


@pytest.fixture
def point(plan) -> Point:
    return plan.points.get(key="6")


def note(point, body, *, status=Annotation.Status.PUBLISHED, author=None) -> Annotation:
    return Annotation.objects.create(point=point, body=body, status=status, author=author)


def html_of(client, url, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def compare_row(html: str, key: str) -> str:
    return html.split(f'id="point-{key}"')[1].split('class="compare-row ')[0]


def notes_section(html: str) -> str:
    return html.split('aria-labelledby="notes-heading"')[1].split("</section>")[0]


@pytest.fixture
def editor(db) -> User:
    """A staff member of the Editors group (migration 0002), which may add and change notes."""
    user = User.objects.create_user("nightdesk", password=PASSWORD, is_staff=True, first_name="Olena", last_name="K.")
    user.groups.add(Group.objects.get(name="Editors"))
    return user


# Public pages


def test_publishing_stamps_the_moment_a_note_goes_public(point):
    draft = note(point, "Draft.", status=Annotation.Status.DRAFT)
    assert draft.published_at is None
    draft.status = Annotation.Status.PUBLISHED
    draft.save()
    stamped = draft.published_at
    assert stamped is not None
    draft.body = "Corrected wording."
    draft.save()
    assert draft.published_at == stamped  # a correction does not re-date the publication
    draft.status = Annotation.Status.DRAFT
    draft.save()
    assert draft.published_at is None


def test_draft_note_is_not_on_the_point_page(client, point):
    draft = note(point, "Draft: **unchecked** claim about the army cap.", status=Annotation.Status.DRAFT)
    html = html_of(client, POINT_PAGE)
    assert "unchecked" not in html
    assert f'id="note-{draft.pk}"' not in html
    assert 'id="notes-heading"' not in html, "no Notes section when nothing is published"


def test_published_note_is_on_the_point_page_sanitized(client, point):
    published = note(point, "The cap was **600,000** in the US draft. <script>alert(1)</script>")
    section = notes_section(html_of(client, POINT_PAGE))
    assert f'<li class="note" id="note-{published.pk}">' in section
    assert "<strong>600,000</strong>" in section
    assert "<script" not in section and "&lt;script&gt;alert(1)&lt;/script&gt;" in section


def test_only_the_published_of_two_notes_is_shown(client, point):
    note(point, "Secret draft wording.", status=Annotation.Status.DRAFT)
    shown = note(point, "Checked against two sources.")
    section = notes_section(html_of(client, POINT_PAGE))
    assert "Checked against two sources." in section and "Secret draft wording." not in section
    assert section.count('class="note"') == 1 and f'id="note-{shown.pk}"' in section


def test_note_shows_the_authors_full_name_and_the_update_date(client, point, editor):
    published = note(point, "Signed note.", author=editor)
    section = notes_section(html_of(client, POINT_PAGE))
    assert "Olena K." in section and "nightdesk" not in section
    day = published.updated_at.strftime("%Y-%m-%d")
    assert f'<time datetime="{day}">{published.updated_at.day} ' in section  # a valid date, no microseconds
    assert f'href="{POINT_PAGE}#note-{published.pk}"' in section


def test_note_without_a_named_author_is_signed_editors(client, point):
    nameless = User.objects.create_user("desk2", password=PASSWORD)
    note(point, "By someone without a full name.", author=nameless)
    note(point, "By nobody on record.")
    section = notes_section(html_of(client, POINT_PAGE))
    assert section.count("Editors · updated") == 2
    assert "desk2" not in section


def test_note_links_get_rel_noopener_nofollow(client, point):
    note(point, "See [the report](https://example.org/report).")
    section = notes_section(html_of(client, POINT_PAGE))
    assert '<a href="https://example.org/report" rel="noopener nofollow">the report</a>' in section


def test_point_page_htmx_partial_carries_no_notes(client, point):
    note(point, "Not part of the wording region.")
    html = html_of(client, POINT_PAGE + "?against=us-28-point-draft", **{"HX-Request": "true"})
    assert "Not part of the wording region." not in html


def test_draft_note_is_not_in_the_compare_row(client, point):
    note(point, "Draft only, never public.", status=Annotation.Status.DRAFT)
    html = html_of(client, COMPARE)
    assert "Draft only, never public." not in html
    assert "compare-row__notes" not in compare_row(html, "6")


def test_published_note_is_in_its_compare_row_only(client, point):
    published = note(point, "Europe raised the cap to *800,000*.")
    html = html_of(client, COMPARE)
    six = compare_row(html, "6")
    assert "Editors' notes on this point (1)" in six
    assert f'id="note-{published.pk}"' in six and "<em>800,000</em>" in six
    assert html.count("Europe raised the cap") == 1, "shown in point 6's row and nowhere else"


def test_published_note_is_in_the_compare_htmx_partial(client, point):
    note(point, "Also in the swapped region.")
    html = html_of(client, COMPARE + "&view=inline", **{"HX-Request": "true"})
    assert html.lstrip().startswith('<div id="comparison"')
    assert "Also in the swapped region." in compare_row(html, "6")


@pytest.mark.usefixtures("page_cache_off")
def test_compare_query_count_does_not_grow_with_notes(client, plan):
    """One query fetches the published notes of every row, however many rows have notes."""
    client.get(COMPARE)
    with CaptureQueriesContext(connection) as before:
        client.get(COMPARE)
    author = User.objects.create_user("writer", password=PASSWORD, first_name="Writer")
    for point in plan.points.filter(clauses__revision__slug="e3-counter-proposal")[:8]:
        note(point, f"Note on {point.key}.", author=author)
        note(point, f"Second note on {point.key}.")
    with CaptureQueriesContext(connection) as after:
        html = html_of(client, COMPARE)
    assert html.count('class="note"') == 16
    assert len(before) == len(after) == 7, [q["sql"][:100] for q in after]  # the stored word diffs: one


@pytest.mark.usefixtures("page_cache_off")
def test_point_page_query_count_does_not_grow_with_notes(client, point):
    client.get(POINT_PAGE)
    with CaptureQueriesContext(connection) as before:
        client.get(POINT_PAGE)
    for n in range(5):
        note(point, f"Note {n}.", author=User.objects.create_user(f"w{n}", password=PASSWORD))
    with CaptureQueriesContext(connection) as after:
        client.get(POINT_PAGE)
    assert len(before) == len(after) == 8, [q["sql"][:100] for q in after]


# The admin's live preview


def test_preview_sends_anonymous_visitors_to_the_login_page(client):
    response = client.post(PREVIEW, {"body": "**x**"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_preview_refuses_staff_without_permission_on_notes(client):
    client.force_login(User.objects.create_user("intern", password=PASSWORD, is_staff=True))
    assert client.post(PREVIEW, {"body": "**x**"}).status_code == 403


def test_preview_renders_sanitized_markdown_for_an_editor(client, editor):
    client.force_login(editor)
    body = "**Bold** and [a link](https://example.org).\n\n<img src=x onerror=alert(1)> [x](javascript:alert(1))"
    response = client.post(PREVIEW, {"body": body})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>Bold</strong>" in html
    assert '<a href="https://example.org" rel="noopener nofollow">a link</a>' in html
    assert "<img" not in html and "javascript:" not in html
    assert "<html" not in html, "a fragment, not a page"


def test_preview_works_with_only_the_add_permission(client):
    user = User.objects.create_user("newcomer", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_annotation"))
    client.force_login(user)
    response = client.post(PREVIEW, {"body": "*new*"})
    assert response.status_code == 200 and "<em>new</em>" in response.content.decode()


def test_preview_refuses_get(client, editor):
    client.force_login(editor)
    assert client.get(PREVIEW, {"body": "**x**"}).status_code == 405


def test_preview_requires_the_csrf_token(editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.post(PREVIEW, {"body": "**x**"}).status_code == 403


def test_preview_of_an_empty_note_says_so(client, editor):
    client.force_login(editor)
    assert "Nothing yet." in client.post(PREVIEW, {"body": ""}).content.decode()


def test_preview_says_when_a_note_is_too_long(client, editor):
    client.force_login(editor)
    html = client.post(PREVIEW, {"body": "word " * 5000}).content.decode()
    assert "Only the first 20,000 characters fit in a note." in html


def test_preview_says_when_markdown_gives_way_to_plain_text(client, editor):
    client.force_login(editor)
    html = client.post(PREVIEW, {"body": "[" * 2000 + "**not bold**"}).content.decode()
    assert "Shown as plain text, because" in html
    assert "<strong>" not in html and "**not bold**" in html


def test_change_form_wires_the_textarea_to_the_preview(client, editor, point):
    client.force_login(editor)
    existing = note(point, "Existing **note**.")
    response = client.get(f"/admin/peaceplans/annotation/{existing.pk}/change/")
    html = response.content.decode()
    textarea = re.search(r"<textarea [^>]*name=\"body\"[^>]*>", html).group()
    assert f'hx-post="{PREVIEW}"' in textarea
    assert 'hx-target="#annotation-preview"' in textarea
    assert "load" in re.search(r'hx-trigger="([^"]*)"', textarea).group(1)
    assert 'id="annotation-preview"' in html
    assert re.search(r'<script [^>]*src="/static/[^"]*htmx[^"]*"', html)  # a file from 'self', as the CSP requires
    assert "style=" not in textarea and "hx-on" not in html


def test_saving_a_note_in_the_admin_records_the_editor_as_author(client, editor, point):
    client.force_login(editor)
    url = "/admin/peaceplans/annotation/add/"
    response = client.post(url, {"point": point.pk, "body": "Fresh **note**.", "status": "published"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = Annotation.objects.get(body="Fresh **note**.")
    assert saved.author == editor
    assert "<strong>note</strong>" in notes_section(html_of(Client(), POINT_PAGE))


# A stance's quote


def stance(point, *, quote: str, source=None) -> Stance:
    return Stance(
        plan=point.plan,
        party=point.stances.first().party,
        point=point,
        position=Stance.Position.OPPOSES,
        stated_on=date(2025, 12, 1),
        summary="Our summary.",
        quote=quote,
        source=source or Source.objects.first(),
    )


def test_a_quote_of_fifty_words_is_accepted(point):
    stance(point, quote=" ".join(["word"] * MAX_QUOTE_WORDS)).full_clean()


def test_a_quote_of_fifty_one_words_is_refused_with_the_count(point):
    with pytest.raises(ValidationError) as refused:
        stance(point, quote=" ".join(["word"] * 51)).full_clean()
    assert refused.value.message_dict["quote"] == [
        "A quote may be at most 50 words (this one has 51): shorten it or paraphrase in the summary."
    ]


def test_words_are_counted_across_line_breaks_and_extra_spaces(point):
    with pytest.raises(ValidationError, match="this one has 60"):
        stance(point, quote="  one\n" * 30 + "two\t" * 30).full_clean()


def stance_form_data(client, point, **changes) -> dict:
    form = client.get("/admin/peaceplans/stance/add/").context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        plan=point.plan.pk,
        party=point.stances.first().party.pk,
        point=point.pk,
        position="opposes",
        stated_on="2025-12-01",
        summary="Our summary.",
        source=Source.objects.first().pk,
    )
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_admin_refuses_a_long_quote_with_the_message(client, editor, point):
    client.force_login(editor)
    response = client.post("/admin/peaceplans/stance/add/", stance_form_data(client, point, quote="word " * 51))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["quote"] == [
        "A quote may be at most 50 words (this one has 51): shorten it or paraphrase in the summary."
    ]
    assert "this one has 51" in response.content.decode()


def test_admin_requires_a_source_for_a_stance(client, editor, point):
    client.force_login(editor)
    response = client.post("/admin/peaceplans/stance/add/", stance_form_data(client, point, source=None))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["source"] == ["This field is required."]
    assert "This field is required." in response.content.decode()


def test_admin_saves_a_stance_with_a_short_quote_and_a_source(client, editor, point):
    client.force_login(editor)
    count = Stance.objects.count()
    response = client.post("/admin/peaceplans/stance/add/", stance_form_data(client, point, quote="We stand firm."))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Stance.objects.count() == count + 1
