"""
Full-text search over the plans' wording, the parties' stances, editors' published notes
and timeline events: one interface, `search(text, plan=..., limit=...)`, two backends
chosen by the database in use.

- SQLite: the FTS5 table `peaceplans_search` (migrations 0005 and 0008), one row per
  searchable object. It is kept exact inside the writing transaction: signals on save and delete
  (below), `reindex` in the bulk services, and `manage.py rebuild_search_index`.
- PostgreSQL: full-text search on the tables themselves, served by GIN expression
  indexes (migration 0005), so there is no copy to keep in step.

Both tokenise alike (letters and digits; everything else separates words; no stemming,
so the same words are found in English, Ukrainian and Russian text) and both find the
same things, except that SQLite also ignores Latin accents.

User text never reaches FTS5 MATCH or to_tsquery: `parse_query` reduces it to words made
of letters and digits only, and each backend writes its own query syntax around them.

The work of one search is bounded whatever the size of the archive: per kind, the database
counts matches only up to COUNT_LIMIT + 1 and returns at most `limit` rows. Up to
COUNT_LIMIT matches, the hits are the best by rank among all of them; beyond, the page says
"more than 1,000" and shows `limit` of them unranked (SQLite: the latest added; PostgreSQL:
the highest ids of the first its index hands over), since ranking them all would mean
scoring every match (a word such as "the" is in nearly every text of the archive).
"""

from dataclasses import dataclass, field

from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.http import urlencode

from peaceplans.markup import SafeHtml, markdown_to_text
from peaceplans.models import Annotation, Clause, Event, Plan, Revision, Stance
from peaceplans.search.backends import FTS_TABLE, _backend, _PostgresBackend, _SqliteBackend
from peaceplans.search.query import (
    COUNT_LIMIT,
    KIND_LABELS,
    KINDS,
    MAX_QUERY_CHARS,
    RESULTS_PER_KIND,
    Phrase,
    Term,
    clean,
    matcher,
    parse_query,
    snippet,
)
from peaceplans.search.signals import reindex

__all__ = [
    "COUNT_LIMIT",
    "FTS_TABLE",
    "KINDS",
    "KIND_LABELS",
    "MAX_QUERY_CHARS",
    "RESULTS_PER_KIND",
    "Group",
    "Hit",
    "Phrase",
    "Results",
    "Term",
    "_PostgresBackend",
    "_SqliteBackend",
    "_backend",
    "clean",
    "parse_query",
    "reindex",
    "search",
]

# Results


@dataclass
class Hit:
    """One found object with its highlighted fields and the addresses that show it in place."""

    kind: str
    obj: Clause | Stance | Annotation | Event  # as `kind` says
    fields: dict[str, SafeHtml] = field(default_factory=dict)
    previous: Revision | None = None  # clauses: the revision before theirs (slug and title), for the comparison

    @property
    def url(self) -> str:
        """Clauses: the point page, at this revision's wording; others: their own anchor."""
        if isinstance(self.obj, Clause):
            return self.obj.point.get_absolute_url() + f"#clause-{self.obj.revision.slug}"
        return self.obj.get_absolute_url()

    @property
    def compare_url(self) -> str:
        """The comparison of this clause's revision with the one before it, at the point's row."""
        if not isinstance(self.obj, Clause) or self.previous is None:
            return ""
        query = urlencode({"a": self.previous.slug, "b": self.obj.revision.slug})
        return reverse("compare", args=[self.obj.revision.plan.slug]) + f"?{query}#point-{self.obj.point.key}"


@dataclass
class Group:
    """The hits of one kind. `count` is exact up to `count_limit`; beyond, it is `count_limit` + 1."""

    kind: str
    count: int = 0
    hits: list[Hit] = field(default_factory=list)
    count_limit: int = COUNT_LIMIT

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def capped(self) -> bool:
        """More matches than were counted: the hits are then some of them, unranked, not the best."""
        return self.count > self.count_limit

    @property
    def count_label(self) -> str:
        return f"more than {self.count_limit:,}" if self.capped else f"{self.count:,}"


@dataclass
class Results:
    terms: list[Term]
    groups: list[Group]

    @property
    def total(self) -> int:
        """All the matches, or, if a kind has more than were counted, a number they exceed."""
        return sum(g.count_limit if g.capped else g.count for g in self.groups)

    @property
    def capped(self) -> bool:
        return any(g.capped for g in self.groups)

    @property
    def found(self) -> str:
        """ "12 matches", "1 match", "More than 3,257 matches": the start of a sentence."""
        if self.capped:
            return f"More than {self.total:,} matches"
        return f"{self.total:,} match" + ("" if self.total == 1 else "es")


def search(
    query_text: str, *, plan: Plan | None = None, limit: int = RESULTS_PER_KIND, count_limit: int | None = None
) -> Results:
    """
    The best `limit` matches of each kind with the count of that kind's matches, optionally
    within one plan. Counts stop at `count_limit` (COUNT_LIMIT by default): a kind with more
    matches shows `limit` of them, unranked, instead of its best. A fixed number of queries,
    and a bounded amount of work, whatever the data: one on the index, one per kind found,
    and on SQLite one for the words a long prefix stands for.
    """
    count_limit = COUNT_LIMIT if count_limit is None else count_limit
    terms = parse_query(query_text)
    groups = {kind: Group(kind, count_limit=count_limit) for kind in KINDS}
    results = Results(terms=terms, groups=list(groups.values()))
    if not terms:
        return results
    ids: dict[str, list[int]] = {kind: [] for kind in KINDS}
    backend = _backend()
    asked = backend.expand(terms)
    found = backend.find(asked, plan_id=plan.pk if plan else None, limit=limit, count_limit=count_limit)
    for kind, pk, count in found:
        ids[kind].append(pk)
        groups[kind].count = count
    pattern = matcher(terms)
    for kind, pks in ids.items():
        if pks:
            objects = _FETCH[kind]().in_bulk(pks)  # the querysets re-check visibility: no draft, no dropped text
            groups[kind].hits = [_hit(kind, objects[pk], pattern) for pk in pks if pk in objects]
    return results


# The slug or title ({column}) of the plan's public revision before the outer clause's, in the
# plan's order (Revision.objects.in_order()): for "What changed from …". Written out, as the public
# reads' subqueries are (models/texts.py): built with the ORM, the two took longer to compile than
# the rest of the search. They name the outer row by its table: for _clauses' own query only.
PREVIOUS = (
    "SELECT p.{column} FROM peaceplans_revision p, peaceplans_revision r "
    "WHERE r.id = peaceplans_clause.revision_id AND p.plan_id = r.plan_id AND p.public "
    "AND (p.published_on < r.published_on OR (p.published_on = r.published_on AND p.id < r.id)) "
    "ORDER BY p.published_on DESC, p.id DESC LIMIT 1"
)


def _clauses():
    """
    Visible clauses with what the page shows, and the revision before each one's (for the
    comparison link). The point's plan is its revision's: _hit sets it rather than joining it twice.
    """
    return (
        Clause.objects.public()
        .filter(dropped=False)
        .select_related("revision__plan", "point")
        .annotate(
            previous_slug=RawSQL(PREVIOUS.format(column="slug"), []),  # noqa: S611 (constant SQL)
            previous_title=RawSQL(PREVIOUS.format(column="title"), []),  # noqa: S611
        )
    )


_FETCH = {
    "clause": _clauses,
    # with_sources(), joining the plan once: _hit hands it to the stance's point and revision.
    "stance": lambda: Stance.objects.public().select_related("party", "source", "plan", "revision", "point"),
    "note": lambda: Annotation.objects.published().select_related("point__plan"),
    "event": lambda: Event.objects.select_related("plan", "source"),
}
_FIELDS = {
    "clause": {"text": lambda o: o.text},
    "stance": {"summary": lambda o: o.summary, "quote": lambda o: o.quote, "speaker": lambda o: o.speaker},
    "note": {"body": lambda o: markdown_to_text(o.body)},
    "event": {"title": lambda o: o.title, "summary": lambda o: o.summary},
}


def _hit(kind: str, obj, pattern) -> Hit:
    texts = {name: get(obj) for name, get in _FIELDS[kind].items()}  # once each: a note's Markdown takes a while
    fields = {name: snippet(text, pattern) for name, text in texts.items() if text}
    previous = None
    if kind == "clause":
        obj.point.plan = obj.revision.plan
    elif kind == "stance":
        for known in (obj.point, obj.revision):
            if known is not None:
                known.plan = obj.plan
    if kind == "clause" and obj.previous_slug is not None:
        previous = Revision(plan_id=obj.revision.plan_id, slug=obj.previous_slug, title=obj.previous_title)
    return Hit(kind=kind, obj=obj, fields=fields, previous=previous)
