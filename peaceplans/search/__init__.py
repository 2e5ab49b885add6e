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

# ruff: noqa: S608 -- the SQL below is assembled from this module's constants only; every
# value (the query words, ids, limits) travels as a parameter.

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import connection, connections
from django.db.models import OuterRef, Q, Subquery
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils.http import urlencode

from peaceplans.markup import SafeHtml, highlight, markdown_to_text
from peaceplans.models import POINTS_ONLY_IN_UNPUBLISHED, Annotation, Clause, Event, Plan, Point, Revision, Stance

MAX_QUERY_CHARS = 200
RESULTS_PER_KIND = 20
MIN_PREFIX_CHARS = 2  # a final word of one character is a whole word: as a prefix, it would match most words
COUNT_LIMIT = 1000  # per kind: counted exactly and ranked up to this; beyond, "more than" and unranked
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
    round. The last word is a prefix unless the text ends with a space or a closing quote,
    or it is a single character (the start of a word that could be any word in the archive).
    Operators of FTS5 or tsquery are ordinary words here; punctuation and emoji are dropped.
    """
    terms: list[Term] = []
    parts = _normalise(text).split('"')
    for index, part in enumerate(parts):
        typing = index == len(parts) - 1 and not part[-1:].isspace()  # the reader may still be typing this
        if index % 2:  # inside quotes; an unclosed quote runs to the end
            words = tuple(TOKEN.findall(part.lower()))
            if words:
                terms.append((Phrase(words, prefix=typing and len(words[-1]) >= MIN_PREFIX_CHARS),))
            continue
        words = _join_digit_groups(part.split())
        for position, word in enumerate(words, start=1):
            term = _word_term(word)
            if term and typing and position == len(words):
                term = tuple(Phrase(p.words, prefix=len(p.words[-1]) >= MIN_PREFIX_CHARS) for p in term)
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


def snippet(text: str, pattern: re.Pattern | None, *, width: int = SNIPPET_CHARS) -> SafeHtml:
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
    fields: dict[str, SafeHtml] = field(default_factory=dict)
    previous: Revision | None = None  # clauses: the revision before theirs (slug and title), for the comparison

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


def _clauses():
    """Visible clauses with what the page shows, and the revision before each one's (for the comparison link)."""
    earlier = (
        Revision.objects.public()
        .filter(plan_id=OuterRef("revision__plan_id"))
        .filter(
            Q(published_on__lt=OuterRef("revision__published_on"))
            | Q(published_on=OuterRef("revision__published_on"), pk__lt=OuterRef("revision_id"))
        )
        .order_by("-published_on", "-pk")  # the reverse of Revision.objects.in_order()
    )
    return (
        Clause.objects.public()
        .filter(dropped=False)
        .select_related("revision__plan", "point__plan")
        .annotate(
            previous_slug=Subquery(earlier.values("slug")[:1]), previous_title=Subquery(earlier.values("title")[:1])
        )
    )


_FETCH = {
    "clause": _clauses,
    "stance": lambda: Stance.objects.public().with_sources(),
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
    if kind == "clause" and obj.previous_slug is not None:
        previous = Revision(plan_id=obj.revision.plan_id, slug=obj.previous_slug, title=obj.previous_title)
    return Hit(kind=kind, obj=obj, fields=fields, previous=previous)


# Backends


def _backend(conn=None):
    conn = conn or connection
    return _PostgresBackend(conn) if conn.vendor == "postgresql" else _SqliteBackend(conn)


FTS_TABLE = "peaceplans_search"
FTS_TERMS = "peaceplans_search_terms"  # its words (fts5vocab, migration 0008)
EXPAND_MIN_CHARS = 4  # FTS5 has prefix indexes for 2 and 3 characters (migration 0005)
EXPAND_MAX_WORDS = 32
PG_CONFIG = "peaceplans_search"  # `simple` without hyphenated compounds (migration 0005)

# Per kind: the column naming the object, the tables it is read from, what makes it
# searchable at all, and the column naming its plan.
_SOURCES = {
    "clause": (
        "c.id",
        "peaceplans_clause c JOIN peaceplans_revision r ON r.id = c.revision_id",
        "NOT c.dropped AND r.public",
        "r.plan_id",
    ),
    "stance": (
        "s.id",
        "peaceplans_stance s LEFT JOIN peaceplans_revision r ON r.id = s.revision_id",
        "(s.revision_id IS NULL OR r.public) "
        f"AND (s.point_id IS NULL OR s.point_id NOT IN ({POINTS_ONLY_IN_UNPUBLISHED}))",
        "s.plan_id",
    ),
    "note": (
        "a.id",
        "peaceplans_annotation a JOIN peaceplans_point p ON p.id = a.point_id",
        f"a.status = 'published' AND a.point_id NOT IN ({POINTS_ONLY_IN_UNPUBLISHED})",
        "p.plan_id",
    ),
    "event": ("e.id", "peaceplans_event e", "TRUE", "e.plan_id"),
}
# PostgreSQL: per kind, the object's table, what makes it searchable, and the condition that
# keeps it to a plan, written without a join: the planner then reads the GIN index once. The
# unpublished revisions (a few at most) are read once, as the plan's are.
_PG_UNPUBLISHED = "ARRAY(SELECT id FROM peaceplans_revision WHERE NOT public)"
_PG_SOURCES = {
    "clause": (
        "peaceplans_clause c",
        f"NOT c.dropped AND c.revision_id <> ALL({_PG_UNPUBLISHED})",
        "c.revision_id = ANY(ARRAY(SELECT id FROM peaceplans_revision WHERE plan_id = %(plan)s))",
    ),
    "stance": (
        "peaceplans_stance s",
        f"(s.revision_id IS NULL OR s.revision_id <> ALL({_PG_UNPUBLISHED})) "
        f"AND (s.point_id IS NULL OR s.point_id <> ALL(ARRAY({POINTS_ONLY_IN_UNPUBLISHED})))",
        "s.plan_id = %(plan)s",
    ),
    "note": (
        "peaceplans_annotation a",
        f"a.status = 'published' AND a.point_id <> ALL(ARRAY({POINTS_ONLY_IN_UNPUBLISHED}))",
        "a.point_id = ANY(ARRAY(SELECT id FROM peaceplans_point WHERE plan_id = %(plan)s))",
    ),
    "event": ("peaceplans_event e", "TRUE", "e.plan_id = %(plan)s"),
}
_PG_COLUMNS = {
    "clause": ("text",),
    "stance": ("summary", "quote", "speaker"),
    "note": ("body",),
    "event": ("title", "summary"),
}
# SQLite: an object's row is (rowid, plan, title, body, quote), rowid = kind * ROWID_SPAN + id
# (migration 0008): each kind is one range of rowids, which FTS5 searches on its own.
ROWID_SPAN = 10**12
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
    return f"{KINDS.index(kind) * ROWID_SPAN} + {_SOURCES[kind][0]}"


class _SqliteBackend:
    def __init__(self, conn):
        self.conn = conn

    @staticmethod
    def match(terms: list[Term], plan_id: int | None = None) -> str:
        """
        FTS5 query syntax: every word double-quoted (words hold letters, digits and dots only),
        all of them within the text columns; a plan is the number in the `plan` column.
        """

        def phrase(p: Phrase) -> str:
            return '"' + " ".join(p.words) + '"' + ("*" if p.prefix else "")

        words = " AND ".join(phrase(t[0]) if len(t) == 1 else "(" + " OR ".join(map(phrase, t)) + ")" for t in terms)
        text = "{title body quote} : (" + words + ")"
        return text if plan_id is None else f'plan : "{int(plan_id)}" AND {text}'

    def expand(self, terms: list[Term]) -> list[Term]:
        """
        The terms with each prefix of 4 characters or more replaced by the words of the index
        it stands for ("ukrain" -> ukraine, ukrainian, ukrainians), in one query. FTS5 answers
        such a prefix by merging all the rows of all those words, in every query that uses it
        (four counts and four lists here); named words it reads only as far as it needs. A
        prefix found in no word, or in more than EXPAND_MAX_WORDS, stays a prefix.
        """
        prefixes = sorted({p.words[-1] for t in terms for p in t if p.prefix and len(p.words[-1]) >= EXPAND_MIN_CHARS})
        if not prefixes:
            return terms
        # Words are compared by their UTF-8 bytes, that is by code point: all that start with the prefix sort
        # between it and the prefix followed by the last code point.
        sql = " UNION ALL ".join(
            f"SELECT * FROM (SELECT %s AS prefix, term FROM {FTS_TERMS} WHERE term >= %s AND term <= %s "
            f"LIMIT {EXPAND_MAX_WORDS + 1})"
            for _ in prefixes
        )
        words: dict[str, list[str]] = {prefix: [] for prefix in prefixes}
        with self.conn.cursor() as cursor:
            cursor.execute(sql, [value for prefix in prefixes for value in (prefix, prefix, prefix + "\U0010ffff")])
            for prefix, word in cursor.fetchall():
                words[prefix].append(word)

        def phrases(p: Phrase) -> tuple[Phrase, ...]:
            found = words.get(p.words[-1]) if p.prefix else None
            if not found or len(found) > EXPAND_MAX_WORDS:
                return (p,)
            return tuple(Phrase((*p.words[:-1], word)) for word in found)

        return [tuple(e for p in term for e in phrases(p)) for term in terms]

    @staticmethod
    def find_sql() -> str:
        """
        One statement; per kind, FTS5 reads only that kind's range of rowids:
        - the count, stopping at %(over)s (count_limit + 1) rows, without scoring them;
        - up to that many matches, the best %(limit)s by bm25 (lower is better; titles, that
          is event titles and speakers, weigh double);
        - beyond, the %(limit)s latest added (highest rowids), which FTS5 reads in rowid order
          and stops after: no match is scored.
        The count decides each branch's LIMIT, which SQLite evaluates before the branch runs:
        at LIMIT 0 it never opens the FTS5 cursor (as a WHERE condition, it would be tested on
        every row of the branch ruled out, walking all its matches).
        """
        counts, parts = [], []
        for index, kind in enumerate(KINDS):
            low, high = index * ROWID_SPAN, (index + 1) * ROWID_SPAN - 1
            where = f"{FTS_TABLE} MATCH %(match)s AND rowid BETWEEN {low} AND {high}"
            counts.append(
                f"SELECT '{kind}' AS kind, (SELECT count(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {where} "
                "LIMIT %(over)s)) AS n"
            )
            n = f"(SELECT n FROM counts WHERE kind = '{kind}')"
            parts.append(
                f"SELECT * FROM (SELECT '{kind}' AS kind, rowid - {low} AS id, "
                f"bm25({FTS_TABLE}, 0, 2.0, 1.0, 1.0) AS position FROM {FTS_TABLE} "
                f"WHERE {where} ORDER BY position, rowid LIMIT (CASE WHEN {n} < %(over)s THEN %(limit)s ELSE 0 END))"
            )
            parts.append(
                f"SELECT * FROM (SELECT '{kind}' AS kind, rowid - {low} AS id, -rowid AS position FROM {FTS_TABLE} "
                f"WHERE {where} ORDER BY rowid DESC LIMIT (CASE WHEN {n} < %(over)s THEN 0 ELSE %(limit)s END))"
            )
        return (
            f"WITH counts AS MATERIALIZED ({' UNION ALL '.join(counts)}) "
            f"SELECT hits.kind, hits.id, counts.n FROM ({' UNION ALL '.join(parts)}) AS hits "
            "JOIN counts ON counts.kind = hits.kind ORDER BY hits.kind, hits.position, hits.id"
        )

    def find(self, terms, *, plan_id, limit, count_limit):
        params = {"match": self.match(terms, plan_id), "limit": limit, "over": count_limit + 1}
        with self.conn.cursor() as cursor:
            cursor.execute(self.find_sql(), params)
            return cursor.fetchall()

    def refresh(self, kind: str, where: str, params: list) -> None:
        """Rewrite, from the tables, the index rows of the objects of one kind that `where` selects."""
        _, tables, visible, plan_column = _SOURCES[kind]
        with self.conn.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {FTS_TABLE} WHERE rowid IN (SELECT {_rowid(kind)} FROM {tables} WHERE {where})", params
            )
            cursor.execute(
                f"INSERT OR REPLACE INTO {FTS_TABLE} (rowid, plan, title, body, quote) "
                f"SELECT {_rowid(kind)}, {plan_column}, {_SQLITE_COLUMNS[kind]} "
                f"FROM {tables} WHERE ({where}) AND {visible}",
                params,
            )

    def remove(self, kind: str, pk: int) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [KINDS.index(kind) * ROWID_SPAN + pk])

    def reindex(self, plan_id: int | None) -> int:
        with self.conn.cursor() as cursor:
            if plan_id is None:
                cursor.execute(f"DELETE FROM {FTS_TABLE}")
            else:  # also drops rows of objects deleted without a signal (QuerySet.delete on raw SQL)
                cursor.execute(
                    f"DELETE FROM {FTS_TABLE} WHERE rowid IN "
                    f"(SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)",
                    [f'plan : "{int(plan_id)}"'],
                )
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
        """
        One statement, as on SQLite. Per kind, the table is read once, on its GIN index: the
        first %(over)s (count_limit + 1) matching rows with their text, kept aside; then
        - their number is the count;
        - up to count_limit, the best %(limit)s of them by ts_rank;
        - beyond, %(limit)s of them (the highest ids), unranked.
        The conditions on the counts are one-time filters: the branch ruled out is never run.

        Every row PostgreSQL looks at outside the index costs a to_tsvector of its text (tens
        of microseconds), which its planner underrates: walking the primary key backwards to
        find the latest matches, it may compute the documents of the whole table. So the
        query reaches the planner through a subquery it cannot see into: expecting few
        matches, it reads the GIN index, whose bitmap hands over matching rows only, and a
        LIMIT without an order stops the reading there. (The bitmap itself reads every entry
        of the words in the index, a few tenths of a microsecond each.)
        """
        query = f"(SELECT to_tsquery('{PG_CONFIG}', %(query)s))"
        found, counts, parts = [], [], []
        for kind in KINDS:
            pk = _SOURCES[kind][0]
            alias = pk.split(".")[0]
            table, visible, plan_filter = _PG_SOURCES[kind]
            vector = _PG_VECTORS[kind]
            columns = ", ".join(f"{alias}.{column}" for column in _PG_COLUMNS[kind])
            where = f"{vector} @@ {query} AND {visible}" + (f" AND {plan_filter}" if in_plan else "")
            found.append(
                f"found_{kind} AS MATERIALIZED (SELECT {pk}, {columns} FROM {table} WHERE {where} LIMIT %(over)s)"
            )
            counts.append(f"SELECT '{kind}' AS kind, (SELECT count(*) FROM found_{kind}) AS n")
            n = f"(SELECT n FROM counts WHERE kind = '{kind}')"
            # The kept rows take the table's alias, so that the document is written as in the index.
            parts.append(
                f"(SELECT '{kind}' AS kind, {pk} AS id, -ts_rank({vector}, {query})::float8 AS position "
                f"FROM found_{kind} AS {alias} WHERE {n} < %(over)s ORDER BY position, {pk} LIMIT %(limit)s)"
            )
            parts.append(
                f"(SELECT '{kind}' AS kind, {pk} AS id, -{pk}::float8 AS position "
                f"FROM found_{kind} AS {alias} WHERE {n} >= %(over)s ORDER BY {pk} DESC LIMIT %(limit)s)"
            )
        return (
            f"WITH {', '.join(found)}, counts AS ({' UNION ALL '.join(counts)}) "
            f"SELECT hits.kind, hits.id, counts.n FROM ({' UNION ALL '.join(parts)}) AS hits "
            "JOIN counts ON counts.kind = hits.kind ORDER BY hits.kind, hits.position, hits.id"
        )

    def expand(self, terms: list[Term]) -> list[Term]:
        """Nothing to do: the GIN index finds the words a prefix stands for itself."""
        return terms

    def find(self, terms, *, plan_id, limit, count_limit):
        with self.conn.cursor() as cursor:
            cursor.execute(
                self.find_sql(in_plan=plan_id is not None),
                {"query": self.tsquery(terms), "plan": plan_id, "limit": limit, "over": count_limit + 1},
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
    """Its point's notes and stances follow too: wording in an unpublished revision only hides the point, and them."""
    _refresh("clause", "c.id = %s", instance.pk, using)
    _refresh("note", "a.point_id = %s", instance.point_id, using)
    _refresh("stance", "s.point_id = %s", instance.point_id, using)


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
    """Its clauses carry its plan in the index; they, and the stances answering it, follow whether it is published."""
    if not created:
        _refresh("clause", "c.revision_id = %s", instance.pk, using)
        _refresh("stance", "s.revision_id = %s", instance.pk, using)
        its_points = "IN (SELECT point_id FROM peaceplans_clause WHERE revision_id = %s)"
        _refresh("note", f"a.point_id {its_points}", instance.pk, using)
        _refresh("stance", f"s.point_id {its_points}", instance.pk, using)


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
    if sender is Clause:  # its point may be public again, and its notes and stances with it
        _refresh("note", "a.point_id = %s", instance.point_id, using)
        _refresh("stance", "s.point_id = %s", instance.point_id, using)


@receiver(post_migrate, dispatch_uid="search_after_migrate")
def _after_migrate(sender, app_config, using, **kwargs):
    """
    `flush` empties the tables but not the FTS5 table, and emits this too: start from the tables.
    Only with the layout this module writes (migration 0008 makes both tables), not after a
    migration back to an older one.
    """
    conn = connections[using]
    ours = app_config.label == "peaceplans" and conn.vendor == "sqlite"
    if ours and {FTS_TABLE, FTS_TERMS} <= set(conn.introspection.table_names()):
        _SqliteBackend(conn).reindex(None)
