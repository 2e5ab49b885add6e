"""
The paste page's proposals (peaceplans/editing/alignment.py), their measurement on the demo's
texts (alignment_eval.py, which `make bench` reports too), and `manage.py propose_alignment`.
"""

import dataclasses
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peaceplans.editing import alignment, alignment_eval, paste, proposals
from peaceplans.editing.alignment import Candidate, propose
from peaceplans.models import Clause, Stance
from peaceplans.search import aliases as alias_table

# Floors under the figures measured (issue 20): top-1 87% (46 of 53) over E3, EU 24 and the
# 20-point text, new points 80% (4 of 5), with what was said of the draft's points until each text
# arrived (85%, 45 of 53, without it). Before the method: 53% (28 of 53), and 5 of 5 new, as it
# proposed almost everything as new. Among the three proposals the page shows: 92% (49 of 53).
# A change that loses a clause fails here; one that gains should raise the floors.
FLOOR_MATCHED = 46
FLOOR_NEW = 4
FLOOR_SHOWN = 49

ARMY = Candidate(
    "6", "Army cap", "Military limits", ("Ukraine's Armed Forces are capped at 600,000 personnel.",), ("6",)
)
NATO = Candidate(
    "7", "No NATO membership", "NATO", ("Ukraine writes into its constitution that it will not join NATO.",)
)
PLANT = Candidate(
    "19",
    "Zaporizhzhia nuclear plant",
    "Nuclear",
    ("The Zaporizhzhia Nuclear Power Plant is restarted under IAEA supervision.",),
)
ELECTIONS = Candidate("25", "Elections", "Governance", ("Ukraine holds elections within 100 days.",))
POINTS = [ARMY, NATO, PLANT, ELECTIONS]


def first(clauses, candidates=POINTS, aliases=None):
    return [choices[0] for choices in propose(clauses, candidates, aliases)]


# --- The measurement ----------------------------------------------------------------------


def test_reworded_demo_texts_find_their_draft_points_above_the_floor():
    """
    Issue 20's measurement: every demo text but the draft, pasted shuffled and renumbered 1..N,
    proposed against the draft alone (with the stances on its points dated until the text's
    publication) and scored against derived_from.
    """
    scores = alignment_eval.evaluate()
    matched, counterparts, new, without = alignment_eval.totals(scores)
    report = "; ".join(f"{s.label} {s.matched}/{s.counterparts}, new {s.new}/{s.without}" for s in scores)
    assert (counterparts, without) == (53, 5), report
    assert matched >= FLOOR_MATCHED, report
    assert new >= FLOOR_NEW and new / without >= 0.8, report
    assert sum(s.shown for s in scores if s.slug in alignment_eval.REWORKED) >= FLOOR_SHOWN, report
    by_slug = {s.slug: s for s in scores}
    assert by_slug["e3-counter-proposal"].matched >= 22, report


def test_the_parameters_are_not_fitted_to_the_texts_they_are_measured_on():
    """
    Leave one text out: each text scored with the parameters that do best on the other two (the
    mean over those that tie there) does about as well as with the defaults (at most two clauses
    fewer of the 58).
    """
    held_out = alignment_eval.held_out()
    defaults = {s.slug: s for s in alignment_eval.evaluate()}
    assert (
        sum(h.matched + h.new for h in held_out)
        >= sum(d.matched + d.new for d in defaults.values() if d.slug in alignment_eval.REWORKED) - 2
    )


def test_the_measurement_uses_the_candidates_the_paste_page_reads(plan):
    """
    The draft's points as the harness builds them from the JSON, with what was said of them, are
    the paste page's, read from the database when it holds only the draft and its stances.
    """
    Stance.objects.exclude(revision__slug=alignment_eval.DRAFT).delete()
    Clause.objects.exclude(revision__slug=alignment_eval.DRAFT).delete()
    demo_plan, revisions = alignment_eval.demo()
    said = alignment_eval.said_of_draft(alignment_eval.demo_stances())
    from_json = {c.key: c for c in alignment_eval.draft_candidates(demo_plan, revisions, said)}
    with CaptureQueriesContext(connection) as queries:
        read = proposals.plan_points(plan).candidates
    assert len(queries) == 3
    from_db = {c.key: c for c in read if c.key in from_json}
    assert from_db == from_json
    assert sum(len(c.said) for c in from_json.values()) == 36  # the draft's stances on its points
    assert alignment_eval.demo_aliases(demo_plan) == alias_table.table()


def test_what_was_said_of_a_point_finds_a_clause_in_reporters_words_and_says_so():
    """
    The wording says "a US guarantee"; two stances on it say "Article 5-style"/"Article 5-like".
    A clause on guarantees "mirroring Article 5" then goes to it, not to the point on security
    guarantees in general, and the reason names the words; a name one stance alone uses
    (Congress) is that reporter's, not counted.
    """
    guarantee = Candidate("10", "US guarantee", "Security", ("A US guarantee for Ukraine, subject to 10a-10d.",))
    general = Candidate("5", "Security guarantees", "Security", ("Ukraine receives reliable security guarantees.",))
    said = (
        "A US official said Washington would offer an Article 5-style guarantee and put it to Congress.",
        "Kyiv wants bilateral Article 5-like guarantees from the US, legally binding.",
    )
    clause = [("1", "Ukraine receives guarantees mirroring Article 5.")]
    assert first(clause, [guarantee, general, ARMY, NATO])[0].key == "5"
    (choice,) = first(clause, [dataclasses.replace(guarantee, said=said), general, ARMY, NATO])
    assert choice.key == "10"
    assert "said of it: Article, 5" in choice.reason
    assert (38, 45) in choice.spans  # "Article" is highlighted with the wording's words
    choices = propose([("1", "Congress votes on the guarantee.")], [dataclasses.replace(guarantee, said=said), general])
    (on_it,) = [c for c in choices[0] if c.key == "10"]
    assert on_it.score < 0.1 and "Congress" not in on_it.reason, on_it


# --- The method ---------------------------------------------------------------------------


def test_a_reworded_clause_finds_its_point_through_stems_and_numbers():
    """'capped'/'caps', 'forces'/'force' share a stem; the number '800,000' is a word of its own."""
    (choice,) = first([("1", "The armed force of Ukraine caps out at 800,000 troops.")], [ARMY, NATO])
    assert choice.key == "6"
    assert not choice.split


def test_aliases_initials_and_near_spellings_count_as_the_same_word():
    aliases = alias_table.build([("ZNPP", "Zaporizhzhia nuclear power plant")])
    candidates = [
        PLANT,
        Candidate("9", "Jets", "Security", ("European fighter jets are based in Poland.",)),
        Candidate("10", "US guarantee", "Security", ("A US guarantee for Ukraine.",)),
        Candidate("30", "Zelenskyy", "Other", ("Zelenskyy meets Erdogan in Ankara.",)),
    ]
    clauses = [
        ("1", "The ZNPP restarts."),
        ("2", "The United States guarantees Kyiv's security."),
        ("3", "Zelenksyy and Erdogan meet."),
    ]
    assert [c.key for c in first(clauses, candidates, aliases)] == ["19", "10", "30"]


def test_a_sub_points_number_in_a_text_is_a_reference_not_a_word():
    """'10a-10d' in point 10 and in the clause would be the rarest words of both; they say nothing."""
    candidates = [
        Candidate("10", "US guarantee", "Security", ("A US guarantee, subject to 10a-10d.",)),
        Candidate("6", "Army cap", "Military limits", ("Ukraine's army is capped, subject to 10a-10d.",)),
    ]
    choice = first([("1", "The United States guarantees Kyiv's security, as in 10a-10d.")], candidates)[0]
    assert choice.key == "10"
    assert "10a" not in choice.reason and "10d" not in choice.reason


def test_rare_words_outweigh_common_ones():
    """Both points share 'Ukraine holds'; 'elections' is the word that singles the point out."""
    candidates = [ELECTIONS, Candidate("1", "Sovereignty", "Sovereignty", ("Ukraine holds its sovereignty.",))]
    assert first([("1", "Elections are held in Ukraine within a year.")], candidates)[0].key == "25"


def test_no_point_is_given_to_two_clauses_and_the_assignment_is_over_the_whole_draft():
    """
    Clause 1 fits point 6 a little, clause 2 fits it well and fits nothing else: greedily, clause 1
    (first) would take 6 from clause 2. Over the whole draft, 6 goes to clause 2 and clause 1 takes
    its second best.
    """
    clauses = [
        ("1", "Ukraine's armed forces and its constitution: it will not join NATO."),
        ("2", "Ukraine's armed forces are capped at 700,000 personnel."),
    ]
    keys = [c.key for c in first(clauses, [ARMY, NATO])]
    assert keys == ["7", "6"]


def test_a_clause_like_no_point_is_a_new_point_and_says_how_near_it_came():
    (choice,) = first([("1", "Penguins of the Antarctic get a vote.")])
    assert choice.key is None
    assert choice.score < alignment.DEFAULT.threshold
    assert choice.reason.startswith("no point scores 20% or more; nearest: ")


def test_a_second_clause_on_a_kept_point_is_proposed_as_a_split_from_it():
    """The new text divides point 6: the first clause keeps it, the second is split from it."""
    clauses = [
        ("1", "Ukraine's Armed Forces are capped at 600,000 personnel in peacetime."),
        ("2", "Ukraine's Armed Forces personnel cap of 600,000 is reviewed after five years."),
    ]
    one, two = first(clauses, [ARMY, ELECTIONS])
    assert (one.key, one.split) == ("6", False)
    assert (two.key, two.split) == ("6", True)
    assert two.reason.startswith("split from 6, which clause 1 keeps;")


def test_a_clause_rewording_two_sub_points_answers_their_parent_and_one_rewording_one_the_sub_point():
    """
    A word of a sibling ("returned", of 24b) beside a whole reworded sub-point does not make the
    clause its parent's: the siblings must add half as much as the best sub-point alone.
    """
    prisoners = "All remaining prisoners and bodies are exchanged on an all-for-all basis."
    candidates = [
        Candidate("24", "Humanitarian committee", "Humanitarian", ("A humanitarian committee resolves issues.",)),
        Candidate("24a", "Prisoners", "Humanitarian", (prisoners,), parent="24"),
        Candidate("24b", "Children", "Humanitarian", ("Deported children are returned.",), parent="24"),
    ]
    both = [("1", "Prisoners are exchanged and deported children returned.")]
    assert first(both, candidates)[0].key == "24"
    one = [("1", "Prisoners are exchanged all for all.")]
    assert first(one, candidates)[0].key == "24a"
    with_a_word = [("1", "Remaining prisoners and bodies are exchanged all for all, and returned.")]
    assert first(with_a_word, candidates)[0].key == "24a"
    assert [c.key for c in propose(both, candidates)[0]][:2] == ["24", "24b"]


def test_the_clause_number_breaks_a_tie():
    twins = [Candidate(n, "Ceasefire", "T", ("Ceasefire along the line.",), (n,)) for n in ("3", "4")]
    assert first([("4", "Ceasefire along the line.")], twins)[0].key == "4"
    assert first([("3", "Ceasefire along the line.")], twins)[0].key == "3"


def test_three_proposals_with_their_reasons_and_the_words_that_matched():
    text = "Ukraine's Armed Forces are capped at 800,000 personnel; Ukraine will not join NATO."
    choices = propose([("6", text)], POINTS)[0]
    assert [c.key for c in choices][:2] == ["6", "7"]
    assert len(choices) == 3
    assert choices[0].score > choices[1].score >= choices[2].score
    marked = [text[a:b] for a, b in choices[0].spans]
    assert {"Armed", "Forces", "capped", "personnel"} <= set(marked)
    assert "800,000" not in marked, "the point says 600,000"
    assert "the" not in marked and "at" not in marked
    assert choices[0].reason.startswith("words: ")
    assert "same number" in choices[0].reason


def test_nothing_to_propose_against():
    assert propose([], POINTS) == []
    assert [c.key for c in first([("1", "Anything.")], [])] == [None]


def test_sub_points_are_known_by_their_numbers():
    assert [alignment.parent_key(k) for k in ("21d", "12-1", "10", "us-draft-3a")] == ["21", "12", None, "us-draft-3"]


# --- The command --------------------------------------------------------------------------


def run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    call_command("propose_alignment", *args, stdout=out)
    return out.getvalue()


DRAFT = (
    "1. Ukraine's armed forces are capped at 800,000 personnel.\n"
    "2. Ukrainian forces withdraw from the part of Donetsk oblast they hold; it becomes a neutral\n"
    "   demilitarised buffer zone which Russian forces do not enter.\n"
)


def test_the_command_prints_each_clauses_proposals_as_the_paste_page_makes_them(plan, tmp_path):
    path = tmp_path / "draft.txt"
    path.write_text(DRAFT, encoding="utf-8")
    lines = run(str(path), "--plan", plan.slug).splitlines()
    assert lines[0] == "Clause 1 (line 1): Ukraine's armed forces are capped at 800,000 personnel."
    assert lines[1].startswith("  1. 6 · Army cap  ")
    assert "words: " in lines[1] and "800,000" in lines[1]
    assert lines[4].startswith("Clause 2 (line 2): Ukrainian forces withdraw")
    assert lines[5].startswith("  1. 21d · Donetsk demilitarised buffer zone  ")
    assert len(lines) == 8


def test_the_command_reads_standard_input_and_prints_json(plan, monkeypatch):
    data = json.loads(run("-", "--plan", plan.slug, "--json", stdin=DRAFT, monkeypatch=monkeypatch))
    assert data["plan"] == plan.slug
    assert [c["number"] for c in data["clauses"]] == ["1", "2"]
    best = data["clauses"][1]["proposals"][0]
    assert (best["key"], best["label"], best["split"]) == ("21d", "21d · Donetsk demilitarised buffer zone", False)
    assert 0 < best["score"] <= 1 and "Donetsk" in best["words"]
    expected = proposals.propose(proposals.plan_points(plan), paste.parse_clauses(DRAFT))
    assert [[p["key"] for p in c["proposals"]] for c in data["clauses"]] == [[c.key for c in row] for row in expected]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No file "),
        (b"", "The input is empty: give the draft, one numbered clause after another."),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe",
            "The input is not UTF-8 text (byte 0 cannot be read); is it a binary file?",
        ),
        (b"1. a\x00b", "The text contains a NUL character (line 1), which is not text."),
        (b"Leaked:\n1. a", "Line 1 comes before the first numbered line"),
        (b"1. " + b"x" * (4 * paste.MAX_CHARS), "The text is over 2,000,000 bytes"),
    ],
    ids=["missing", "empty", "binary", "nul", "leading-text", "oversized"],
)
def test_the_command_refuses_bad_input_clearly(plan, tmp_path, content, message):
    path = tmp_path / "draft.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError) as caught:
        run(str(path), "--plan", plan.slug)
    assert message in str(caught.value)


def test_the_command_refuses_an_unknown_plan(plan, tmp_path):
    path = tmp_path / "draft.txt"
    path.write_text(DRAFT, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run(str(path), "--plan", "no-such-plan")
    assert str(caught.value) == f"No plan 'no-such-plan' (known: {plan.slug})."
