"""
The editors' "paste a new draft" page: the parser (peaceplans/editing/paste.py, pure), the
matching of clauses to points, and the two-step admin page that imports the result.
"""

import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from peaceplans import models
from peaceplans.editing import paste
from peaceplans.editing.forms import confirmable_clauses
from peaceplans.editing.paste import Chosen, Named, PasteError, parse_clauses, parse_sources, read_choice
from peaceplans.editing.services import ImportProblem, revision_create_from_paste
from peaceplans.models import Clause, Point, Revision, Source

URL = "/admin/peaceplans/revision/paste/"
ARMY = "Ukraine's armed forces are capped at 800,000 personnel."
NATO = (
    "Ukraine puts into its constitution that it will not join NATO, and NATO adds to its statutes "
    "that Ukraine will never be admitted."
)
DONETSK = (
    "Ukrainian forces withdraw from the part of Donetsk oblast they hold; it becomes a neutral "
    "demilitarised buffer zone, recognised internationally as Russian territory, which Russian forces do not enter."
)
RENUMBERED = f"1. {ARMY}\n2. {NATO}\n3. {DONETSK}\n"
TWO_THOUSAND_AND_ONE = (
    "".join(f"{n}{letter}. Clause.\n" for letter in ("", "a") for n in range(1, 1000)) + "1b. x\n2b. x\n3b. x\n"
)


def parse_one(text: str) -> paste.PastedClause:
    clauses = parse_clauses(text)
    assert len(clauses) == 1, clauses
    return clauses[0]


# --- Parsing clauses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "number"),
    [
        ("1. The text.", "1"),
        ("1) The text.", "1"),
        ("10a) The text.", "10a"),
        ("10a. The text.", "10a"),
        ("(3) The text.", "3"),
        ("Point 3: The text.", "3"),
        ("Point 3 - The text.", "3"),
        ("Point 3 – The text.", "3"),
        ("3 - The text.", "3"),
        ("3 — The text.", "3"),
        ("§3 The text.", "3"),
        ("§ 3. The text.", "3"),
        ("Article 3. The text.", "3"),
        ("ARTICLE 3: The text.", "3"),
        ("  12.1. The text.", "12.1"),
    ],
)
def test_each_numbering_style_starts_a_clause_and_keeps_the_printed_number(line, number):
    """The number is kept as printed (without its punctuation) and the rest of the line is the text."""
    clause = parse_one(line)
    assert (clause.number, clause.text, clause.line) == (number, "The text.", 1)


def test_a_letter_in_a_number_is_lower_cased():
    """'10A' and '10a' are one number; the printed letter is kept in lower case, as point keys are."""
    assert parse_one("10A) Compensation.").number == "10a"


def test_continuation_lines_join_the_clause_with_a_space():
    """A draft wrapped at a fixed width reads as one sentence per clause."""
    clauses = parse_clauses("1. Ukraine's armed forces\n   are capped at\n600,000 personnel.\n2) NATO.")
    assert [(c.number, c.text) for c in clauses] == [
        ("1", "Ukraine's armed forces are capped at 600,000 personnel."),
        ("2", "NATO."),
    ]


def test_a_blank_line_inside_a_clause_is_kept_as_a_paragraph_break():
    clause = parse_one("1. First paragraph\ncontinued.\n\n\nSecond paragraph.\n\n")
    assert clause.text == "First paragraph continued.\n\nSecond paragraph."


def test_a_heading_line_with_only_a_number_takes_its_text_from_the_lines_below():
    """'Point 3' alone on its line, then the text: a common layout of leaked documents."""
    clause = parse_one("Point 3\nRussia will not invade its neighbours.")
    assert (clause.number, clause.text) == ("3", "Russia will not invade its neighbours.")


@pytest.mark.parametrize(
    "line",
    [
        "3.5 million people were displaced.",
        "2025-11-20 is the date of the leak.",
        "Article 5 guarantees would apply.",
        "Article 5-like guarantees would apply.",
        "600,000. That is the cap.",
        "10:30 talks resumed.",
        "a) Crimea, Luhansk and Donetsk.",
        "1000. Four digits are not a clause number.",
    ],
)
def test_numbers_inside_the_text_do_not_start_a_clause(line):
    """A line that merely begins with a figure, a date or 'Article 5' continues the clause above."""
    clause = parse_one(f"1. Opening.\n{line}")
    assert clause.text == f"Opening. {line}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The text is empty: paste the draft, one numbered clause after another."),
        ("  \n\t\n", "The text is empty: paste the draft, one numbered clause after another."),
        (
            "Ukraine's armed forces are capped.\nNATO is out.",
            "No numbered lines found. Start each clause on a new line with its number, for example "
            "“1.”, “1)”, “10a)”, “(3)”, “Point 3:”, “3 -”, “§3” or “Article 3.”.",
        ),
        (
            "\nDraft peace framework, 20 November\n1. Sovereignty.",
            "Line 2 comes before the first numbered line and belongs to no clause: "
            "“Draft peace framework, 20 November”. Delete it, or start it with a number.",
        ),
        (
            "1. a\n2. b\n(2) c\n10A) d\n10a. e\n10a) f",
            "These numbers appear more than once: 2 (lines 2, 3); 10a (lines 4, 5, 6). "
            "Each clause needs its own number.",
        ),
        ("1. a\n2.\n3. c", "Clause 2 (line 2) has no text."),
        (
            "1. a\n2. b\x00c",
            "The text contains a NUL character (line 2), which is not text. Copy it again from the original document.",
        ),
        (
            TWO_THOUSAND_AND_ONE,
            "The text has 2,001 numbered clauses; at most 2,000 can be pasted at once.",
        ),
        ("1. a\n" + "b\n" * 10_000, "The text has 10,001 lines; at most 10,000 can be pasted at once."),
        ("1. " + "x" * 499_998, "The text has 500,001 characters; at most 500,000 can be pasted at once."),
        (
            "1. a\n2. " + "x" * 10_001,
            "Clause 2 (line 2) has 10,001 characters; a clause may have at most 10,000.",
        ),
    ],
    ids=[
        "empty",
        "blank",
        "no-numbers",
        "leading-text",
        "duplicates",
        "empty-clause",
        "nul",
        "too-many-clauses",
        "too-many-lines",
        "too-many-characters",
        "clause-too-long",
    ],
)
def test_messy_text_is_refused_with_a_message_that_says_what_and_where(text, message):
    with pytest.raises(PasteError) as caught:
        parse_clauses(text)
    assert caught.value.message == message


def test_the_clause_limit_is_the_models_limit():
    assert paste.MAX_CLAUSE_CHARS == models.MAX_CLAUSE_CHARS


# --- Parsing sources ------------------------------------------------------------------


def test_a_source_line_gives_url_outlet_date_and_kind_and_a_bare_url_stays_a_url():
    sources = parse_sources(
        "https://example.org/a | Kyiv Independent | 2025-12-20 | original report\n\nhttps://example.org/b\n",
        models.SourceKind.values,
    )
    assert [s.as_import() for s in sources] == [
        {"url": "https://example.org/a", "outlet": "Kyiv Independent", "date": "2025-12-20", "kind": "original-report"},
        "https://example.org/b",
    ]
    assert [s.line for s in sources] == [1, 3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("example.org/a", "Sources, line 1: “example.org/a” is not a web address (http:// or https://)."),
        (
            "https://example.org/a | Reuters | 2025-12-20",
            "Sources, line 1: expected “URL | outlet | YYYY-MM-DD | kind” (four parts), found 3.",
        ),
        (
            "https://example.org/a | Reuters | 20 Dec 2025 | official",
            "Sources, line 1: “20 Dec 2025” is not a date in the form YYYY-MM-DD.",
        ),
        (
            "https://example.org/a | Reuters | 2025-12-20 | blog",
            "Sources, line 1: unknown kind “blog” (expected one of: original-report, agency-copy, official, "
            "state-media, aggregator).",
        ),
        ("https://example.org/a\nhttps://example.org/a", "Sources, line 2: the same address is already on line 1."),
    ],
)
def test_a_bad_source_line_is_refused_naming_the_line(text, message):
    with pytest.raises(PasteError) as caught:
        parse_sources(text, models.SourceKind.values)
    assert caught.value.message == message


# --- Matching -------------------------------------------------------------------------


# (How clauses are matched to points: tests/editing/test_alignment.py.)

POINTS = [
    Named("6", "6", "Army cap"),
    Named("21", "21", "Territory"),
    Named("21d", "21d", "Donetsk demilitarised buffer zone"),
    Named("ukraine-us-20-point-draft-9", "20-point 9", "Funds for recovery"),
]


@pytest.mark.parametrize(
    ("typed", "chosen"),
    [
        ("21d", Chosen("21d")),
        ("  21D ", Chosen("21d")),
        ("21d · Donetsk demilitarised buffer zone", Chosen("21d")),
        ("20-point 9", Chosen("ukraine-us-20-point-draft-9")),
        ("ukraine-us-20-point-draft-9", Chosen("ukraine-us-20-point-draft-9")),
        ("buffer zone", Chosen("21d")),
        ("army", Chosen("6")),
        ("new point", Chosen(None)),
        ("New", Chosen(None)),
        ("split from 21 · Territory", Chosen("21", split=True)),
        ("split 6", Chosen("6", split=True)),
    ],
)
def test_a_point_is_chosen_by_number_key_label_title_words_new_or_split(typed, chosen):
    """What the autocomplete writes, a bare number and words of a title all name the point."""
    assert read_choice(typed, POINTS) == chosen


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type a point's number, words of its title, or “new point”."),
        ("99", "No point is numbered or titled “99”. Type its number, or “new point”."),
        ("penguins", "No point is numbered or titled “penguins”. Type its number, or “new point”."),
        (
            "d",
            "“d” fits 2 points (21d · Donetsk demilitarised buffer zone; 20-point 9 · Funds for recovery): "
            "type the number.",
        ),
        ("split from", "Say which point it is split from, for example “split from 12”."),
    ],
)
def test_a_choice_that_names_no_single_point_says_what_to_type(typed, message):
    with pytest.raises(PasteError) as caught:
        read_choice(typed, POINTS)
    assert caught.value.message == message


def test_a_choice_is_written_as_it_is_read_back():
    named = {p.key: p for p in POINTS}
    for chosen in (Chosen(None), Chosen("21d"), Chosen("21", split=True), Chosen("ukraine-us-20-point-draft-9")):
        assert read_choice(paste.choice_label(chosen, named), POINTS) == chosen


def test_import_data_is_the_import_format():
    (clause,) = parse_clauses("4. Army capped.")
    data = paste.import_data(
        slug="new-draft",
        title="New draft",
        authors=["us"],
        published_on=datetime.date(2025, 12, 20),
        status="leaked-draft",
        summary="",
        sources=[],
        clauses=[clause],
        points=[("6", "military-limits")],
    )
    assert data == {
        "slug": "new-draft",
        "title": "New draft",
        "author": ["us"],
        "published_on": "2025-12-20",
        "status": "leaked-draft",
        "summary": "",
        "sources": [],
        "points": [
            {
                "number": "4",
                "topic": "military-limits",
                "text": "Army capped.",
                "derived_from": "6",
                "change_note": "",
                "deleted": False,
                "sources": [],
            }
        ],
    }


# --- The page -------------------------------------------------------------------------


UNPUBLISHED = (
    " It is unpublished: check it, then show it to readers with the action “Publish selected revisions” "
    "on the list of revisions."
)


@pytest.fixture
def editor_client(client, db):
    """A superuser, logged in."""
    client.force_login(User.objects.create_superuser("chief", "chief@example.org", "a-long-test-password-1"))
    return client


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Revision, Clause, Point, Source)}


def step_one(plan, **changes) -> dict:
    data = {
        "plan": plan.pk,
        "title": "Renumbered draft",
        "slug": "",
        "published_on": "2025-12-20",
        "authors": [p.pk for p in models.Party.objects.filter(slug__in=["us", "ukraine"])],
        "status": "leaked-draft",
        "summary": "",
        "sources": "",
        "text": RENUMBERED,
    }
    return {**data, **changes}


def confirm_data(response, **choices) -> dict:
    """What the browser sends from the confirm page: the hidden step-1 fields and every select as proposed."""
    confirm = response.context["confirm"]
    data = {name: field.value() for name, field in ((n, confirm.carried[n]) for n in confirm.carried.fields)}
    data.update({name: confirm[name].value() for name in confirm.fields})
    data.update(choices)
    return {**{k: v for k, v in data.items() if v is not None}, "confirm": "Create the revision"}


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_the_add_revision_permission_are_refused(client, db):
    client.force_login(User.objects.create_user("intern", password="a-long-test-password-2", is_staff=True))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"text": "1. x"}).status_code == 403


def test_an_editor_in_the_editors_group_may_paste(client, db):
    user = User.objects.create_user("editor", password="a-long-test-password-3", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    assert "Paste a new draft" in response.content.decode()


def test_the_page_is_an_admin_page_with_the_step_one_form(editor_client):
    """It extends the admin's base_site.html (site header, breadcrumbs) and asks for every field."""
    response = editor_client.get(reverse("admin:peaceplans_revision_paste"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "admin/base_site.html" in [t.name for t in response.templates]
    assert "peaceplans editors" in html
    assert '<li aria-current="page">Paste a new draft</li>' in html
    for name in ("plan", "title", "slug", "published_on", "authors", "status", "sources", "text"):
        assert f'name="{name}"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_revision_list_links_to_the_paste_page(editor_client):
    html = editor_client.get(reverse("admin:peaceplans_revision_changelist")).content.decode()
    assert f'href="{URL}"' in html and "Paste a new draft" in html


def test_a_post_without_the_csrf_token_is_refused(plan, db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("chief", "chief@example.org", "a-long-test-password-1"))
    before = counts()
    assert client.post(URL, step_one(plan)).status_code == 403
    assert counts() == before


MESSY = {
    "empty": ("", "The text is empty: paste the draft, one numbered clause after another."),
    "no numbered lines": ("Army capped.\nNATO out.", "No numbered lines found."),
    "leading text": ("Leaked text:\n1. Army capped.", "Line 1 comes before the first numbered line"),
    "duplicate numbers": ("1. a\n2. b\n2) c", "These numbers appear more than once: 2 (lines 2, 3)."),
    "too many clauses": (
        TWO_THOUSAND_AND_ONE,
        "The text has 2,001 numbered clauses; at most 2,000 can be pasted at once.",
    ),
    "too many lines": ("1. a\n" + "b\n" * 10_000, "The text has 10,001 lines; at most 10,000"),
    "too many characters": ("1. " + "x " * 250_000, "The text has 500,002 characters; at most 500,000"),
    "clause too long": ("1. a\n2. " + "word " * 2_001, "Clause 2 (line 2) has 10,004 characters"),
    "NUL": ("1. a\x00b", "The text contains a NUL character (line 1)"),
}


@pytest.mark.parametrize("case", MESSY)
def test_messy_text_is_refused_on_the_form_and_nothing_is_saved(editor_client, plan, case):
    text, message = MESSY[case]
    before = counts()
    response = editor_client.post(URL, step_one(plan, text=text))
    assert response.status_code == 200
    assert response.context["confirm"] is None
    assert message in response.context["form"].errors["text"][0]
    assert "Please correct the error below." in response.content.decode()
    assert counts() == before


def test_more_clauses_than_the_confirm_page_can_carry_are_refused(editor_client, plan, settings):
    """Two fields a clause: Django's DATA_UPLOAD_MAX_NUMBER_FIELDS bounds the confirm page."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
    most = confirmable_clauses()
    text = "".join(f"{n}. Clause {n}.\n" for n in range(1, most + 2))
    response = editor_client.post(URL, step_one(plan, text=text))
    assert response.context["form"].errors["text"] == [
        f"The text has {most + 1} numbered clauses; the confirm page can line up at most {most} at once "
        "(DATA_UPLOAD_MAX_NUMBER_FIELDS). Import a text this long with the import_revision command."
    ]


def test_as_many_clauses_as_the_confirm_page_can_carry_are_confirmed(editor_client, plan, settings):
    """The limit is right: a draft of exactly that many clauses goes through both steps."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
    most = confirmable_clauses()
    text = "".join(f"{n}. Clause {n} of a long draft.\n" for n in range(1, most + 1))
    proposed = editor_client.post(
        URL, step_one(plan, text=text, authors=list(models.Party.objects.values_list("pk", flat=True)))
    )
    response = editor_client.post(URL, confirm_data(proposed))
    assert response.status_code == 302
    assert Revision.objects.get(slug="renumbered-draft").clauses.count() == most


def test_an_unknown_bare_source_url_is_refused(editor_client, plan):
    response = editor_client.post(URL, step_one(plan, sources="https://example.org/never-seen"))
    assert response.context["form"].errors["sources"] == [
        "Sources, line 1: https://example.org/never-seen is not in the database yet; "
        "give it as “URL | outlet | YYYY-MM-DD | kind”."
    ]


def test_a_slug_the_plan_already_has_is_refused(editor_client, plan):
    """This page creates revisions; updating one is the import command's job."""
    before = counts()
    response = editor_client.post(URL, step_one(plan, slug="e3-counter-proposal"))
    assert response.context["form"].errors["slug"] == [
        f"{plan} already has a revision “e3-counter-proposal”. This page creates new revisions; "
        "choose another slug, or update that one with the import_revision command."
    ]
    assert counts() == before


def test_the_slug_is_made_from_the_title_when_left_empty(editor_client, plan):
    response = editor_client.post(URL, step_one(plan, title="Draft of 20 December (Miami)", slug=""))
    assert response.context["form"].cleaned_data["slug"] == "draft-of-20-december-miami"
    assert "<code>draft-of-20-december-miami</code>" in response.content.decode()


def test_a_renumbered_draft_is_matched_to_its_points_with_their_scores(editor_client, plan):
    """
    Clauses 1, 2, 3 paraphrase points 6 (army cap), 7 (NATO) and 21d (Donetsk): each shows its
    three best proposals, numbered and titled in full, with the shared words marked, and its
    box holds the first.
    """
    before = counts()
    response = editor_client.post(URL, step_one(plan))
    html = response.content.decode()
    confirm = response.context["confirm"]
    assert [choices[0].key for choices in confirm.proposals] == ["6", "7", "21d"]
    assert all(len(choices) == 3 for choices in confirm.proposals)
    for choices in confirm.proposals:
        assert choices[0].score > choices[1].score >= choices[2].score
        assert f'<span class="proposal-score">{choices[0].percent}%</span>' in html
    assert '<span class="proposal-label">6 · Army cap</span>' in html
    assert '<span class="proposal-label">21d · Donetsk demilitarised buffer zone</span>' in html
    assert 'value="21d · Donetsk demilitarised buffer zone"' in html
    assert 'list="plan-points"' in html and '<option value="21d · Donetsk demilitarised buffer zone">' in html
    assert '<option value="split from 12 · Reconstruction package">' in html
    assert "<mark>Donetsk</mark>" in html and "<mark>800,000</mark>" in html
    assert counts() == before, "step 2 saves nothing"


def test_confirming_creates_the_revision_with_its_clauses_tied_to_the_matched_points(editor_client, plan):
    proposed = editor_client.post(URL, step_one(plan))
    response = editor_client.post(URL, confirm_data(proposed))
    revision = Revision.objects.get(plan=plan, slug="renumbered-draft")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:peaceplans_revision_change", args=[revision.pk])
    assert list(revision.clauses.values_list("number", "point__key", "text")) == [
        ("1", "6", ARMY),
        ("2", "7", NATO),
        ("3", "21d", DONETSK),
    ]
    assert (revision.title, revision.published_on, revision.status) == (
        "Renumbered draft",
        datetime.date(2025, 12, 20),
        "leaked-draft",
    )
    assert sorted(revision.authors.values_list("slug", flat=True)) == ["ukraine", "us"]
    assert not revision.public, "a pasted draft starts unpublished: the editor checks it, then publishes it"
    messages = [str(m) for m in editor_client.get(response["Location"]).context["messages"]]
    assert messages == ["Created “Renumbered draft” with 3 clauses: 3 matched to existing points, 0 new." + UNPUBLISHED]


def test_changing_a_match_to_new_point_creates_a_point_keyed_by_slug_and_number(editor_client, plan):
    proposed = editor_client.post(URL, step_one(plan))
    data = confirm_data(proposed, **{"clause-2-point": "new point", "clause-2-topic": "nuclear"})
    response = editor_client.post(URL, data)
    assert response.status_code == 302
    point = Point.objects.get(plan=plan, key="renumbered-draft-3")
    assert point.topic.slug == "nuclear"
    assert point.clauses.get().text == DONETSK
    messages = [str(m) for m in editor_client.get(response["Location"]).context["messages"]]
    assert messages == ["Created “Renumbered draft” with 3 clauses: 2 matched to existing points, 1 new." + UNPUBLISHED]


def test_a_new_point_defaults_to_the_topic_of_the_point_it_was_matched_to(editor_client, plan):
    response = editor_client.post(URL, step_one(plan))
    confirm = response.context["confirm"]
    assert [confirm[f"clause-{n}-topic"].value() for n in range(3)] == ["military-limits", "nato", "territory"]


def test_a_clause_unlike_any_point_is_proposed_as_new_with_topic_other(editor_client, plan):
    response = editor_client.post(URL, step_one(plan, text="1. Penguins of the Antarctic get a vote."))
    confirm = response.context["confirm"]
    assert confirm["clause-0-point"].value() == "new point"
    assert confirm["clause-0-topic"].value() == "other"


def test_sources_are_attached_to_the_new_revision(editor_client, plan):
    known = Source.objects.order_by("pk").first()
    sources = f"https://example.org/leak | Example News | 2025-12-20 | original-report\n{known.url}"
    proposed = editor_client.post(URL, step_one(plan, sources=sources))
    editor_client.post(URL, confirm_data(proposed))
    revision = Revision.objects.get(plan=plan, slug="renumbered-draft")
    assert set(revision.sources.values_list("url", flat=True)) == {"https://example.org/leak", known.url}
    assert Source.objects.get(url="https://example.org/leak").outlet == "Example News"


def test_hostile_text_is_shown_escaped_on_the_confirm_page(editor_client, plan):
    text = '1. <script>alert("x")</script> Army capped at 800,000 <b>personnel</b>.'
    html = editor_client.post(URL, step_one(plan, text=text, title="<img src=x onerror=alert(1)>")).content.decode()
    assert "<script>alert" not in html
    assert "<b>personnel" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Army capped" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_confirm_page_carries_step_one_as_hidden_fields(editor_client, plan):
    html = editor_client.post(URL, step_one(plan)).content.decode()
    assert '<input type="hidden" name="text" value="1. Ukraine&#x27;s armed forces' in html
    assert '<input type="hidden" name="published_on" value="2025-12-20">' in html
    assert 'aria-describedby="id_text_helptext"' not in html, "no references to help texts not on the page"


@pytest.mark.parametrize(
    ("tampered", "field", "message"),
    [
        ({"text": "1. a\n1. b"}, "text", "These numbers appear more than once"),
        ({"slug": "us-28-point-draft"}, "slug", "already has a revision “us-28-point-draft”"),
        ({"plan": "999999"}, "plan", "Select a valid choice"),
        ({"status": "agreed-by-all"}, "status", "Select a valid choice"),
        ({"published_on": "20/12/2025"}, "published_on", "Enter a valid date."),
        ({"authors": ["999999"]}, "authors", "Select a valid choice"),
    ],
    ids=["text", "slug", "plan", "status", "date", "authors"],
)
def test_tampered_hidden_fields_are_validated_again_and_nothing_is_saved(editor_client, plan, tampered, field, message):
    proposed = editor_client.post(URL, step_one(plan))
    before = counts()
    response = editor_client.post(URL, {**confirm_data(proposed), **tampered})
    assert response.status_code == 200
    assert response.context["confirm"] is None, "back to step 1"
    assert message in " ".join(response.context["form"].errors[field])
    assert counts() == before


def test_a_point_typed_wrong_or_a_tampered_topic_is_refused_on_its_row(editor_client, plan):
    proposed = editor_client.post(URL, step_one(plan))
    before = counts()
    response = editor_client.post(
        URL, confirm_data(proposed, **{"clause-0-point": "no-such-point", "clause-1-topic": "cats"})
    )
    confirm = response.context["confirm"]
    assert confirm.errors["clause-0-point"] == [
        "No point is numbered or titled “no-such-point”. Type its number, or “new point”."
    ]
    assert "Select a valid choice. cats is not one of the available choices." in confirm.errors["clause-1-topic"]
    html = response.content.decode()
    assert "Please correct the errors below. Nothing has been saved." in html
    assert '<li id="clause-0" class="pasted-clause errors">' in html
    assert 'value="no-such-point"' in html, "what the editor typed is kept for correcting"
    assert counts() == before


def test_a_split_is_imported_as_a_new_point_split_from_the_kept_one(editor_client, plan):
    """Two clauses answer point 6: the first keeps it, the second becomes a new point split from 6."""
    proposed = editor_client.post(URL, step_one(plan))
    response = editor_client.post(URL, confirm_data(proposed, **{"clause-1-point": "split from 6"}))
    assert response.status_code == 302
    revision = Revision.objects.get(plan=plan, slug="renumbered-draft")
    split = Point.objects.get(plan=plan, key="renumbered-draft-2")
    assert split.split_from.key == "6"
    assert list(revision.clauses.values_list("number", "point__key")) == [
        ("1", "6"),
        ("2", "renumbered-draft-2"),
        ("3", "21d"),
    ]
    messages = [str(m) for m in editor_client.get(response["Location"]).context["messages"]]
    assert messages == ["Created “Renumbered draft” with 3 clauses: 2 matched to existing points, 1 new." + UNPUBLISHED]


@pytest.mark.parametrize(
    ("choices", "field", "message"),
    [
        (
            {"clause-0-point": "split from 7"},
            "clause-0-point",
            "Clause 2, after this one, keeps 7; the first clause that answers a point keeps it. "
            "Match this clause to 7 and clause 2 “split from 7”.",
        ),
        (
            {"clause-1-point": "split from 12"},
            "clause-1-point",
            "No clause is matched to 12 itself: match one clause to 12 and the others “split from 12”.",
        ),
    ],
    ids=["before-the-keeper", "no-keeper"],
)
def test_a_split_the_import_would_read_otherwise_is_refused(editor_client, plan, choices, field, message):
    proposed = editor_client.post(URL, step_one(plan))
    before = counts()
    response = editor_client.post(URL, confirm_data(proposed, **choices))
    assert response.context["confirm"].errors[field] == [message]
    assert counts() == before


def test_a_text_changed_to_more_clauses_asks_for_the_missing_matches(editor_client, plan):
    """The hidden text is parsed again: a fourth clause has no select yet, so nothing is saved."""
    proposed = editor_client.post(URL, step_one(plan))
    before = counts()
    response = editor_client.post(URL, {**confirm_data(proposed), "text": RENUMBERED + "4. Elections in 100 days."})
    assert response.context["confirm"].errors["clause-3-point"] == [
        "Type a point's number, words of its title, or “new point”."
    ]
    assert counts() == before


def test_two_clauses_matched_to_one_point_are_refused(editor_client, plan):
    proposed = editor_client.post(URL, step_one(plan))
    before = counts()
    response = editor_client.post(URL, confirm_data(proposed, **{"clause-1-point": "6"}))
    assert response.context["confirm"].non_field_errors() == [
        "Clauses 1 and 2 are matched to the same point, 6; a point has one clause per revision. "
        "Match all but one of them to another point, make them new points, or “split from 6” if the new "
        "text divides the point."
    ]
    assert counts() == before


def test_back_to_the_text_returns_to_step_one_with_everything_kept(editor_client, plan):
    proposed = editor_client.post(URL, step_one(plan))
    response = editor_client.post(URL, {**confirm_data(proposed), "edit": "Back to the text"})
    assert response.context["confirm"] is None
    assert response.context["form"]["text"].value() == RENUMBERED
    assert not Revision.objects.filter(slug="renumbered-draft").exists()


def test_an_import_problem_is_shown_on_the_form_and_nothing_is_saved(editor_client, plan, monkeypatch):
    """The import runs in full, then fails: the page says why, and the transaction leaves no trace."""
    from peaceplans.editing import services

    real_import = services.revisions_import

    def import_then_fail(**kwargs):
        real_import(**kwargs)
        raise ImportProblem("simulated failure after writing", origin="pasted text", revision="renumbered-draft")

    monkeypatch.setattr(services, "revisions_import", import_then_fail)
    proposed = editor_client.post(URL, step_one(plan, sources="https://example.org/x | X | 2025-12-20 | official"))
    before = counts()
    response = editor_client.post(URL, confirm_data(proposed))
    assert response.status_code == 200
    assert response.context["confirm"].non_field_errors() == [
        "pasted text: revision 'renumbered-draft': simulated failure after writing"
    ]
    assert counts() == before


def test_the_service_refuses_a_slug_the_plan_already_has(plan):
    before = counts()
    with pytest.raises(ImportProblem) as caught:
        revision_create_from_paste(data={"slug": "us-28-point-draft"}, plan_slug=plan.slug)
    assert str(caught.value) == (
        "pasted text: revision 'us-28-point-draft': the plan already has a revision with this slug; "
        "this page creates new revisions (update an existing one with the import_revision command)"
    )
    assert counts() == before


def test_the_confirm_page_runs_a_fixed_number_of_queries(editor_client, plan, django_assert_max_num_queries):
    """Points and all the plan's wordings are fetched once, whatever the number of clauses."""
    text = "".join(f"{n}. Clause number {n} about the army and NATO.\n" for n in range(1, 41))
    with django_assert_max_num_queries(12):
        response = editor_client.post(URL, step_one(plan, text=text))
    assert len(response.context["confirm"].proposals) == 40
