"""
What a point's change page shows beside the fields being edited (templates/admin/peaceplans/point/
change_form.html): the point's wording in every text of its plan, published or not, each marked
word by word against the draft, and every stance recorded on it. Read-only, and a fixed number of
queries whatever the number of texts and stances (tests/editing/test_point_chooser.py counts them).
"""

from dataclasses import dataclass

from peaceplans.compare import diff, memo
from peaceplans.models import Clause, Point, Revision, Stance


@dataclass(frozen=True)
class Wording:
    """One text's wording of the point, or that it has none: `state` is base, worded, dropped or absent."""

    revision: Revision
    clause: Clause | None
    state: str
    changes: diff.ClauseDiff | None = None


def point_wording(point: Point) -> tuple[list[Wording], Revision | None, bool]:
    """
    (each text's Wording in date order, the text the others are marked against, whether that is the
    draft). The draft is the plan's first text; a point the draft does not word (added later, or
    missing there) is marked against its own first wording instead, and the page says so. Three queries.
    """
    revisions = list(Revision.objects.filter(plan_id=point.plan_id).in_order())
    clauses = {clause.revision_id: clause for clause in Clause.objects.filter(point=point)}
    worded = [r for r in revisions if r.pk in clauses and not clauses[r.pk].dropped]
    base = worded[0] if worded else None
    is_draft = bool(revisions) and base == revisions[0]
    base_text = clauses[base.pk].text if base else None
    memo.preload((base_text, clauses[r.pk].text) for r in worded if r != base)
    wording = []
    for revision in revisions:
        clause = clauses.get(revision.pk)
        if clause is None:
            wording.append(Wording(revision, None, "absent"))
        elif clause.dropped:
            wording.append(Wording(revision, clause, "dropped"))
        elif revision == base:
            wording.append(Wording(revision, clause, "base"))
        else:
            wording.append(Wording(revision, clause, "worded", memo.compare(base_text, clause.text)))
    return wording, base, is_draft


def point_stances(point: Point) -> list[Stance]:
    """Every stance on the point, newest first, with its party, the text it answers and its source: one query."""
    stances = Stance.objects.filter(point=point).select_related("party", "revision", "source")
    return list(stances.order_by("-stated_on", "-pk"))


def workbench(point: Point) -> dict:
    """The change page's context for the panel: four queries."""
    wording, base, base_is_draft = point_wording(point)
    return {"wording": wording, "base": base, "base_is_draft": base_is_draft, "stances": point_stances(point)}
