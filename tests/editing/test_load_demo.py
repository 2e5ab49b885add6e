"""
load_demo: everything in the shipped JSON files arrives in the database, nothing is lost,
and loading again changes nothing. Expected figures come from the files (demo_json).
"""

import json
import shutil
from collections import Counter
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from peaceplans.editing.services import DEMO_DIR, ImportProblem, demo_load
from peaceplans.models import Alias, Clause, Event, Party, Point, Revision, Source, Stance, Topic

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
TELEGRAPH = "europe-24-point-telegraph"


def clause(revision: str, number: str) -> Clause:
    return Clause.objects.select_related("point__split_from").get(revision__slug=revision, number=number)


def snapshot() -> dict:
    models = (Revision, Clause, Point, Source, Stance, Event, Party, Topic, Alias)
    return {
        "counts": {m.__name__: m.objects.count() for m in models},
        "history": {m.__name__: m.objects.count() for m in apps.get_models() if m.__name__.startswith("Historical")},
    }


# Revisions and clauses


def test_every_revision_is_loaded(demo_json):
    """One revision per entry of revisions.json, with its title."""
    expected = {r["slug"]: r["title"] for r in demo_json["revisions"]}
    assert dict(Revision.objects.filter(plan__slug=PLAN).values_list("slug", "title")) == expected


def test_revision_authors_date_and_status_match(demo_json):
    """Each revision keeps its authoring parties, date and status (spaces become hyphens)."""
    for data in demo_json["revisions"]:
        rev = Revision.objects.get(slug=data["slug"])
        authors = data["author"] if isinstance(data["author"], list) else [data["author"]]
        assert set(rev.authors.values_list("slug", flat=True)) == set(authors), rev.slug
        assert (str(rev.published_on), rev.status) == (data["published_on"], data["status"].replace(" ", "-"))


def test_clauses_per_revision_match_points_per_revision(demo_json):
    """Each revision has exactly as many clauses as it has points in the JSON."""
    expected = {r["slug"]: len(r["points"]) for r in demo_json["revisions"]}
    actual = {slug: Clause.objects.filter(revision__slug=slug).count() for slug in expected}
    assert actual == expected


def test_every_clause_keeps_its_text_and_change_note(demo_json):
    """No wording is lost: each clause's text and change note equal the JSON's."""
    expected = {
        (r["slug"], p["number"]): ((p["text"] or "").strip(), p["change_note"] or "")
        for r in demo_json["revisions"]
        for p in r["points"]
    }
    actual = {(c.revision.slug, c.number): (c.text, c.change_note) for c in Clause.objects.select_related("revision")}
    assert actual == expected


def test_dropped_clauses_are_exactly_the_deleted_points(demo_json):
    """Points marked deleted, and only those, become dropped clauses with empty text."""
    expected = {(r["slug"], p["number"]) for r in demo_json["revisions"] for p in r["points"] if p["deleted"]}
    dropped = Clause.objects.filter(dropped=True).select_related("revision")
    assert {(c.revision.slug, c.number) for c in dropped} == expected
    assert all(c.text == "" for c in dropped)


def test_dropped_clause_belongs_to_the_point_it_drops(demo_json):
    """Geneva '?26' drops draft point 26: the dropped clause is on Point '26'."""
    assert clause("us-ukraine-geneva-framework", "?26").point.key == "26"


def test_derived_clauses_are_tied_to_the_draft_points_they_answer(demo_json):
    """Every point with derived_from N sits on Point N, unless a split made it a new point."""
    for r in demo_json["revisions"]:
        used = set()
        for p in r["points"]:
            if p["derived_from"] is None:
                continue
            c = clause(r["slug"], p["number"])
            if p["derived_from"] in used:
                assert c.point.split_from.key == p["derived_from"], (r["slug"], p["number"])
            else:
                assert c.point.key == p["derived_from"], (r["slug"], p["number"])
            used.add(p["derived_from"])


def test_point_titles_come_from_plan_json(demo_json):
    """Every point listed in point_titles carries that title."""
    titles = demo_json["plan"]["point_titles"]
    actual = dict(Point.objects.filter(plan__slug=PLAN, key__in=titles).values_list("key", "title"))
    assert actual == titles


def test_parties_and_topics_come_from_plan_json(demo_json):
    """The four parties and every topic of plan.json are loaded, with their names and colours."""
    parties = {p["slug"]: (p["name"], p["short_name"], p["colour"]) for p in demo_json["plan"]["parties"]}
    assert {p.slug: (p.name, p.short_name, p.colour) for p in Party.objects.all()} == parties
    assert dict(Topic.objects.values_list("slug", "name")) == {
        t["slug"]: t["name"] for t in demo_json["plan"]["topics"]
    }


# The telegraph revision: one draft point split into three


def test_telegraph_point_6_takes_the_identity_of_draft_point_24():
    """The first clause answering draft point 24 is Point '24' itself."""
    assert clause(TELEGRAPH, "6").point.key == "24"


@pytest.mark.parametrize("number", ["7", "8"])
def test_telegraph_points_7_and_8_are_new_points_split_from_24(number):
    """Later clauses answering point 24 become new points keyed by revision and number, split from 24."""
    point = clause(TELEGRAPH, number).point
    assert point.key == f"{TELEGRAPH}-{number}"
    assert point.split_from.key == "24"


def test_split_points_sort_right_under_their_parent():
    """In plan order, 24's splits follow 24 directly."""
    keys = list(Point.objects.filter(plan__slug=PLAN).in_order().values_list("key", flat=True))
    i = keys.index("24")
    assert keys[i : i + 3] == ["24", f"{TELEGRAPH}-7", f"{TELEGRAPH}-8"]


# Stances


def test_stance_count_matches(demo_json):
    """All 69 stances are loaded."""
    assert len(demo_json["stances"]) == 69
    assert Stance.objects.filter(plan__slug=PLAN).count() == 69


def test_stances_per_party_match(demo_json):
    """Each party has as many stances as the JSON gives it."""
    expected = Counter(s["party"] for s in demo_json["stances"])
    assert Counter(Stance.objects.values_list("party__slug", flat=True)) == expected


def test_every_stance_is_loaded_with_its_content_and_source(demo_json):
    """Each JSON stance has one row with the same target, position, date, words, source URL and source kind."""
    number_of = {(c.revision_id, c.point_id): c.number for c in Clause.objects.all()}

    def row(s):
        return (
            s.party.slug,
            s.revision.slug,
            number_of.get((s.revision_id, s.point_id)),
            s.position,
            str(s.stated_on),
            s.summary,
            s.quote,
            s.speaker,
            s.source.url,
            s.source.kind,
        )

    expected = Counter(
        (
            s["party"],
            s["revision"],
            s["point"],
            s["position"],
            s["date"],
            s["summary"],
            s.get("quote") or "",
            s.get("speaker") or "",
            s["source"]["url"],
            s["source"]["kind"],
        )
        for s in demo_json["stances"]
    )
    assert Counter(row(s) for s in Stance.objects.select_related("party", "revision", "source")) == expected


def test_stance_on_a_revision_point_resolves_to_the_right_point(demo_json):
    """The stance on E3 point 6 is on Point '6'."""
    data = next(s for s in demo_json["stances"] if (s["revision"], s["point"]) == ("e3-counter-proposal", "6"))
    stance = Stance.objects.get(party__slug=data["party"], revision__slug=data["revision"], summary=data["summary"])
    assert stance.point.key == "6"


def test_stance_on_a_renumbered_point_resolves_through_derived_from():
    """Russia's stance on Berlin bullet 2 (which answers draft point 8) is on Point '8'."""
    stance = Stance.objects.get(party__slug="russia", revision__slug="berlin-joint-statement", point__isnull=False)
    assert stance.point.key == "8"


def test_whole_revision_stances_have_no_point(demo_json):
    """Stances with point null in the JSON are about the revision as a whole."""
    expected = sum(1 for s in demo_json["stances"] if s["point"] is None)
    assert Stance.objects.filter(point__isnull=True).count() == expected


# Events


def test_every_event_is_loaded_with_its_parties_and_source(demo_json):
    """32 events, each with its date, title, parties and source URL."""
    expected = {(e["date"], e["title"]): (frozenset(e["parties"]), e["source"]["url"]) for e in demo_json["events"]}
    actual = {
        (str(e.date), e.title): (frozenset(e.parties.values_list("slug", flat=True)), e.source.url)
        for e in Event.objects.select_related("source")
    }
    assert len(actual) == len(demo_json["events"]) == 32
    assert actual == expected


# Sources


def test_every_source_is_loaded_with_kind_via_and_citable_flag(demo_json):
    """Every URL of sources.json is a Source with its outlet, kind, via and citable flag; no others."""
    expected = {s["url"]: (s["outlet"], s["kind"], s["via"], s["citable"]) for s in demo_json["sources"]}
    actual = {s.url: (s.outlet, s.kind, s.via, s.citable) for s in Source.objects.all()}
    assert actual == expected


def test_pravda_network_pages_are_not_citable():
    """Pages of news-pravda.com and its language editions are kept but never citable."""
    pravda = Source.objects.filter(url__contains="news-pravda.com")
    assert pravda.exists()
    assert not pravda.filter(citable=True).exists()


def test_revision_sources_are_attached(demo_json):
    """Each revision cites exactly the sources listed on it in the JSON."""
    for r in demo_json["revisions"]:
        urls = set(Revision.objects.get(slug=r["slug"]).sources.values_list("url", flat=True))
        assert urls == {s["url"] for s in r["sources"]}, r["slug"]


def test_point_sources_are_attached_to_their_clauses(demo_json):
    """Every point-level source URL is linked to that point's clause, and nothing else is."""
    expected = {(r["slug"], p["number"]): set(p["sources"]) for r in demo_json["revisions"] for p in r["points"]}
    actual = {}
    for c in Clause.objects.select_related("revision").prefetch_related("sources"):
        actual[(c.revision.slug, c.number)] = {s.url for s in c.sources.all()}
    assert actual == expected


# Loading again, and loading bad data


def test_second_load_changes_no_counts_and_adds_no_history(demo_json):
    """load_demo is idempotent: counts and every history table stay the same."""
    before = snapshot()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert snapshot() == before
    assert f"{len(demo_json['revisions'])} revisions" in out.getvalue()
    assert f"{len(demo_json['stances'])} stances, {len(demo_json['events'])} events" in out.getvalue()


def broken_copy(tmp_path, name, change):
    """The demo folder copied to tmp_path, with one file changed by change(data)."""
    folder = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, folder)
    data = json.loads((folder / name).read_text())
    change(data)
    (folder / name).write_text(json.dumps(data))
    return folder


def test_failed_demo_load_writes_nothing(tmp_path):
    """A bad last stance undoes the whole load, including a source change made earlier in the run."""
    folder = broken_copy(tmp_path, "stances.json", lambda d: d[-1].update(revision="nope"))
    sources = json.loads((folder / "sources.json").read_text())
    sources[0]["outlet"] = "Changed outlet"
    (folder / "sources.json").write_text(json.dumps(sources))
    before = snapshot()
    with pytest.raises(ImportProblem, match="stance 69: unknown revision 'nope'"):
        demo_load(folder=folder)
    assert snapshot() == before
    assert Source.objects.get(url=sources[0]["url"]).outlet != "Changed outlet"


def test_bad_event_source_error_names_events_json(tmp_path):
    """An error in an event's source names events.json, the file to fix."""
    folder = broken_copy(tmp_path, "events.json", lambda d: d[0]["source"].update(kind="blog"))
    with pytest.raises(ImportProblem) as caught:
        demo_load(folder=folder)
    assert "events.json" in str(caught.value)


# The dataset's December 2026 release (issue 21)


def test_every_revision_has_its_short_label():
    assert dict(Revision.objects.values_list("slug", "short_label")) == {
        "us-28-point-draft": "US draft",
        "e3-counter-proposal": "E3",
        "europe-24-point-telegraph": "EU 24",
        "us-ukraine-geneva-framework": "Geneva",
        "berlin-joint-statement": "Berlin",
        "ukraine-us-20-point-draft": "20-point",
    }


def test_wording_notes_are_loaded_beside_the_text(demo_json):
    expected = {
        (r["slug"], p["number"]): p["wording_note"]
        for r in demo_json["revisions"]
        for p in r["points"]
        if p.get("wording_note")
    }
    actual = {
        (c.revision.slug, c.number): c.wording_note
        for c in Clause.objects.exclude(wording_note="").select_related("revision")
    }
    assert actual == expected and len(expected) >= 9
    assert all(
        note not in Clause.objects.get(revision__slug=slug, number=number).text
        for (slug, number), note in expected.items()
    )


def test_the_donetsk_zone_stances_are_on_21d():
    on_21d = set(Stance.objects.filter(point__key="21d").values_list("party__slug", flat=True))
    assert on_21d == {"us", "ukraine", "russia"}


def test_a_stance_the_dataset_moved_to_another_point_moves_on_reload():
    """A database loaded from the release that filed the Donetsk-zone stances under 21 is corrected by a reload."""
    moved = Stance.objects.filter(point__key="21d")
    count = Stance.objects.count()
    Stance.objects.filter(pk__in=moved).update(point=Point.objects.get(key="21"))  # as the old release had them
    assert not Stance.objects.filter(point__key="21d").exists()
    call_command("load_demo", stdout=StringIO())
    assert Stance.objects.filter(point__key="21d").count() == 3 and Stance.objects.count() == count


def test_the_demo_editors_mark_the_material_changes():
    """The compare page's 'what changed most' needs them: E3's army cap, NATO, territory and amnesty among them."""
    e3 = set(
        Clause.objects.filter(revision__slug="e3-counter-proposal", material_change=True).values_list(
            "number", flat=True
        )
    )
    assert {"6", "7", "21", "26"} <= e3 and "5" not in e3 and "1" not in e3


# Aliases (issue 20)


def test_the_demo_aliases_are_loaded_once_and_editors_changes_survive_a_reload(demo_json):
    """Every line of plan.json's aliases is an Alias; a reload adds none again and keeps an editor's edit."""
    lines = demo_json["plan"]["aliases"]
    assert Alias.objects.count() == len(lines)
    assert "Zelenskyy, Zelensky, Zelenskiy, Zelenskii, Зеленський, Зеленский" in set(
        Alias.objects.values_list("spellings", flat=True)
    )
    edited = Alias.objects.get(spellings__startswith="Kyiv")
    edited.note = "Kiev: the Russian-derived spelling, in older reports"
    edited.save()
    call_command("load_demo", stdout=StringIO())
    assert Alias.objects.count() == len(lines)
    assert Alias.objects.get(pk=edited.pk).note == edited.note


@pytest.mark.parametrize(
    ("aliases", "message"),
    [
        ("Zelenskyy", "expected a list"),
        ([7], "alias 1: expected a line of text"),
        (["Kyiv, Kiev", "Kyiv"], "alias 2: Give at least two different spellings"),
        (["Kyiv, kyiv"], "alias 1: Give at least two different spellings"),
        (["Kyiv, ---"], "alias 1: '---' has no letter or digit"),
        (["Kyiv, Ki\u202eev"], "alias 1: 'Ki\u202eev' contains control characters"),
    ],
)
def test_a_bad_alias_line_stops_the_load_and_writes_nothing(tmp_path, aliases, message):
    folder = broken_copy(tmp_path, "plan.json", lambda d: d.update(aliases=aliases))
    before = snapshot()
    with pytest.raises(ImportProblem, match=message.replace("(", r"\(")) as caught:
        demo_load(folder=folder)
    assert "plan.json" in str(caught.value)
    assert snapshot() == before
