"""
Two revisions of a plan aligned point by point, each pair of wordings diffed.

Reads the clauses of both revisions in one query, their stored word diffs in another (memo.py)
and the plan's published notes in a third.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, NamedTuple, overload

from django.urls import reverse

from peaceplans.compare import diff, memo
from peaceplans.models import Annotation, Clause, Plan, Point, Revision

# Row statuses beyond diff.Change: a point one side's text does not cover at all. The
# demo's partial texts (the E3 edit breaks off at point 21) make this common, and calling
# such points "dropped" would be a false claim.
ABSENT = "absent"

STATUS_LABELS = {
    diff.Change.CHANGED: "changed",
    diff.Change.ADDED: "added",
    diff.Change.DROPPED: "dropped",
    diff.Change.COSMETIC: "same words (only punctuation, quotes, case or spacing)",
    diff.Change.UNCHANGED: "unchanged",
    ABSENT: "not in B's text",
}
COUNT_ORDER = [diff.Change.CHANGED, diff.Change.ADDED, diff.Change.DROPPED, diff.Change.COSMETIC, diff.Change.UNCHANGED]
QUIET = {diff.Change.UNCHANGED, diff.Change.COSMETIC}


class ClauseFacts(NamedTuple):
    """What a row reads of a clause, as plain values: compare_revisions(plain=True)."""

    pk: int
    revision_id: int
    point_id: int
    number: str
    text: str
    dropped: bool
    change_note: str
    material_change: bool
    wording_note: str


@dataclass(slots=True)
class PointFacts:
    """What a row reads of a point, as plain values: compare_revisions(plain=True)."""

    pk: int
    key: str
    label: str
    title: str
    sort_order: int
    topic_id: int | None
    split_from: "PointFacts | None" = None
    url: str = ""  # its page

    @property
    def number(self) -> str:
        return self.label or self.key  # as Point.number

    def get_absolute_url(self) -> str:
        return self.url


@dataclass
class Row[P: (Point, PointFacts), C: (Clause, ClauseFacts)]:
    """One point of the comparison: its clause in A and in B, and how they differ."""

    point: P
    clause_a: C | None
    clause_b: C | None
    status: str
    diff: diff.ClauseDiff | None
    notes: list[Annotation] = field(default_factory=list)  # published only
    url: str = ""  # the point's page
    # Where the page's index and summary link to the row: "#point-6", or, for a row past the part
    # on screen, the address of the page through that row's part with the anchor (web/parts.py).
    anchor: str = ""

    @property
    def number_a(self) -> str:
        return number_label(self.clause_a)

    @property
    def number_b(self) -> str:
        return number_label(self.clause_b)

    @property
    def renumbered(self) -> bool:
        return bool(self.clause_a and self.clause_b and self.clause_a.number != self.clause_b.number)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class Comparison[P: (Point, PointFacts), C: (Clause, ClauseFacts)]:
    """Everything the compare page shows for one pair of revisions."""

    a: Revision
    b: Revision
    rows: list[Row[P, C]]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def absent(self) -> int:
        return self.counts.get(ABSENT, 0)

    @cached_property
    def covered(self) -> list[Row[P, C]]:
        """The rows both texts speak to (worded, added or dropped): the page's list."""
        return [row for row in self.rows if row.status != ABSENT]

    @cached_property
    def uncovered(self) -> list[Row[P, C]]:
        """The points B's text does not cover: the page puts them in a closed section at its end."""
        return [row for row in self.rows if row.status == ABSENT]

    @property
    def material(self) -> list[Row[P, C]]:
        """The rows whose change an editor marked as material on B's clause: "what changed most"."""
        return [row for row in self.rows if row.clause_b and row.clause_b.material_change]

    def nonzero_count_items(self) -> list[tuple[str, str, int]]:
        """count_items() without the zeros, "not in B's text" last: the summary's counts."""
        items = [item for item in self.count_items() if item[2]]
        return items + ([(ABSENT, STATUS_LABELS[ABSENT], self.absent)] if self.absent else [])

    def count_items(self) -> list[tuple[str, str, int]]:
        return [(str(status), STATUS_LABELS[status], self.counts.get(status, 0)) for status in COUNT_ORDER]


def number_label(clause: Clause | ClauseFacts | None) -> str:
    """
    How a row names a side's number: "no. 6", "unnumbered" ('?6': the text's own number is not
    public), "dropped (no number of its own)" for a point a text drops without numbering it, or "".
    """
    if clause is None:
        return ""
    if not clause.number:
        return "dropped (no number of its own)" if clause.dropped else "no number of its own"
    return "unnumbered" if clause.number.startswith("?") else f"no. {clause.number}"


def side_text(clause: Clause | ClauseFacts | None) -> str | None:
    """A side's text for the diff: None when it has no clause for the point or records it as dropped."""
    return clause.text if clause and not clause.dropped else None


def row_status(
    clause_a: Clause | ClauseFacts | None, clause_b: Clause | ClauseFacts | None
) -> tuple[str, diff.ClauseDiff | None] | None:
    """
    How a point fares from A to B, with the word-level diff where there is text; None when
    neither side has text for it (absent or dropped on both sides), so there is no row.
    """
    text_a, text_b = side_text(clause_a), side_text(clause_b)
    if text_a is not None and text_b is not None:
        result = memo.compare(text_a, text_b)  # the stored word diff (preloaded), or the same text
        return result.change, result
    if text_b is not None:
        return diff.Change.ADDED, memo.compare(None, text_b)
    if text_a is not None and clause_b is not None:  # B records the point as dropped
        return diff.Change.DROPPED, memo.compare(text_a, None)
    if text_a is not None:
        return ABSENT, None
    return None


# What the rows' readers (the page, its CSV, the embed, the notes' links) use of the clauses and
# points. Leaving the other columns (dates, topic names) in the database and the rows unordered there
# (they are sorted below) makes the query a quarter quicker: 5 ms instead of 7 for the demo's
# US draft -> E3, mostly the cost of building the clause and point instances.
ROW_FIELDS = [
    *("revision_id", "point_id", "number", "text", "dropped", "change_note", "material_change", "wording_note"),
    *("point__key", "point__label", "point__title", "point__sort_order", "point__topic"),
    *("point__split_from__key", "point__split_from__label"),
]


# The same columns by value; the point's after the clause's (ClauseFacts).
PLAIN_FIELDS = [
    *ClauseFacts._fields,
    *("point__key", "point__label", "point__title", "point__sort_order", "point__topic_id"),
    *("point__split_from__key", "point__split_from__label"),
]
CLAUSE_COLUMNS = len(ClauseFacts._fields)


def _plain_clauses(a: Revision, b: Revision, point_path: str) -> tuple[dict, dict]:
    """
    The clauses of both sides as ClauseFacts and their points as PointFacts, by point id: the
    page's read. Plain values cost a fifth of model instances (some 300 clauses and 150 points
    on a generated plan of 120 points a text, where the instances took 4 ms).
    """
    by_point: dict[int, dict[int, ClauseFacts]] = {}
    compared: dict[int, PointFacts] = {}
    values = Clause.objects.filter(revision_id__in=[a.pk, b.pk]).order_by().values_list(*PLAIN_FIELDS)
    for values_row in values:
        clause = ClauseFacts(*values_row[:CLAUSE_COLUMNS])
        by_point.setdefault(clause.point_id, {})[clause.revision_id] = clause
        if clause.point_id not in compared:
            key, label, title, sort_order, topic_id, split_key, split_label = values_row[CLAUSE_COLUMNS:]
            split_from = PointFacts(0, split_key, split_label, "", 0, None) if split_key is not None else None
            compared[clause.point_id] = PointFacts(
                clause.point_id, key, label, title, sort_order, topic_id, split_from, f"{point_path}{key}/"
            )
    return by_point, compared


@overload
def compare_revisions(
    plan: Plan,
    a: Revision,
    b: Revision,
    *,
    changes_only: bool = False,
    topics: Collection[int] = (),
    points: Collection[str] = (),
    plain: Literal[False] = False,
) -> Comparison[Point, Clause]: ...


@overload
def compare_revisions(
    plan: Plan,
    a: Revision,
    b: Revision,
    *,
    changes_only: bool = False,
    topics: Collection[int] = (),
    points: Collection[str] = (),
    plain: Literal[True],
) -> Comparison[PointFacts, ClauseFacts]: ...


def compare_revisions(
    plan: Plan,
    a: Revision,
    b: Revision,
    *,
    changes_only: bool = False,
    topics: Collection[int] = (),
    points: Collection[str] = (),
    plain: bool = False,
) -> Comparison[Any, Any]:
    """
    Align A and B by point in plan order: one query for the clauses of both sides, one for their stored
    diffs (when a pair of texts differs), one for the notes.
    `topics` (topic ids) and `points` (point keys) narrow it to those points, counts included;
    `changes_only` then leaves out the unchanged and cosmetic rows, which the counts still count.
    `plain` reads the clauses and points as ClauseFacts and PointFacts, not model instances: the
    page's choice; the CSV wants Clauses (it loads their sources).
    """
    # Points' addresses differ only by the key (letters, digits, hyphens): reversed once.
    point_path = reverse("point_detail", args=[plan.slug, "0"]).removesuffix("0/")
    if plain:
        by_point, compared = _plain_clauses(a, b, point_path)
    else:
        by_point, compared = _clauses(a, b)
    rows: list[Row[Any, Any]] = []
    counts: dict[str, int] = {}
    shown = [
        point
        for point in compared.values()
        if not ((topics and point.topic_id not in topics) or (points and point.key not in points))
    ]
    # The stored diffs of every pair of different texts, in one query.
    memo.preload((side_text(by_point[p.pk].get(a.pk)), side_text(by_point[p.pk].get(b.pk))) for p in shown)
    for point in sorted(shown, key=lambda p: (p.sort_order, p.pk)):
        pair = by_point[point.pk]
        clause_a, clause_b = pair.get(a.pk), pair.get(b.pk)
        outcome = row_status(clause_a, clause_b)
        if outcome is None:
            continue
        status, result = outcome
        counts[status] = counts.get(status, 0) + 1
        if changes_only and status in QUIET:
            continue
        if not plain:
            point.plan = plan  # for its get_absolute_url (CSV, embeds), without joining the plan to every row
        url = f"{point_path}{point.key}/"
        rows.append(Row(point=point, clause_a=clause_a, clause_b=clause_b, status=status, diff=result, url=url))
    if rows:
        notes: dict[int, list[Annotation]] = {}
        # The plan's published notes (an editor writes a few per point at most), not those of the
        # rows' points by id: a list of a hundred ids costs Django more than the extra notes.
        published = Annotation.objects.published().filter(point__plan=plan)
        for note in published.select_related("author"):
            notes.setdefault(note.point_id, []).append(note)
        for row in rows:
            row.notes = notes.get(row.point.pk, [])
    return Comparison(a=a, b=b, rows=rows, counts=counts)


def _clauses(a: Revision, b: Revision) -> tuple[dict, dict]:
    """The clauses of both sides and their points as model instances, by point id."""
    clauses = (
        Clause.objects.filter(revision_id__in=[a.pk, b.pk])
        .select_related("point__split_from")  # rows name the point a point was split from
        .only(*ROW_FIELDS)
        .order_by()  # rows come in plan order, sorted below
    )
    by_point: dict[int, dict[int, Clause]] = {}
    compared: dict[int, Point] = {}
    for clause in clauses:
        by_point.setdefault(clause.point_id, {})[clause.revision_id] = clause
        compared[clause.point_id] = clause.point
    return by_point, compared
