"""
Search (/search/?q=): what it finds in the demo data and lands on, how it reads what is
typed (phrases, prefixes, numbers, Cyrillic, hostile input), that the index follows every
write and never holds a draft, escaping of the highlighted snippets, and its query count.
Runs on SQLite (FTS5) and on PostgreSQL (full-text search on the tables) alike.
"""

import datetime
import html as htmllib
import re

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from hypothesis import given, settings
from hypothesis import strategies as st

from peaceplans import search
from peaceplans.editing.services import revision_create_from_paste, revisions_import, revisions_publish
from peaceplans.markup import highlight
from peaceplans.models import Annotation, Clause, Event, Party, Plan, Revision, Source, Stance
from peaceplans.search import Phrase, parse_query, query

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
URL = "/search/"
sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'", reason="the FTS5 table exists on SQLite only")


def page(client, q=None, *, status=200, **params):
    if q is not None:
        params["q"] = q
    response = client.get(URL, params)
    assert response.status_code == status, (params, response.status_code)
    return response.content.decode()


def found(q, *, plan=None) -> dict[str, list]:
    """The objects a search finds, by kind."""
    results = search.search(q, plan=plan)
    return {group.kind: [hit.obj for hit in group.hits] for group in results.groups}


def group_html(html: str, kind: str) -> str:
    if f'id="results-{kind}"' not in html:
        return ""
    return html.split(f'id="results-{kind}"')[1].split("</section>")[0]


@pytest.fixture
def event(plan):
    """An event whose words no demo text holds, to search for."""
    return Event.objects.create(
        plan=plan,
        date=datetime.date(2025, 12, 1),
        title="Quartermaster talks in Zanzibar",
        summary="Delegates discussed a ceiling of 600 000 troops and the Переговори щодо Донбасу; армія stays.",
    )


# The demo data: find "800,000" and land on the row


def test_800000_finds_the_three_army_cap_clauses_that_say_it(client):
    html = page(client, "800,000")
    wording = group_html(html, "clause")
    assert wording.count('class="search-hit"') == 3  # E3 6, 20-point 4, Berlin 1
    assert "Ukraine&#x27;s armed forces are limited to <mark>800,000</mark> in peacetime." in wording
    assert "a peacetime level of <mark>800,000</mark>" in wording
    assert "stay at <mark>800,000</mark> personnel in peacetime" in wording


def test_800000_links_to_the_point_page_the_comparison_row_and_the_full_text(client):
    wording = group_html(page(client, "800,000"), "clause")
    base = f"/plans/{PLAN}"
    assert f'href="{base}/points/6/#clause-e3-counter-proposal"' in wording
    assert f'href="{base}/compare/?a=us-28-point-draft&amp;b=e3-counter-proposal#point-6"' in wording
    assert f'href="{base}/revisions/e3-counter-proposal/#point-6"' in wording
    # Berlin's previous text by date is the Geneva framework.
    assert f'href="{base}/compare/?a=us-ukraine-geneva-framework&amp;b=berlin-joint-statement#point-6"' in wording


def test_the_comparison_link_of_800000_lands_on_a_row_that_shows_it(client):
    wording = group_html(page(client, "800,000"), "clause")
    href = htmllib.unescape(re.search(r'href="([^"]*compare/[^"]*b=e3-counter-proposal[^"]*)"', wording).group(1))
    address, anchor = href.split("#")
    compare = client.get(address).content.decode()
    row = compare.split(f'id="{anchor}"')[1].split('class="compare-row ')[0]
    assert "800,000" in row and "600,000" in row  # the row shows the change from the US draft's figure


def test_600000_finds_the_us_draft_clause_without_a_comparison_link(client):
    wording = group_html(page(client, "600,000"), "clause")
    assert "capped at <mark>600,000</mark> personnel" in wording
    assert "#clause-us-28-point-draft" in wording
    assert "What changed from" not in wording  # the first text of the plan has nothing before it


def test_stances_and_events_are_grouped_with_counts(client):
    html = page(client, "800,000")
    counts = html.split('class="search-counts"')[1].split("</ul>")[0]
    results = search.search("800,000")
    for group in results.groups:
        assert f"{group.label} <strong>{group.count}</strong>" in counts
    assert [g.kind for g in results.groups] == ["clause", "change", "stance", "note", "event"]
    assert results.group("clause").count == 3 and results.group("event").count >= 1


def test_a_stance_hit_links_to_the_stance_and_shows_its_source(client):
    stance = Stance.objects.filter(point__isnull=False).select_related("source").first()
    first_words = " ".join(stance.summary.split()[:6])
    stances = group_html(page(client, f'"{first_words}"'), "stance")
    assert f'href="{stance.get_absolute_url()}"' in stances
    assert str(escape(stance.source.outlet)) in stances


# How the query is read


def test_every_word_must_match(event):
    assert event in found("quartermaster zanzibar")["event"]
    assert event not in found("quartermaster atlantis")["event"]


def test_double_quotes_make_a_phrase(event):
    assert event in found('"talks in zanzibar"')["event"]
    assert event not in found('"zanzibar talks"')["event"]


def test_the_last_word_is_a_prefix_while_typing(event):
    assert event in found("quartermaster zanz")["event"]
    assert event not in found("quartermaster zanz ")["event"]  # a space ends the word
    assert event not in found('"zanz"')["event"]  # so does a closing quote


def test_grouped_numbers_match_however_they_are_written(plan, event):
    written_together = Event.objects.create(plan=plan, date=datetime.date(2025, 12, 2), title="Cap of 600000 men")
    for typed in ("600,000", "600 000", "600000", '"600,000"'):
        events = found(typed)["event"]
        assert event in events, typed  # text "600 000"
    for typed in ("600,000", "600000", "600 000"):
        assert written_together in found(typed)["event"], typed
    clause = Clause.objects.get(revision__slug="us-28-point-draft", number="6")  # "600,000 personnel"
    assert clause in found("600000")["clause"]


def test_cyrillic_words_are_found_in_any_case_and_as_prefixes(event):
    assert event in found("армія")["event"]
    assert event in found("АРМІЯ")["event"]
    assert event in found("Донбас")["event"]  # the start of "Донбасу"
    assert event in found('"щодо донбасу"')["event"]
    assert event not in found('"донбас"')["event"]  # a closed phrase is whole words


def test_cyrillic_match_is_highlighted(client, event):
    events = group_html(page(client, "армія"), "event")
    assert "<mark>армія</mark>" in events


def test_operators_are_ordinary_words():
    assert parse_query("army OR navy") == [(Phrase(("army",)),), (Phrase(("or",)),), (Phrase(("navy",), prefix=True),)]
    assert parse_query("NEAR(army cap)") == [(Phrase(("near", "army")),), (Phrase(("cap",), prefix=True),)]
    assert parse_query("body:army -cap ^x *") == [
        (Phrase(("body", "army")),),
        (Phrase(("cap",)),),
        (Phrase(("x",)),),
    ]


def test_quotes_are_read_even_when_unbalanced():
    assert parse_query('"army cap" peace') == [(Phrase(("army", "cap")),), (Phrase(("peace",), prefix=True),)]
    assert parse_query('"army ca') == [(Phrase(("army", "ca"), prefix=True),)]
    assert parse_query('army"') == [(Phrase(("army",)),)]
    assert parse_query('""') == []


def test_a_number_typed_with_spaces_is_one_number():
    assert parse_query("600 000 troops") == parse_query("600,000 troops")
    assert parse_query("1 200 000 ") == [(Phrase(("1", "200", "000")), Phrase(("1200000",)))]
    assert parse_query("600 00") == [(Phrase(("600",)),), (Phrase(("00",), prefix=True),)]  # still typing


def test_hyphens_and_ranges_read_alike_on_both_databases(plan):
    event = Event.objects.create(
        plan=plan,
        date=datetime.date(2025, 12, 3),
        title="Pullback talks",
        summary="They said the army-cap was set for 2025-2026 and forces pull back 5-10 km.",
    )
    for typed in ('"the army cap was"', "2026", '"10 km"', "army-cap", "5-10"):
        assert event in found(typed)["event"], typed


def test_a_grouped_number_is_a_phrase_or_one_word():
    assert parse_query("600,000 ") == [(Phrase(("600", "000")), Phrase(("600000",)))]
    assert parse_query("1000000 ") == [(Phrase(("1000000",)), Phrase(("1", "000", "000")))]
    assert parse_query("12.5 ") == [(Phrase(("12", "5")), Phrase(("12.5",)))]


def test_words_hold_only_letters_and_digits():
    terms = parse_query('\'; DROP TABLE x; -- \x00 🙂 "a\\b" ) (')
    words = [w for term in terms for phrase in term for w in phrase.words]
    assert words == ["drop", "table", "x", "a", "b"]
    assert parse_query("🙂 ¿? ** --") == []


# Hostile and odd input: 200 or 400, never 500, and nothing written

HOSTILE = [
    "AND",
    "OR",
    "NOT",
    "army AND",
    "NOT army",
    "army OR",
    "NEAR(",
    "NEAR(army cap, 2)",
    "*",
    "arm*",
    "^army",
    "body:army",
    "title : x",
    "-army",
    "(",
    ")",
    "((army)",
    '"',
    '"army',
    'army"',
    '"""',
    "'",
    "''",
    "'; DROP TABLE peaceplans_clause; --",
    "' OR 1=1 --",
    "Robert'); DROP TABLE peaceplans_search;--",
    "%",
    "%%s",
    "\\",
    "a\x00b",
    "\x00",
    "🙂",
    "🇺🇦 army",
    "army 🙂",
    ":*",
    "army:*",
    "a & b | !c",
    "<->",
    "army <-> cap",
    "{{ plan }}",
    "<script>alert(1)</script>",
    "x" * 200,
    "армія " * 33,
    "\u202e\u200b army",
    "ﬁnal",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_are_answered_without_error_or_writes(client, q):
    clauses = Clause.objects.count()
    with CaptureQueriesContext(connection) as queries:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(URL, {"q": q}, headers=headers)
            assert response.status_code in (200, 400), response.status_code
    writes = [x["sql"] for x in queries if not x["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
    assert writes == []
    assert Clause.objects.count() == clauses


def test_a_query_over_200_characters_is_a_400_with_a_message(client):
    html = page(client, "a" * 1000, status=400)
    assert "Search for at most 200 characters (this search has 1,000)." in html


def test_q_given_twice_is_a_400(client):
    response = client.get(URL + "?q=army&q=cap")
    assert response.status_code == 400
    assert "“q” was given 2 times; give it once." in response.content.decode()


def test_an_unknown_plan_is_a_404_and_a_malformed_one_a_400(client):
    assert client.get(URL, {"q": "army", "plan": "nope"}).status_code == 404
    assert client.get(URL, {"q": "army", "plan": "no pe\x00"}).status_code == 400


def test_nul_bytes_are_refused_before_the_search(client, event):
    """peaceplans/ops/limits.py answers a NUL anywhere in the address with a 400 (tests/ops/test_limits.py)."""
    html = page(client, "zanzi\x00bar", status=400)
    assert "\x00" not in html
    assert "The address contains a NUL character (%00), which is not text: remove it." in html


@pytest.mark.usefixtures("page_cache_off")
def test_only_symbols_says_there_is_nothing_to_search_for(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        html = page(client, "🙂 ** --")
    assert "no letters or digits" in html


# Empty query


@pytest.mark.usefixtures("page_cache_off")
def test_empty_query_shows_the_form_and_a_hint_without_asking_the_index(client, django_assert_num_queries):
    for q in (None, "", "   "):
        with django_assert_num_queries(1):  # the plans, for the form; not the index
            html = page(client, q)
        assert '<input type="search" id="search-q" name="q"' in html
        assert "the results appear as you type" in html
        assert 'class="search-hit"' not in html and 'id="results"' in html


# Notes: drafts never, published ones always


def test_a_draft_note_is_never_found_and_a_published_one_is(client, plan):
    point = plan.points.get(key="6")
    draft = Annotation.objects.create(point=point, body="Unverified: *quasiquorum* claim.")
    assert draft.status == Annotation.Status.DRAFT
    assert found("quasiquorum")["note"] == []
    assert 'class="search-hit"' not in page(client, "quasiquorum")
    draft.status = Annotation.Status.PUBLISHED
    draft.save()
    assert found("quasiquorum")["note"] == [draft]
    notes = group_html(page(client, "quasiquorum"), "note")
    assert f'href="{draft.get_absolute_url()}"' in notes
    assert "Unverified: <mark>quasiquorum</mark> claim." in notes  # Markdown shown as the text a reader sees
    draft.status = Annotation.Status.DRAFT
    draft.save()
    assert found("quasiquorum")["note"] == []


def test_a_deleted_note_is_gone(plan):
    note = Annotation.objects.create(
        point=plan.points.get(key="6"), body="Quasiquorum.", status=Annotation.Status.PUBLISHED
    )
    assert found("quasiquorum")["note"] == [note]
    note.delete()
    assert found("quasiquorum")["note"] == []


# The index follows every write


def test_editing_a_clause_text_moves_it_in_the_index():
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", number="6")
    clause.text = "Ukraine's armed forces are limited to 850,000 xylophonists in peacetime."
    clause.save()
    assert clause in found("xylophonists")["clause"]
    assert clause in found("850,000")["clause"]
    assert clause not in found("800,000")["clause"]


def test_a_dropped_clause_is_not_found():
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", number="6")
    clause.text = "Xylophonists."
    clause.save()
    assert clause in found("xylophonists")["clause"]
    clause.text, clause.dropped = "", True
    clause.save()
    assert found("xylophonists")["clause"] == []


def test_editing_a_stance_and_deleting_an_event(event):
    stance = Stance.objects.first()
    stance.quote = "We will never accept the zanzibar formula."
    stance.speaker = "Ostrogradsky (minister)"
    stance.save()
    assert stance in found("zanzibar formula")["stance"]
    assert stance in found("ostrogradsky")["stance"]
    assert event in found("zanzibar")["event"]
    event.delete()
    assert found("zanzibar")["event"] == []
    stance.delete()
    assert found("ostrogradsky")["stance"] == []


def test_a_write_rolled_back_leaves_the_index_as_it_was():
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", number="6")
    with pytest.raises(RuntimeError), transaction.atomic():
        clause.text = "Xylophonists."
        clause.save()
        assert clause in found("xylophonists")["clause"]
        raise RuntimeError
    assert found("xylophonists")["clause"] == []
    assert clause in found("800,000")["clause"]


def test_importing_a_revision_through_the_service_is_searchable(plan, demo_json):
    data = {
        "slug": "vienna-draft",
        "title": "Vienna draft",
        "author": "europe",
        "published_on": "2026-01-10",
        "status": "leaked-draft",
        "points": [
            {
                "number": "1",
                "topic": demo_json["revisions"][0]["points"][5]["topic"],
                "derived_from": "6",
                "text": "Ukraine's army is capped at 700,000 hippogriffs.",
            }
        ],
    }
    revisions_import(data=data, plan_slug=PLAN)
    clause = Clause.objects.get(revision__slug="vienna-draft")
    assert found("hippogriffs")["clause"] == [clause]
    assert clause in found("700,000")["clause"]
    data["points"][0]["text"] = "Ukraine's army is capped at 700,000 griffins."
    revisions_import(data=data, plan_slug=PLAN)
    assert found("hippogriffs")["clause"] == [] and found("griffins")["clause"] == [clause]


def test_a_pasted_draft_is_searchable_once_published(plan, demo_json):
    data = {
        "slug": "pasted-draft",
        "title": "Pasted draft",
        "author": "us",
        "published_on": "2026-01-11",
        "status": "leaked-draft",
        "points": [
            {
                "number": "1",
                "topic": demo_json["revisions"][0]["points"][5]["topic"],
                "derived_from": "6",
                "text": "The army is left to the basilisks.",
            }
        ],
    }
    result = revision_create_from_paste(data=data, plan_slug=PLAN)
    assert not result.revision.public and found("basilisks")["clause"] == []  # pasted drafts start unpublished
    revisions_publish(Revision.objects.filter(pk=result.revision.pk))
    assert [c.revision.slug for c in found("basilisks")["clause"]] == ["pasted-draft"]
    revisions_publish(Revision.objects.filter(pk=result.revision.pk), public=False)
    assert found("basilisks")["clause"] == []


def test_reindex_repairs_writes_that_bypassed_the_signals(plan):
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", number="6")
    Clause.objects.filter(pk=clause.pk).update(text="Chimeras only.")  # QuerySet.update sends no signal
    search.reindex(plan=plan)
    assert found("chimeras")["clause"] == [clause]
    assert clause not in found("800,000")["clause"]


@sqlite_only
def test_rebuild_search_index_command_restores_an_emptied_index(capsys):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM peaceplans_search")
    assert found("800,000")["clause"] == []
    call_command("rebuild_search_index")
    assert "Search index rebuilt:" in capsys.readouterr().out
    assert len(found("800,000")["clause"]) == 3


# The page


def test_the_highlight_is_escaped_and_marks_only_the_match(client):
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", number="6")
    clause.text = "<script>alert('manticore')</script> & <b>manticore</b> cap"
    clause.save()
    wording = group_html(page(client, "manticore"), "clause")
    assert "<script>" not in wording and "<b>" not in wording
    assert (
        "&lt;script&gt;alert(&#x27;<mark>manticore</mark>&#x27;)&lt;/script&gt; &amp; "
        "&lt;b&gt;<mark>manticore</mark>&lt;/b&gt; cap"
    ) in wording
    assert re.findall(r"<(\w+)", wording.split('class="search-hit__text">')[1].split("</p>")[0]) == ["mark", "mark"]


def test_highlight_escapes_everything_and_skips_bad_spans():
    assert highlight("<a> & b", [(0, 3), (1, 2), (6, 99)]) == "<mark>&lt;a&gt;</mark> &amp; b"


def test_a_long_text_is_cut_around_the_first_match(event):
    event.summary = ("Filler words about nothing. " * 30) + "The griffin clause. " + ("More filler here. " * 30)
    event.save()
    hit = search.search("griffin").group("event").hits[0]
    snippet = str(hit.fields["summary"])
    assert "<mark>griffin</mark>" in snippet
    assert snippet.startswith("…") and snippet.endswith("…") and len(snippet) < 360


def test_the_plan_filter_keeps_to_one_plan(client, plan):
    other = Plan.objects.create(slug="other-plan", title="Another negotiation")
    elsewhere = Event.objects.create(plan=other, date=datetime.date(2025, 1, 1), title="Zanzibar elsewhere")
    here = Event.objects.create(plan=plan, date=datetime.date(2025, 1, 2), title="Zanzibar here")
    assert set(found("zanzibar")["event"]) == {here, elsewhere}
    assert found("zanzibar", plan=plan)["event"] == [here]
    html = page(client, "zanzibar", plan=PLAN)
    assert "<mark>Zanzibar</mark> here" in html and "elsewhere" not in html
    assert '<option value="russia-ukraine-2025" selected>' in html  # two plans: the form offers the choice


def test_htmx_gets_the_results_region_and_a_full_load_gets_the_page(client):
    full = client.get(URL, {"q": "800,000"})
    assert full.content.decode().lstrip().lower().startswith("<!doctype html>")
    assert 'id="search-form"' in full.content.decode()
    assert "HX-Request" in full["Vary"]
    partial = client.get(URL, {"q": "800,000"}, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith("<title>Search: 800,000 · peaceplans</title>")
    assert '<div id="results"' in partial and 'id="search-form"' not in partial and "<html" not in partial
    assert '<p id="search-status" hx-swap-oob="innerHTML">' in partial
    assert "<mark>800,000</mark>" in partial


def test_the_form_updates_the_results_as_you_type_and_keeps_the_address(client):
    html = page(client, "army")
    form = html.split('<form id="search-form"')[1].split(">")[0]
    assert 'method="get"' in form and 'action="/search/"' in form
    assert 'hx-get="/search/"' in form and 'hx-target="#results"' in form and 'hx-replace-url="true"' in form
    assert "input changed delay:300ms" in form
    assert 'value="army"' in html


def test_the_header_links_to_search(client):
    html = client.get(f"/plans/{PLAN}/").content.decode()
    assert 'href="/search/">Search</a>' in html
    assert 'href="/search/" aria-current="page">Search</a>' in page(client, "army")


def test_nothing_found_says_so(client):
    html = page(client, "quetzalcoatl")
    assert "Nothing matches “quetzalcoatl”." in html and 'class="search-hit"' not in html


# Query count: small, and the same whatever the number of matches


def _more_matches(plan, n: int):
    party = Party.objects.get(slug="russia")
    source = Source.objects.create(url="https://example.org/more", outlet="Example", kind="official")
    revision = plan.revisions.get(slug="us-28-point-draft")
    points = list(plan.points.all()[:n])
    for i, point in enumerate(points):
        Event.objects.create(plan=plan, date=datetime.date(2025, 11, 1), title=f"Army talks {i}", source=source)
        Stance.objects.create(
            plan=plan, party=party, point=point, revision=revision, position="opposes",
            stated_on=datetime.date(2025, 11, 2), summary=f"Army remark {i}", quote="army", speaker="A. Speaker",
            source=source,
        )  # fmt: skip
        Annotation.objects.create(point=point, body=f"Army note {i}", status=Annotation.Status.PUBLISHED)
    Clause.objects.filter(revision=revision, point__in=points).update(text="The army is mentioned.")
    search.reindex(plan=plan)


@pytest.mark.usefixtures("page_cache_off")
def test_a_search_runs_a_fixed_small_number_of_queries(client, plan, django_assert_num_queries, monkeypatch):
    Annotation.objects.create(point=plan.points.get(key="6"), body="Army note.", status=Annotation.Status.PUBLISHED)
    Clause.objects.filter(revision__slug="e3-counter-proposal", number="6").update(change_note="Army cap raised.")
    search.reindex(plan=plan)
    # plans, the aliases, the words "army" (as typed, a prefix) stands for, the index, and one per kind of
    # object (four: clauses, for wording and changes, with their previous revision; stances, notes,
    # events with their joins): 8, within the page's budget of 10
    with django_assert_num_queries(8):
        small = page(client, "army")
    assert all(group_html(small, kind) for kind in search.KINDS)
    with django_assert_num_queries(7):
        page(client, "army ")  # a whole word: no prefix to look up
    _more_matches(plan, 15)
    with django_assert_num_queries(8):
        large = page(client, "army")
    assert large.count('class="search-hit"') > small.count('class="search-hit"') + 40
    monkeypatch.setattr(search, "COUNT_LIMIT", 10)  # every kind but changes now has more matches than are counted
    with django_assert_num_queries(8):
        capped = page(client, "army")
    assert capped.count("more than 10") == 8  # the four counts and the four headings


def test_each_kind_shows_at_most_twenty_with_the_full_count(client, plan):
    _more_matches(plan, 25)
    results = search.search("army")
    for group in results.groups:
        assert len(group.hits) == min(group.count, 20)
    assert results.group("event").count >= 25
    assert f"The 20 closest matches of {results.group('event').count}" in page(client, "army")


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's GIN expression indexes")
def test_postgresql_uses_the_gin_indexes():
    """The queries' expressions are exactly the indexed ones, or the planner could not use them."""
    with connection.cursor() as cursor:
        # Without sequential or plain index scans, a bitmap scan of the GIN index is the only cheap path
        # left; otherwise, on a tiny table, the planner may walk another index (point_id) and filter.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql = search._PostgresBackend.find_sql(in_plan=False)
        cursor.execute("EXPLAIN " + sql, {"query": "'army'", "plan": None, "limit": 20, "over": 1001})
        explained = "\n".join(row[0] for row in cursor.fetchall())
    for index in ("clause", "stance", "annotation", "event", "change"):
        assert f"peaceplans_{index}_search" in explained, explained
    assert explained.count("One-Time Filter") == 10, explained  # per kind, the branch the count rules out never runs


# The work of a search is bounded: counts stop at COUNT_LIMIT, and beyond it some matches are shown, unranked


def _events(plan, n: int, title: str, start: int = 0) -> list[Event]:
    """n events whose titles hold `title`, added in one go (and to the SQLite index)."""
    events = Event.objects.bulk_create(
        Event(plan=plan, date=datetime.date(2025, 12, 1), title=f"{title} {i}", summary="Filler.")
        for i in range(start, start + n)
    )
    search.reindex(plan=plan)
    return sorted(events, key=lambda e: e.pk)


def _some_of(hits, objects) -> list:
    """The hits' objects, checked to be matches, newest first; on SQLite the latest of all."""
    found = [hit.obj for hit in hits]
    assert set(found) <= set(objects) and found == sorted(found, key=lambda o: -o.pk)
    if connection.vendor == "sqlite":  # FTS5 reads the rowids backwards; PostgreSQL the first its index hands over
        assert found == sorted(objects, key=lambda o: -o.pk)[: len(found)]
    return found


@pytest.mark.usefixtures("page_cache_off")
def test_more_than_1000_matches_say_so_and_show_20_of_them(client, plan, django_assert_num_queries):
    events = _events(plan, 1005, "Wyvernmoot")
    results = search.search("wyvernmoot")
    group = results.group("event")
    assert group.capped and group.count == 1001 and group.count_label == "more than 1,000"
    shown = _some_of(group.hits, events)
    assert len(shown) == 20
    assert results.found == "More than 1,000 matches"
    with django_assert_num_queries(5):  # plans, aliases, the words of the prefix, index, events
        html = page(client, "wyvernmoot")
    assert "More than 1,000 matches for “wyvernmoot”." in html
    assert "Events <strong>more than 1,000</strong>" in html
    assert 'Events <span class="meta">(more than 1,000)</span>' in html
    events_html = group_html(html, "event")
    assert "More than 1,000 matches, too many to rank: here are 20 of them." in events_html
    assert events_html.count('class="search-hit"') == 20
    assert f"<mark>Wyvernmoot</mark> {shown[0].title.split()[-1]}<" in events_html
    assert 'content="More than 1,000 matches for “wyvernmoot”' in html  # the share card says it too


def test_up_to_the_limit_the_count_is_exact_and_the_best_come_first(plan):
    events = _events(plan, 30, "Hippocampus")
    best = Event.objects.create(
        plan=plan, date=datetime.date(2025, 12, 2), title="Hippocampus hippocampus", summary="Hippocampus."
    )
    search.reindex(plan=plan)
    exact = search.search("hippocampus", count_limit=31)
    group = exact.group("event")
    assert (group.count, group.capped, group.count_label) == (31, False, "31")
    assert group.hits[0].obj == best  # ranked: the one that says it three times, though not the first added
    assert len(group.hits) == 20 and exact.found == "31 matches"
    capped = search.search("hippocampus", count_limit=30).group("event")
    assert (capped.count, capped.capped, capped.count_label) == (31, True, "more than 30")
    assert len(_some_of(capped.hits, [best, *events])) == 20  # not ranked


def test_the_limit_counts_each_kind_on_its_own_and_in_one_plan(plan):
    other = Plan.objects.create(slug="other-plan", title="Another negotiation")
    _events(other, 40, "Cockatrice")
    here = Event.objects.create(plan=plan, date=datetime.date(2025, 12, 2), title="Cockatrice here")
    note = Annotation.objects.create(
        point=plan.points.get(key="6"), body="A *cockatrice* note.", status=Annotation.Status.PUBLISHED
    )
    everywhere = search.search("cockatrice", count_limit=10)
    assert [(g.kind, g.count_label) for g in everywhere.groups if g.count] == [
        ("note", "1"),
        ("event", "more than 10"),
    ]
    assert everywhere.found == "More than 11 matches"
    in_plan = search.search("cockatrice", plan=plan, count_limit=10)
    assert {g.kind: [h.obj for h in g.hits] for g in in_plan.groups if g.hits} == {"note": [note], "event": [here]}
    assert not in_plan.capped and in_plan.found == "2 matches"


def test_a_plan_number_is_not_a_word_of_its_texts(plan):
    event = Event.objects.create(plan=plan, date=datetime.date(2025, 12, 2), title="Basilisk talks")
    assert event in found("basilisk")["event"]
    assert event not in found(f"{plan.pk} ")["event"]  # the plan's number is indexed (SQLite), not searchable
    assert event not in found(f"basilisk {plan.pk} ")["event"]


def test_a_final_single_character_is_a_whole_word_not_a_prefix():
    assert parse_query("army c") == [(Phrase(("army",)),), (Phrase(("c",)),)]
    assert parse_query('"army c') == [(Phrase(("army", "c")),)]
    assert parse_query("army ca") == [(Phrase(("army",)),), (Phrase(("ca",), prefix=True),)]


@sqlite_only
def test_a_long_prefix_is_asked_as_the_words_it_stands_for(plan):
    Event.objects.create(plan=plan, date=datetime.date(2025, 12, 2), title="Gryphonsworn and gryphonswornly oaths")
    backend = search._backend()
    assert backend.expand(parse_query("gryphonsw")) == [
        (Phrase(("gryphonsworn",)), Phrase(("gryphonswornly",))),
    ]
    assert backend.expand(parse_query('"and gryphonsw')) == [
        (Phrase(("and", "gryphonsworn")), Phrase(("and", "gryphonswornly"))),
    ]
    assert backend.expand(parse_query("gry")) == parse_query("gry")  # FTS5 has an index of 3-letter prefixes
    assert backend.expand(parse_query("gryphonsx")) == parse_query("gryphonsx")  # no such word: left as it was
    assert len(found("gryphonsw")["event"]) == 1


@sqlite_only
def test_a_prefix_of_many_words_stays_a_prefix(plan, monkeypatch):
    monkeypatch.setattr(search.backends, "EXPAND_MAX_WORDS", 2)
    Event.objects.create(plan=plan, date=datetime.date(2025, 12, 2), title="Quokkaa quokkab quokkac")
    assert search._backend().expand(parse_query("quokka")) == parse_query("quokka")
    assert len(found("quokka")["event"]) == 1


@sqlite_only
def test_the_search_reads_only_the_index_one_kind_at_a_time():
    """Per kind a rowid range of the FTS5 tables (stemmed, and exact for the ranking), never the tables themselves."""
    backend = search._backend()
    params = {"match": backend.match(parse_query("army")), "exact": backend.match(parse_query("army")), "over": 1001}
    params["limit"] = 20
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + backend.find_sql(), params)
        plan = [row[-1] for row in cursor.fetchall()]
    scans = [step for step in plan if step.startswith(("SCAN", "SEARCH")) and "peaceplans_" in step]
    tables = ("SCAN peaceplans_search VIRTUAL TABLE INDEX", "SCAN peaceplans_search_exact VIRTUAL TABLE INDEX")
    assert scans and all(step.startswith(tables) for step in scans), plan
    assert sum(step.startswith(tables[1]) for step in scans) == len(search.KINDS)  # the exact words, for ranking
    assert all(step.endswith("><") for step in scans), plan  # a lower and an upper bound on the rowid


@sqlite_only
def test_the_work_does_not_grow_with_the_number_of_matches(plan):
    """SQLite's virtual machine steps for a search: about the same with 60 and with 600 matches past the limit."""
    _events(plan, 60, "Manticora")

    def steps() -> int:
        count = 0

        def tick():
            nonlocal count
            count += 1

        connection.ensure_connection()
        connection.connection.set_progress_handler(tick, 1)
        try:
            search.search("manticora ", count_limit=50)
        finally:
            connection.connection.set_progress_handler(None, 1)
        return count

    few = steps()
    _events(plan, 540, "Manticora", start=60)
    many = steps()
    assert many < few * 1.2, (few, many)


def test_hostile_words_aimed_at_the_index_columns_are_words(client, plan):
    event = Event.objects.create(plan=plan, date=datetime.date(2025, 12, 2), title="Plan title body quote")
    for q in ("plan : 1", "{title body} : x", "plan:* ", "quote", "title body", "NEAR(plan title)", "- plan"):
        response = client.get(URL, {"q": q})
        assert response.status_code == 200, q
    assert event in found("plan title body quote")["event"]
    assert event not in found("plan : 1 ")["event"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_folding_a_text_is_folding_each_character(text):
    """Highlighting folds a whole text at once (str.translate, lower() for ASCII): as one character at a time."""
    assert query._fold(text) == "".join(query._fold_char(char) for char in text)
    assert len(query._fold(text)) == len(text)  # positions carry over to the original
