"""
Full-text search over the plans' wording, the editors' change and wording notes, the parties'
stances, editors' published notes and timeline events: one interface, `search(text, plan=...,
limit=...)`, two backends chosen by the database in use.

- SQLite: the FTS5 tables `peaceplans_search` (stemmed) and `peaceplans_search_exact` (words as
  written), migrations 0005, 0008 and 0017, one row per searchable object. They are kept exact
  inside the writing transaction: signals on save and delete (signals.py), `reindex` in the bulk
  services, and `manage.py rebuild_search_index`.
- PostgreSQL: full-text search on the tables themselves, served by GIN expression indexes
  (migrations 0005 and 0017), so there is no copy of the texts to keep in step.

Both tokenise alike (letters and digits; everything else separates words) and stem English
words (SQLite: Porter; PostgreSQL: Snowball English, without stop words): "guaranteeing" finds
"guarantees", "worsened" finds "worsening". Other scripts pass the stemmers unchanged, so
Ukrainian and Russian are found as typed. Rows holding the words exactly as asked rank first.
SQLite also ignores Latin accents.

Aliases (models.Alias, search/aliases.py) are read at each search: a spelling stands for every
spelling of its line, with no index to rebuild when an editor changes them. When a search finds
nothing, words.py offers the closest search that does ("Did you mean").

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
from peaceplans.models import Alias, Annotation, Clause, Event, Plan, Revision, Stance
from peaceplans.search import aliases as alias_table
from peaceplans.search import words
from peaceplans.search.backends import FTS_TABLE, _backend, _PostgresBackend, _SqliteBackend
from peaceplans.search.query import (
    COUNT_LIMIT,
    GROUPS,
    KIND_LABELS,
    KINDS,
    MAX_QUERY_CHARS,
    RESULTS_PER_KIND,
    Matcher,
    Phrase,
    Term,
    clean,
    matcher,
    parse_query,
    snippet,
)
from peaceplans.search.signals import reindex
from peaceplans.search.words import Suggestion

__all__ = [
    "COUNT_LIMIT",
    "FTS_TABLE",
    "GROUPS",
    "KINDS",
    "KIND_LABELS",
    "MAX_QUERY_CHARS",
    "RESULTS_PER_KIND",
    "Group",
    "Hit",
    "Phrase",
    "Results",
    "Suggestion",
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
    obj: Clause | Stance | Annotation | Event  # as `kind` says (a change is its clause)
    fields: dict[str, SafeHtml] = field(default_factory=dict)
    # Clauses: the revision before theirs; changes: the plan's first text, which change notes are
    # written against (slug and title), for the comparison.
    previous: Revision | None = None

    @property
    def url(self) -> str:
        """
        Clauses: the point page, at this revision's wording; changes: the comparison with the plan's
        first text, where the compare page shows the change notes (the point page for the first
        text itself); others: their own anchor.
        """
        if isinstance(self.obj, Clause):
            if self.kind == "change" and self.previous is not None:
                return self.compare_url
            return self.obj.point.get_absolute_url() + f"#clause-{self.obj.revision.slug}"
        return self.obj.get_absolute_url()

    @property
    def compare_url(self) -> str:
        """The comparison of this clause's revision with `previous`, at the point's row."""
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

    def objects(self) -> list:
        """The objects found, best first."""
        return [hit.obj for hit in self.hits]

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
    groups: list[Group]  # in the page's order (GROUPS)
    # The aliases that widened the search: (the spelling typed, the other spellings), as the editors wrote them.
    widened: list[tuple[str, list[str]]] = field(default_factory=list)
    suggestion: Suggestion | None = None  # found nothing: the closest search that finds something

    def group(self, kind: str) -> Group:
        return next(g for g in self.groups if g.kind == kind)

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
    and a bounded amount of work, whatever the data: the aliases, the words a long prefix
    stands for, one on the index, then one per kind of object found (wording and changes are
    both clauses), or, when nothing is found, two for "Did you mean".
    """
    count_limit = COUNT_LIMIT if count_limit is None else count_limit
    terms = parse_query(query_text)
    groups = {kind: Group(kind, count_limit=count_limit) for kind in GROUPS}
    results = Results(terms=terms, groups=list(groups.values()))
    if not terms:
        return results
    equivalences = Alias.objects.equivalences()
    aliases = alias_table.build(equivalences)
    terms, widened = alias_table.widen(terms, aliases)
    names = alias_table.names(equivalences)
    results.widened = [(names.get(typed, " ".join(typed)), [names[o] for o in others]) for typed, others in widened]
    ids: dict[str, list[int]] = {kind: [] for kind in KINDS}
    backend = _backend()
    searched = backend.expand(terms)
    plan_id = plan.pk if plan else None
    found = backend.find(searched, plan_id=plan_id, limit=limit, count_limit=count_limit)
    for kind, pk, count in found:
        ids[kind].append(pk)
        groups[kind].count = count
    if not found:
        results.suggestion = words.suggest(
            backend, terms, searched, clean(query_text), plan_id=plan_id, aliases=aliases, widen=_widener(aliases)
        )
        return results
    pattern = matcher(terms, backend.stemmer)
    # One query per kind of object: wording and changes are both clauses, read together. The
    # querysets re-check visibility (no draft); a dropped clause has a change note but no wording.
    wanted: dict[str, set[int]] = {}
    for kind, pks in ids.items():
        wanted.setdefault(_READ_AS.get(kind, kind), set()).update(pks)
    objects = {read: _FETCH[read]().in_bulk(pks) for read, pks in wanted.items() if pks}
    for kind, pks in ids.items():
        read = objects.get(_READ_AS.get(kind, kind), {})
        keep = [read[pk] for pk in pks if pk in read and not (kind == "clause" and read[pk].dropped)]
        groups[kind].hits = [_hit(kind, obj, pattern) for obj in keep]
    return results


def _widener(aliases):
    """A corrected word as a term: itself and its aliases' spellings."""

    def term(word: str) -> Term:
        return alias_table.widen([(Phrase((word,)),)], aliases)[0][0]

    return term


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
# The plan's first public text: what change notes describe changes against (the compare page shows
# them only with it as text A).
FIRST = (
    "SELECT p.{column} FROM peaceplans_revision p, peaceplans_revision r "
    "WHERE r.id = peaceplans_clause.revision_id AND p.plan_id = r.plan_id AND p.public "
    "ORDER BY p.published_on, p.id LIMIT 1"
)


def _clauses():
    """
    Visible clauses with what the page shows, and the revision before each one's (for the
    comparison link). The point's plan is its revision's: _hit sets it rather than joining it twice.
    """
    return (
        Clause.objects.public()
        .select_related("revision__plan", "point")
        .annotate(
            previous_slug=RawSQL(PREVIOUS.format(column="slug"), []),  # noqa: S611 (constant SQL)
            previous_title=RawSQL(PREVIOUS.format(column="title"), []),  # noqa: S611
            first_slug=RawSQL(FIRST.format(column="slug"), []),  # noqa: S611 (constant SQL)
            first_title=RawSQL(FIRST.format(column="title"), []),  # noqa: S611
        )
    )


_READ_AS = {"change": "clause"}
_FETCH = {
    "clause": _clauses,  # with dropped ones, for their change notes
    # with_sources(), joining the plan once: _hit hands it to the stance's point and revision.
    "stance": lambda: Stance.objects.public().select_related("party", "source", "plan", "revision", "point"),
    "note": lambda: Annotation.objects.published().select_related("point__plan"),
    "event": lambda: Event.objects.select_related("plan", "source"),
}
_FIELDS = {
    "clause": {"text": lambda o: o.text},
    "change": {"change_note": lambda o: o.change_note, "wording_note": lambda o: o.wording_note},
    "stance": {"summary": lambda o: o.summary, "quote": lambda o: o.quote, "speaker": lambda o: o.speaker},
    "note": {"body": lambda o: markdown_to_text(o.body)},
    "event": {"title": lambda o: o.title, "summary": lambda o: o.summary},
}


def _hit(kind: str, obj, pattern: Matcher | None) -> Hit:
    texts = {name: get(obj) for name, get in _FIELDS[kind].items()}  # once each: a note's Markdown takes a while
    fields = {name: snippet(text, pattern) for name, text in texts.items() if text}
    previous = None
    if kind in ("clause", "change"):
        obj.point.plan = obj.revision.plan
    elif kind == "stance":
        for known in (obj.point, obj.revision):
            if known is not None:
                known.plan = obj.plan
    if kind == "clause" and obj.previous_slug is not None:
        previous = Revision(plan_id=obj.revision.plan_id, slug=obj.previous_slug, title=obj.previous_title)
    elif kind == "change" and obj.first_slug not in (None, obj.revision.slug):
        # A change note says what changed against the plan's first text, not against the text before.
        previous = Revision(plan_id=obj.revision.plan_id, slug=obj.first_slug, title=obj.first_title)
    return Hit(kind=kind, obj=obj, fields=fields, previous=previous)
