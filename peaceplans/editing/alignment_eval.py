"""
How well the paste page's proposals find the point a reworded clause answers, measured on the
demo's texts (issue 20). Shared by tests/editing/test_alignment.py (which holds a floor) and
`make bench` (tests/bench/bench_align.py, which reports the figures).

For each demo text other than the draft, the paste text is made from its clauses (dropped
ones left out) in the paste page's format, "N. text", numbered 1..N in an order shuffled with
a fixed seed, so that neither the order nor the printed numbers give the answer away. Each
clause is proposed a point of the draft, with the draft's wordings, titles and topics only,
and the first proposal is scored against the dataset's `derived_from` (none: the right answer
is "a new point"). Also counted: clauses whose point is among the three proposals the page
shows, where an editor finds it without typing.
"""

import dataclasses
import itertools
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peaceplans.editing import alignment, paste
from peaceplans.models.taxonomy import split_spellings
from peaceplans.search import aliases as alias_table

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
DRAFT = "us-28-point-draft"
SEED = 20
# The texts that rework the draft clause by clause (the targets are over these together);
# Geneva's and Berlin's few clauses summarise rather than reword and are reported apart.
REWORKED = ("e3-counter-proposal", "europe-24-point-telegraph", "ukraine-us-20-point-draft")


@dataclass(frozen=True)
class Case:
    """One demo text as pasted: its paste text, and per clause the draft point it derives from (None: new)."""

    slug: str
    label: str
    text: str
    truth: tuple[str | None, ...]
    published_on: str = ""  # ISO date: the stances an editor had when the text arrived are those until then


@dataclass(frozen=True)
class Score:
    """One text's result: clauses with a counterpart found first, and clauses without one proposed as new."""

    slug: str
    label: str
    matched: int
    counterparts: int
    new: int
    without: int
    near: int  # clauses with a counterpart given it, its parent point or one of its sub-points
    shown: int  # clauses with a counterpart whose point is among the three proposals the paste page shows
    misses: tuple[tuple[str, str | None, str | None], ...]  # (clause number, expected, proposed)


def demo() -> tuple[dict, list[dict]]:
    """The demo's plan.json and revisions.json."""
    return (
        json.loads((DEMO / "plan.json").read_text(encoding="utf-8")),
        json.loads((DEMO / "revisions.json").read_text(encoding="utf-8")),
    )


def demo_stances() -> list[dict]:
    """The demo's stances.json."""
    return json.loads((DEMO / "stances.json").read_text(encoding="utf-8"))


def said_of_draft(stances: Sequence[dict], until: str | None = None) -> dict[str, list[str]]:
    """
    What the parties said of each of the draft's points (summaries and quotes of the stances on
    the draft's points only, never on another text's), stated on or before `until` (an ISO date)
    when given: what an editor had when a text arrived.
    """
    said: dict[str, list[str]] = {}
    for stance in stances:
        if stance["revision"] != DRAFT or stance["point"] is None or (until and stance["date"] > until):
            continue
        said.setdefault(stance["point"], []).append(" ".join(t for t in (stance["summary"], stance.get("quote")) if t))
    return said


def draft_candidates(
    plan: dict, revisions: list[dict], said: Mapping[str, Sequence[str]] | None = None
) -> list[alignment.Candidate]:
    """
    The draft's points as the paste page sees them once the demo is loaded: key, title, topic,
    wording, and what was said of them (`said`, by point key: none by default).
    """
    (draft,) = [r for r in revisions if r["slug"] == DRAFT]
    topics = {t["slug"]: t["name"] for t in plan["topics"]}
    said = said or {}
    return [
        alignment.Candidate(
            key=p["number"],
            title=plan["point_titles"].get(p["number"], ""),
            topic=topics[p["topic"]],
            wordings=(p["text"],),
            numbers=(p["number"],),
            parent=alignment.parent_key(p["number"]),
            said=tuple(sorted(set(said.get(p["number"], ())))),
        )
        for p in draft["points"]
        if not p["deleted"]
    ]


def demo_aliases(plan: dict) -> alignment.Aliases:
    """The demo's alias lines as search.aliases.table() gives them once loaded."""
    return alias_table.build([tuple(split_spellings(line)) for line in plan["aliases"]])


def cases(revisions: list[dict], seed: int = SEED) -> list[Case]:
    """Every demo text other than the draft, as pasted, shuffled and renumbered 1..N."""
    plan_labels = demo()[0]["revision_labels"]
    made = []
    for revision in revisions:
        if revision["slug"] == DRAFT:
            continue
        points = [p for p in revision["points"] if not p["deleted"]]
        order = list(range(len(points)))
        random.Random(f"{seed}-{revision['slug']}").shuffle(order)  # noqa: S311 (a fixed order, not a secret)
        text = "\n".join(f"{n}. {points[i]['text']}" for n, i in enumerate(order, start=1)) + "\n"
        truth = tuple(points[i]["derived_from"] for i in order)
        label = plan_labels.get(revision["slug"], revision["slug"])
        made.append(Case(revision["slug"], label, text, truth, revision.get("published_on") or ""))
    return made


# (clauses, the text's date) -> each clause's proposals as keys, best first (None: a new point)
Proposer = Callable[[Sequence[tuple[str, str]], str], list[list[str | None]]]
# What was said of the draft's points that the candidates carry: the stances dated until the
# evaluated text arrived (the measurement), all of them (for comparison), or none.
DATED, ALL, NONE = "dated", "all", "none"


def score(case: Case, proposer: Proposer) -> Score:
    """Parse the case's text as the paste page does, propose, and count."""
    clauses = paste.parse_clauses(case.text)
    proposals = proposer([(c.number, c.text) for c in clauses], case.published_on)
    matched = new = near = shown = 0
    misses = []
    for clause, expected, keys in zip(clauses, case.truth, proposals, strict=True):
        got = keys[0]
        if expected is not None:
            shown += expected in keys[:3]
        if expected is None:
            new += got is None
        else:
            matched += got == expected
            related = (alignment.parent_key(got), alignment.parent_key(expected)) if got else ()
            near += got is not None and (got == expected or expected in related[:1] or got in related[1:])
        if got != expected:
            misses.append((clause.number, expected, got))
    counterparts = sum(1 for t in case.truth if t is not None)
    return Score(
        case.slug, case.label, matched, counterparts, new, len(case.truth) - counterparts, near, shown, tuple(misses)
    )


def proposer_for(weights: alignment.Weights = alignment.DEFAULT, stances: str = DATED) -> Proposer:
    """
    The proposals for each clause (the paste page shows three), as the paste page makes them,
    against the draft alone: its points, and what was said of them (`stances`: DATED, ALL or NONE).
    """
    plan, revisions = demo()
    every = demo_stances() if stances != NONE else []
    aliases = demo_aliases(plan)

    made: dict[str | None, list[alignment.Candidate]] = {}

    def propose(clauses, published_on):
        until = published_on if stances == DATED else None
        if until not in made:
            made[until] = draft_candidates(plan, revisions, said_of_draft(every, until))
        candidates = made[until]
        return [
            [c.key for c in choices] for choices in alignment.propose(clauses, candidates, aliases, weights=weights)
        ]

    return propose


def evaluate(weights: alignment.Weights = alignment.DEFAULT, seed: int = SEED, stances: str = DATED) -> list[Score]:
    """Every demo text but the draft, pasted and scored."""
    _, revisions = demo()
    proposer = proposer_for(weights, stances)
    return [score(case, proposer) for case in cases(revisions, seed)]


def totals(scores: Sequence[Score], slugs: Sequence[str] = REWORKED) -> tuple[int, int, int, int]:
    """(matched, counterparts, new, without) over the texts `slugs`."""
    chosen = [s for s in scores if s.slug in slugs]
    return (
        sum(s.matched for s in chosen),
        sum(s.counterparts for s in chosen),
        sum(s.new for s in chosen),
        sum(s.without for s in chosen),
    )


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}% ({part} of {whole})" if whole else "none"


# Values near the defaults, for the check against overfitting: held-out texts scored with
# the parameters that do best on the others.
GRID = {
    "threshold": (0.2, 0.25, 0.3),
    "title": (0.5, 1.0),
    "topic": (0.15, 0.25, 0.4),
    "family": (0.25, 0.5),
}


@dataclass(frozen=True)
class HeldOut:
    """
    A text scored with the parameters that do best on the others. Several sets often tie there;
    the figures are then the mean over them (the choice between equals is arbitrary), `score`
    the first of them in the grid's order, `chosen` its parameters.
    """

    score: Score
    chosen: dict
    tied: int
    matched: float
    new: float


def held_out(
    grid: Mapping[str, Sequence[float]] = GRID, slugs: Sequence[str] = REWORKED, stances: str = DATED
) -> list[HeldOut]:
    """
    Leave one text out: for each of `slugs`, the parameters of `grid` that do best (clauses
    right, matched or new) on the other texts, and that text's score with them. Close to the
    scores with the defaults, it says the defaults were not fitted to the texts they are
    measured on.
    """
    _, revisions = demo()
    every = {c.slug: c for c in cases(revisions)}
    names = list(grid)
    tried = []
    for values in itertools.product(*(grid[name] for name in names)):
        chosen: dict[str, Any] = dict(zip(names, values, strict=True))
        proposer = proposer_for(dataclasses.replace(alignment.DEFAULT, **chosen), stances)
        tried.append((chosen, {slug: score(every[slug], proposer) for slug in slugs}))
    results = []
    for slug in slugs:

        def on_others(t, slug=slug):
            return sum(s.matched + s.new for other, s in t[1].items() if other != slug)

        best = max(on_others(t) for t in tried)
        tied = [t for t in tried if on_others(t) == best]
        results.append(
            HeldOut(
                tied[0][1][slug],
                tied[0][0],
                len(tied),
                sum(t[1][slug].matched for t in tied) / len(tied),
                sum(t[1][slug].new for t in tied) / len(tied),
            )
        )
    return results
