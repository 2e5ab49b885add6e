"""
Full-text search over the plans' wording, the parties' stances, editors' published notes
and timeline events: one interface, `search(text, plan=..., limit=...)`, two backends
chosen by the database in use.

- SQLite: the FTS5 table `peaceplans_search` (migration 0005), one row per searchable
  object. It is kept exact inside the writing transaction: signals on save and delete
  (below), `reindex` in the bulk services, and `manage.py rebuild_search_index`.
- PostgreSQL: full-text search on the tables themselves, served by GIN expression
  indexes (migration 0005), so there is no copy to keep in step.

Both tokenise alike (letters and digits; everything else separates words; no stemming,
so the same words are found in English, Ukrainian and Russian text) and both find the
same things, except that SQLite also ignores Latin accents.

User text never reaches FTS5 MATCH or to_tsquery: `parse_query` reduces it to words made
of letters and digits only, and each backend writes its own query syntax around them.
"""

# ruff: noqa: S608 -- the SQL below is assembled from this module's constants only; every
# value (the query words, ids, limits) travels as a parameter.

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import connection, connections
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from .markup import highlight, markdown_to_text
from .models import Annotation, Clause, Event, Plan, Point, Revision, Stance

MAX_QUERY_CHARS = 200
RESULTS_PER_KIND = 20
SNIPPET_CHARS = 280

# Kinds in the order the page shows them; the position is part of the SQLite row id.
KINDS = ("clause", "stance", "note", "event")
KIND_LABELS = {"clause": "Wording", "stance": "Stances", "note": "Notes", "event": "Events"}


# The query: what the reader typed, as words of letters and digits.

TOKEN = re.compile(r"[^\W_]+")  # as FTS5's unicode61: letters and digits, the rest separates
GROUPED_NUMBER = re.compile(r"^\d{1,3}(?:[,.'’]\d{3})+$")  # 600,000 / 600.000 / 600'000
DOTTED_NUMBER = re.compile(r"^\d+(?:\.\d+)+$")  # PostgreSQL keeps 12.5 or 600.000 as one word
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Phrase:
    """Words that must follow each other; with `prefix`, the last one may go on (as you type)."""

    words: tuple[str, ...]
    prefix: bool = False


# A term is satisfied by any of its phrases; a query needs every term.
Term = tuple[Phrase, ...]


def clean(text: str) -> str:
    """The typed text without control characters (NUL included) and outer spaces, NFKC-normalised."""
    return _normalise(text).strip()


def _normalise(text: str) -> str:
    return CONTROL.sub(" ", unicodedata.normalize("NFKC", text or ""))


def parse_query(text: str) -> list[Term]:
    """
    The terms of a search as typed: "double quotes" make a phrase; otherwise each word is a
    term and all must match; a word such as Russia's or 600,000 is a phrase of its parts,
    and a grouped number also matches written without separators (600000) and the other way
    round. The last word is a prefix unless the text ends with a space or a closing quote.
    Operators of FTS5 or tsquery are ordinary words here; punctuation and emoji are dropped.
    """
    terms: list[Term] = []
    parts = _normalise(text).split('"')
    for index, part in enumerate(parts):
        typing = index == len(parts) - 1 and not part[-1:].isspace()  # the reader may still be typing this
        if index % 2:  # inside quotes; an unclosed quote runs to the end
            words = tuple(TOKEN.findall(part.lower()))
            if words:
                terms.append((Phrase(words, prefix=typing),))
            continue
        words = _join_digit_groups(part.split())
        for position, word in enumerate(words, start=1):
            term = _word_term(word)
            if term and typing and position == len(words):
                term = tuple(Phrase(p.words, prefix=True) for p in term)
            if term:
                terms.append(term)
    return terms


def _join_digit_groups(words: list[str]) -> list[str]:
    """["600", "000", "troops"] -> ["600,000", "troops"]: a number typed with spaces is one number."""
    joined: list[str] = []
    for word in words:
        if joined and re.fullmatch(r"\d{3}", word) and re.fullmatch(r"\d{1,3}(?:,\d{3})*", joined[-1]):
            joined[-1] += "," + word
        else:
            joined.append(word)
    return joined


def _word_term(word: str) -> Term:
    words = tuple(TOKEN.findall(word.lower()))
    if not words:
        return ()
    phrases = [Phrase(words)]
    if GROUPED_NUMBER.match(word):
        phrases.append(Phrase(("".join(words),)))
    elif len(words) == 1 and words[0].isdigit() and len(words[0]) >= 4 and words[0].isascii():
        digits = words[0]
        head = len(digits) % 3 or 3
        phrases.append(Phrase((digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3)))))
    if DOTTED_NUMBER.match(word):
        phrases.append(Phrase((word,)))  # digits and dots only, safe in both syntaxes
    return tuple(phrases)


# Highlighting: the same words, found again in the text shown, for <mark>.


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[:1] or char
    lower = base.lower()
    return lower if len(lower) == 1 else char


def _fold(text: str) -> str:
    """Lower case without accents, one character for one, so positions carry over to the original."""
    return "".join(_fold_char(c) for c in text)


def matcher(terms: list[Term]) -> re.Pattern | None:
    """A pattern finding every phrase of the terms in folded text, whole words (or word starts)."""
    alternatives = set()
    for term in terms:
        for phrase in term:
            words = [re.escape(_fold(w)) for w in phrase.words if w.isalnum()]
            if words:
                alternatives.add(r"[\W_]+".join(words) + (r"[^\W_]*" if phrase.prefix else ""))
    if not alternatives:
        return None
    body = "|".join(sorted(alternatives, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{body})(?![^\W_])")


def snippet(text: str, pattern: re.Pattern | None, *, width: int = SNIPPET_CHARS) -> SafeString:
    """The text (cut to about `width` characters around the first match) with each match in <mark>."""
    text = " ".join((text or "").split())
    spans = [m.span() for m in pattern.finditer(_fold(text))] if pattern else []
    if len(text) <= width:
        return highlight(text, spans)
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    if start and (space := text.find(" ", start, first)) != -1:
        start = space + 1  # begin with a whole word
    end = min(len(text), start + width)
    if end < len(text) and text.rfind(" ", start, end) > max(first, start):
        end = text.rfind(" ", start, end)
    lead, tail = ("…" if start else ""), ("…" if end < len(text) else "")
    shift = len(lead) - start
    kept = [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]
    return highlight(lead + text[start:end] + tail, kept)


# Results


@dataclass
class Hit:
    """One found object with its highlighted fields and the addresses that show it in place."""

    kind: str
    obj: object
    fields: dict[str, SafeString] = field(default_factory=dict)
    previous: Revision | None = None  # clauses: the revision before theirs, for the comparison row

    @property
    def url(self) -> str:
        """Clauses: the point page, at this revision's wording; others: their own anchor."""
        if self.kind == "clause":
            return self.obj.point.get_absolute_url() + f"#clause-{self.obj.revision.slug}"
        return self.obj.get_absolute_url()

    @property
    def compare_url(self) -> str:
        """The comparison of this clause's revision with the one before it, at the point's row."""
        if self.kind != "clause" or self.previous is None:
            return ""
        query = urlencode({"a": self.previous.slug, "b": self.obj.revision.slug})
        return reverse("compare", args=[self.obj.revision.plan.slug]) + f"?{query}#point-{self.obj.point.key}"


@dataclass
class Group:
    kind: str
    count: int = 0
    hits: list[Hit] = field(default_factory=list)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class Results:
    terms: list[Term]
    groups: list[Group]

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)


def search(query_text: str, *, plan: Plan | None = None, limit: int = RESULTS_PER_KIND) -> Results:
    """
    The best `limit` matches of each kind, with the count of all matches of that kind,
    optionally within one plan. A fixed number of queries whatever the data: one on the
    index, one per kind found, one for the clauses' previous revisions.
    """
    terms = parse_query(query_text)
    groups = {kind: Group(kind) for kind in KINDS}
    results = Results(terms=terms, groups=list(groups.values()))
    if not terms:
        return results
    ids: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for kind, pk, count in _backend().find(terms, plan_id=plan.pk if plan else None, limit=limit):
        ids[kind].append(pk)
        groups[kind].count = count
    pattern = matcher(terms)
    for kind, pks in ids.items():
        if pks:
            objects = _FETCH[kind]().in_bulk(pks)  # the querysets re-check visibility: no draft, no dropped text
            groups[kind].hits = [_hit(kind, objects[pk], pattern) for pk in pks if pk in objects]
    _attach_previous(groups["clause"].hits)
    return results


_FETCH = {
    "clause": lambda: Clause.objects.filter(dropped=False).select_related("revision__plan", "point__plan"),
    "stance": lambda: Stance.objects.with_sources(),
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
    fields = {name: snippet(get(obj), pattern) for name, get in _FIELDS[kind].items() if get(obj)}
    return Hit(kind=kind, obj=obj, fields=fields)


def _attach_previous(hits: list[Hit]) -> None:
    """Each clause hit's previous revision in its plan's order (date, then entry), in one query."""
    plan_ids = {hit.obj.revision.plan_id for hit in hits}
    if not plan_ids:
        return
    previous, last = {}, {}
    revisions = Revision.objects.filter(plan_id__in=plan_ids).only("plan_id", "slug", "title", "published_on")
    for revision in revisions.order_by("plan_id", "published_on", "pk"):
        previous[revision.pk] = last.get(revision.plan_id)
        last[revision.plan_id] = revision
    for hit in hits:
        hit.previous = previous.get(hit.obj.revision_id)


# Backends


def _backend(conn=None):
    conn = conn or connection
    return _PostgresBackend(conn) if conn.vendor == "postgresql" else _SqliteBackend(conn)


FTS_TABLE = "peaceplans_search"
PG_CONFIG = "peaceplans_search"  # `simple` without hyphenated compounds (migration 0005)

# Per kind: the column naming the object, the tables it is read from, what makes it
# searchable at all, and the column naming its plan.
_SOURCES = {
    "clause": (
        "c.id",
        "peaceplans_clause c JOIN peaceplans_revision r ON r.id = c.revision_id",
        "NOT c.dropped",
        "r.plan_id",
    ),
    "stance": ("s.id", "peaceplans_stance s", "TRUE", "s.plan_id"),
    "note": (
        "a.id",
        "peaceplans_annotation a JOIN peaceplans_point p ON p.id = a.point_id",
        "a.status = 'published'",
        "p.plan_id",
    ),
    "event": ("e.id", "peaceplans_event e", "TRUE", "e.plan_id"),
}
# SQLite: an object's row is (rowid, kind, plan_id, title, body, quote); rowid = id * 4 + kind.
_SQLITE_COLUMNS = {
    "clause": "'', c.text, ''",
    "stance": "s.speaker, s.summary, s.quote",
    "note": "'', a.body, ''",
    "event": "e.title, e.summary, ''",
}
# PostgreSQL: the documents, written exactly as the GIN expression indexes of migration 0005.
_PG_VECTORS = {
    "clause": "to_tsvector('peaceplans_search'::regconfig, c.text)",
    "stance": "(to_tsvector('peaceplans_search'::regconfig, s.summary) || "
    "to_tsvector('peaceplans_search'::regconfig, s.quote) || to_tsvector('peaceplans_search'::regconfig, s.speaker))",
    "note": "to_tsvector('peaceplans_search'::regconfig, a.body)",
    "event": "(setweight(to_tsvector('peaceplans_search'::regconfig, e.title), 'A') || "
    "to_tsvector('peaceplans_search'::regconfig, e.summary))",
}


def _rowid(kind: str) -> str:
    return f"{_SOURCES[kind][0]} * {len(KINDS)} + {KINDS.index(kind)}"


class _SqliteBackend:
    def __init__(self, conn):
        self.conn = conn

    @staticmethod
    def match(terms: list[Term]) -> str:
        """FTS5 query syntax: every word double-quoted (words hold letters, digits and dots only)."""

        def phrase(p: Phrase) -> str:
            return '"' + " ".join(p.words) + '"' + ("*" if p.prefix else "")

        return " AND ".join(phrase(t[0]) if len(t) == 1 else "(" + " OR ".join(map(phrase, t)) + ")" for t in terms)

    def find(self, terms, *, plan_id, limit):
        where, params = f"{FTS_TABLE} MATCH %s", [self.match(terms)]
        if plan_id is not None:
            where, params = where + " AND plan_id = %s", [*params, plan_id]
        # bm25 is lower for better matches; titles (event titles, speakers) weigh double.
        sql = (
            "SELECT kind, id, n FROM (SELECT kind, id, count(*) OVER (PARTITION BY kind) AS n, "
            "row_number() OVER (PARTITION BY kind ORDER BY score, id) AS rn FROM ("
            f"SELECT kind, rowid / {len(KINDS)} AS id, bm25({FTS_TABLE}, 0, 0, 2.0, 1.0, 1.0) AS score "
            f"FROM {FTS_TABLE} WHERE {where})) WHERE rn <= %s ORDER BY kind, rn"
        )
        with self.conn.cursor() as cursor:
            cursor.execute(sql, [*params, limit])
            return cursor.fetchall()

    def refresh(self, kind: str, where: str, params: list) -> None:
        """Rewrite, from the tables, the index rows of the objects of one kind that `where` selects."""
        _, tables, visible, plan_column = _SOURCES[kind]
        with self.conn.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {FTS_TABLE} WHERE rowid IN (SELECT {_rowid(kind)} FROM {tables} WHERE {where})", params
            )
            cursor.execute(
                f"INSERT OR REPLACE INTO {FTS_TABLE} (rowid, kind, plan_id, title, body, quote) "
                f"SELECT {_rowid(kind)}, '{kind}', {plan_column}, {_SQLITE_COLUMNS[kind]} "
                f"FROM {tables} WHERE ({where}) AND {visible}",
                params,
            )

    def remove(self, kind: str, pk: int) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [pk * len(KINDS) + KINDS.index(kind)])

    def reindex(self, plan_id: int | None) -> int:
        with self.conn.cursor() as cursor:
            if plan_id is None:
                cursor.execute(f"DELETE FROM {FTS_TABLE}")
            else:  # also drops rows of objects deleted without a signal (QuerySet.delete on raw SQL)
                cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE plan_id = %s", [plan_id])
        for kind in KINDS:
            if plan_id is None:
                self.refresh(kind, "TRUE", [])
            else:
                self.refresh(kind, f"{_SOURCES[kind][3]} = %s", [plan_id])
        with self.conn.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {FTS_TABLE}")
            return cursor.fetchone()[0]


class _PostgresBackend:
    def __init__(self, conn):
        self.conn = conn

    @staticmethod
    def tsquery(terms: list[Term]) -> str:
        """
        to_tsquery syntax: every word single-quoted (words hold letters, digits and dots only).
        PostgreSQL reads the 10 of "5-10 km" or "2025-2026" as a signed number, so a number
        is also looked for with a minus sign, as SQLite would find it.
        """

        def word(w: str, prefix: bool) -> str:
            mark = ":*" if prefix else ""
            return f"('{w}'{mark} | '-{w}'{mark})" if w.isdigit() else f"'{w}'{mark}"

        def phrase(p: Phrase) -> str:
            last = len(p.words) - 1
            return " <-> ".join(word(w, p.prefix and i == last) for i, w in enumerate(p.words))

        return " & ".join(phrase(t[0]) if len(t) == 1 else "(" + " | ".join(map(phrase, t)) + ")" for t in terms)

    @staticmethod
    def find_sql(*, in_plan: bool) -> str:
        """One query for all kinds: each kind's best rows by rank, with the count of all its matches."""
        query = f"to_tsquery('{PG_CONFIG}', %(query)s)"
        parts = []
        for kind in KINDS:
            pk, tables, visible, plan_column = _SOURCES[kind]
            vector = _PG_VECTORS[kind]
            plan_filter = f" AND {plan_column} = %(plan)s" if in_plan else ""
            parts.append(
                f"SELECT '{kind}' AS kind, {pk} AS id, count(*) OVER () AS n, "
                f"row_number() OVER (ORDER BY ts_rank({vector}, {query}) DESC, {pk}) AS rn "
                f"FROM {tables} WHERE {vector} @@ {query} AND {visible}{plan_filter}"
            )
        return f"SELECT kind, id, n FROM ({' UNION ALL '.join(parts)}) AS hits WHERE rn <= %(limit)s ORDER BY kind, rn"

    def find(self, terms, *, plan_id, limit):
        with self.conn.cursor() as cursor:
            cursor.execute(
                self.find_sql(in_plan=plan_id is not None),
                {"query": self.tsquery(terms), "plan": plan_id, "limit": limit},
            )
            return cursor.fetchall()

    def refresh(self, kind, where, params) -> None:
        """Nothing to do: PostgreSQL searches the tables themselves."""

    def remove(self, kind, pk) -> None:
        """Nothing to do: PostgreSQL searches the tables themselves."""

    def reindex(self, plan_id) -> int:
        return 0


# Keeping the SQLite index exact. Each update runs on the writer's connection, so inside
# its transaction: the admin, the services and history restores all write in one.


def reindex(*, plan: Plan | None = None) -> int:
    """
    Rewrite the index from the tables, for one plan or for all; the number of rows it now
    holds (0 on PostgreSQL, which has no index to rewrite). Bulk writes call it inside
    their transaction, so that nothing they did (or did without signals) is missed.
    """
    return _backend().reindex(plan.pk if plan else None)


def _refresh(kind: str, where: str, pk: int, using: str) -> None:
    _backend(connections[using]).refresh(kind, where, [pk])


@receiver(post_save, sender=Clause, dispatch_uid="search_clause_saved")
def _clause_saved(sender, instance, using, **kwargs):
    _refresh("clause", "c.id = %s", instance.pk, using)


@receiver(post_save, sender=Stance, dispatch_uid="search_stance_saved")
def _stance_saved(sender, instance, using, **kwargs):
    _refresh("stance", "s.id = %s", instance.pk, using)


@receiver(post_save, sender=Annotation, dispatch_uid="search_note_saved")
def _note_saved(sender, instance, using, **kwargs):
    """Publishing adds the note, unpublishing removes it: the row follows its status."""
    _refresh("note", "a.id = %s", instance.pk, using)


@receiver(post_save, sender=Event, dispatch_uid="search_event_saved")
def _event_saved(sender, instance, using, **kwargs):
    _refresh("event", "e.id = %s", instance.pk, using)


@receiver(post_save, sender=Revision, dispatch_uid="search_revision_saved")
def _revision_saved(sender, instance, using, created, **kwargs):
    """Its clauses carry its plan in the index."""
    if not created:
        _refresh("clause", "c.revision_id = %s", instance.pk, using)


@receiver(post_save, sender=Point, dispatch_uid="search_point_saved")
def _point_saved(sender, instance, using, created, **kwargs):
    """Its notes carry its plan in the index (point titles themselves are not searched)."""
    if not created:
        _refresh("note", "a.point_id = %s", instance.pk, using)


@receiver(post_delete, sender=Clause, dispatch_uid="search_clause_deleted")
@receiver(post_delete, sender=Stance, dispatch_uid="search_stance_deleted")
@receiver(post_delete, sender=Annotation, dispatch_uid="search_note_deleted")
@receiver(post_delete, sender=Event, dispatch_uid="search_event_deleted")
def _deleted(sender, instance, using, **kwargs):
    kind = {Clause: "clause", Stance: "stance", Annotation: "note", Event: "event"}[sender]
    _backend(connections[using]).remove(kind, instance.pk)


@receiver(post_migrate, dispatch_uid="search_after_migrate")
def _after_migrate(sender, app_config, using, **kwargs):
    """`flush` empties the tables but not the FTS5 table, and emits this too: start from the tables."""
    conn = connections[using]
    if app_config.label == "peaceplans" and conn.vendor == "sqlite" and FTS_TABLE in conn.introspection.table_names():
        _SqliteBackend(conn).reindex(None)
