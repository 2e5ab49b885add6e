"""
The two back ends of search (see the package docstring): SQLite's FTS5 tables and PostgreSQL's
full-text search over the tables themselves. Each writes its own query syntax around the words
of `query.parse_query`, never around user text.

Both match on stems (SQLite: Porter; PostgreSQL: English Snowball, migration 0017) and rank
first the rows that also hold the words exactly as asked (the typed word or one of its
aliases' spellings), then by relevance.
"""

# ruff: noqa: S608 -- the SQL below is assembled from this module's constants only; every
# value (the query words, ids, limits) travels as a parameter.

from django.db import connection

from peaceplans.models import POINTS_ONLY_IN_UNPUBLISHED
from peaceplans.search import words
from peaceplans.search.query import KINDS, Phrase, Term


def _backend(conn=None):
    conn = conn or connection
    return _PostgresBackend(conn) if conn.vendor == "postgresql" else _SqliteBackend(conn)


FTS_TABLE = "peaceplans_search"  # stemmed (migration 0017)
FTS_EXACT = "peaceplans_search_exact"  # the same rows, words as written
FTS_TERMS = "peaceplans_search_terms"  # the words of FTS_EXACT (fts5vocab)
EXPAND_MIN_CHARS = 4  # FTS5 has prefix indexes for 2 and 3 characters (migration 0005)
EXPAND_MAX_WORDS = 32
PG_CONFIG = "peaceplans_english"  # `peaceplans_search` with English stemming (migration 0017)
PG_EXACT = "peaceplans_search"  # `simple` without hyphenated compounds (migration 0005)
TEXT_COLUMNS = "{title body quote}"  # SQLite: the reader's words never look in the plan column

# Per kind: the column naming the object, the tables it is read from, what makes it
# searchable at all, and the column naming its plan.
_CLAUSES = "peaceplans_clause c JOIN peaceplans_revision r ON r.id = c.revision_id"
_SOURCES = {
    "clause": ("c.id", _CLAUSES, "NOT c.dropped AND r.public", "r.plan_id"),
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
    # A clause's change note and wording note: dropped clauses' too (they say why), in public texts.
    "change": ("c.id", _CLAUSES, "r.public AND (c.change_note <> '' OR c.wording_note <> '')", "r.plan_id"),
}
# PostgreSQL: per kind, the object's table, what makes it searchable, and the condition that
# keeps it to a plan, written without a join: the planner then reads the GIN index once. The
# unpublished revisions (a few at most) are read once, as the plan's are.
_PG_UNPUBLISHED = "ARRAY(SELECT id FROM peaceplans_revision WHERE NOT public)"
_PG_IN_PLAN = "c.revision_id = ANY(ARRAY(SELECT id FROM peaceplans_revision WHERE plan_id = %(plan)s))"
_PG_SOURCES = {
    "clause": ("peaceplans_clause c", f"NOT c.dropped AND c.revision_id <> ALL({_PG_UNPUBLISHED})", _PG_IN_PLAN),
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
    "change": ("peaceplans_clause c", f"c.revision_id <> ALL({_PG_UNPUBLISHED})", _PG_IN_PLAN),
}
_PG_COLUMNS = {
    "clause": ("text",),
    "stance": ("summary", "quote", "speaker"),
    "note": ("body",),
    "event": ("title", "summary"),
    "change": ("change_note", "wording_note"),
}
# SQLite: an object's row is (rowid, plan, title, body, quote), rowid = kind * ROWID_SPAN + id
# (migration 0008): each kind is one range of rowids, which FTS5 searches on its own.
ROWID_SPAN = 10**12
_SQLITE_COLUMNS = {
    "clause": "'', c.text, ''",
    "stance": "s.speaker, s.summary, s.quote",
    "note": "'', a.body, ''",
    "event": "e.title, e.summary, ''",
    "change": "'', c.change_note, c.wording_note",
}
# PostgreSQL: the documents, written exactly as the GIN expression indexes of migration 0017
# ({config} is PG_CONFIG there; the exact documents, PG_EXACT, are only computed for ranking).
_PG_VECTORS = {
    "clause": "to_tsvector('{config}'::regconfig, c.text)",
    "stance": "(to_tsvector('{config}'::regconfig, s.summary) || "
    "to_tsvector('{config}'::regconfig, s.quote) || to_tsvector('{config}'::regconfig, s.speaker))",
    "note": "to_tsvector('{config}'::regconfig, a.body)",
    "event": "(setweight(to_tsvector('{config}'::regconfig, e.title), 'A') || "
    "to_tsvector('{config}'::regconfig, e.summary))",
    "change": "(to_tsvector('{config}'::regconfig, c.change_note) || "
    "to_tsvector('{config}'::regconfig, c.wording_note))",
}


def _rowid(kind: str) -> str:
    return f"{KINDS.index(kind) * ROWID_SPAN} + {_SOURCES[kind][0]}"


_TEXTS = {
    "clause": "c.text",
    "stance": "s.speaker, s.summary, s.quote",
    "note": "a.body",
    "event": "e.title, e.summary",
    "change": "c.change_note, c.wording_note",
}


def _texts_sql(kind: str, where: str) -> str:
    """The searchable texts of the visible objects of one kind that `where` selects (for the words table)."""
    _, tables, visible, _ = _SOURCES[kind]
    return f"SELECT {_TEXTS[kind].replace(', ', " || ' ' || ")} AS text FROM {tables} WHERE ({where}) AND {visible}"


def _words_starting(conn, terms: list[Term], select: str) -> dict[str, list[str]]:
    """
    {prefix: the words that `select` (a statement with two %s, the bounds) lists for it} for the
    terms' prefixes of EXPAND_MIN_CHARS or more, up to EXPAND_MAX_WORDS + 1 each, in one query.
    Words are compared by code point: all that start with the prefix sort between it and the
    prefix followed by the last code point.
    """
    prefixes = sorted({p.words[-1] for t in terms for p in t if p.prefix and len(p.words[-1]) >= EXPAND_MIN_CHARS})
    if not prefixes:
        return {}
    sql = " UNION ALL ".join(
        f"SELECT * FROM (SELECT %s AS prefix, w.word FROM ({select}) AS w LIMIT {EXPAND_MAX_WORDS + 1}) AS p{i}"
        for i, _ in enumerate(prefixes)
    )
    found: dict[str, list[str]] = {prefix: [] for prefix in prefixes}
    with conn.cursor() as cursor:
        cursor.execute(sql, [value for prefix in prefixes for value in (prefix, prefix, prefix + "\U0010ffff")])
        for prefix, word in cursor.fetchall():
            found[prefix].append(word)
    return found


class _SqliteBackend:
    vendor = "sqlite"
    stemmer = "porter"  # FTS5's

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

        words_ = " AND ".join(phrase(t[0]) if len(t) == 1 else "(" + " OR ".join(map(phrase, t)) + ")" for t in terms)
        text = TEXT_COLUMNS + " : (" + words_ + ")"
        return text if plan_id is None else f'plan : "{int(plan_id)}" AND {text}'

    def expand(self, terms: list[Term]) -> list[Term]:
        """
        The terms with each prefix of 4 characters or more replaced by the words of the index
        it stands for ("ukrain" -> ukraine, ukrainian, ukrainians), in one query: the words as
        written (FTS_TERMS), which the stemmed table then reads as stems. FTS5 answers a long
        prefix by merging all the rows of all its words, in every query that uses it; and a
        stemmed prefix misses words whose stem is shorter than it ("negotiat" is not the start
        of "negoti", the stem of "negotiations"). A prefix found in no word, or in more than
        EXPAND_MAX_WORDS, stays a prefix.
        """
        select = f"SELECT term AS word FROM {FTS_TERMS} WHERE term >= %s AND term <= %s"
        found = _words_starting(self.conn, terms, select)
        return _expanded(terms, found)

    @staticmethod
    def find_sql() -> str:
        """
        One statement; per kind, FTS5 reads only that kind's range of rowids:
        - the count, stopping at %(over)s (count_limit + 1) rows, without scoring them;
        - up to that many matches, the best %(limit)s: those that hold the words as asked
          (FTS_EXACT, the same range) first, then by bm25 (lower is better; titles, that is
          event titles and speakers, weigh double);
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
            exact = (
                f"(SELECT rowid FROM {FTS_EXACT} WHERE {FTS_EXACT} MATCH %(exact)s AND rowid BETWEEN {low} AND {high})"
            )
            parts.append(
                f"SELECT * FROM (SELECT '{kind}' AS kind, rowid - {low} AS id, "
                f"CASE WHEN rowid IN {exact} THEN 0 ELSE 1 END AS tier, "
                f"bm25({FTS_TABLE}, 0, 2.0, 1.0, 1.0) AS position FROM {FTS_TABLE} WHERE {where} "
                f"ORDER BY tier, position, rowid LIMIT (CASE WHEN {n} < %(over)s THEN %(limit)s ELSE 0 END))"
            )
            parts.append(
                f"SELECT * FROM (SELECT '{kind}' AS kind, rowid - {low} AS id, 0 AS tier, -rowid AS position "
                f"FROM {FTS_TABLE} WHERE {where} ORDER BY rowid DESC "
                f"LIMIT (CASE WHEN {n} < %(over)s THEN 0 ELSE %(limit)s END))"
            )
        return (
            f"WITH counts AS MATERIALIZED ({' UNION ALL '.join(counts)}) "
            f"SELECT hits.kind, hits.id, counts.n FROM ({' UNION ALL '.join(parts)}) AS hits "
            "JOIN counts ON counts.kind = hits.kind ORDER BY hits.kind, hits.tier, hits.position, hits.id"
        )

    def find(self, terms, *, plan_id, limit, count_limit):
        params = {
            "match": self.match(terms, plan_id),
            "exact": self.match(terms),
            "limit": limit,
            "over": count_limit + 1,
        }
        with self.conn.cursor() as cursor:
            cursor.execute(self.find_sql(), params)
            return cursor.fetchall()

    def any_sql(self, terms: list[Term], plan_id: int | None) -> tuple[str, list]:
        """An expression: 1 if the terms find anything (in the plan), else 0; FTS5 stops at the first row."""
        return f"(SELECT count(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT 1))", [
            self.match(terms, plan_id)
        ]

    def refresh(self, kind: str, where: str, params: list) -> None:
        """Rewrite, from the tables, the index rows of the objects of one kind that `where` selects."""
        _, tables, visible, plan_column = _SOURCES[kind]
        with self.conn.cursor() as cursor:
            for table in (FTS_TABLE, FTS_EXACT):
                cursor.execute(
                    f"DELETE FROM {table} WHERE rowid IN (SELECT {_rowid(kind)} FROM {tables} WHERE {where})", params
                )
            selected = f"FROM {tables} WHERE ({where}) AND {visible}"
            cursor.execute(
                f"INSERT INTO {FTS_TABLE} (rowid, plan, title, body, quote) "
                f"SELECT {_rowid(kind)}, {plan_column}, {_SQLITE_COLUMNS[kind]} {selected}",
                params,
            )
            cursor.execute(
                f"INSERT INTO {FTS_EXACT} (rowid, title, body, quote) SELECT {_rowid(kind)}, {_SQLITE_COLUMNS[kind]} "
                f"{selected}",
                params,
            )
        words.add(self, _texts_sql(kind, where), params)

    def remove(self, kind: str, pk: int) -> None:
        with self.conn.cursor() as cursor:
            for table in (FTS_TABLE, FTS_EXACT):
                cursor.execute(f"DELETE FROM {table} WHERE rowid = %s", [KINDS.index(kind) * ROWID_SPAN + pk])

    def reindex(self, plan_id: int | None) -> int:
        with self.conn.cursor() as cursor:
            if plan_id is None:
                cursor.execute(f"DELETE FROM {FTS_TABLE}")
                cursor.execute(f"DELETE FROM {FTS_EXACT}")
            else:  # also drops rows of objects deleted without a signal (QuerySet.delete on raw SQL)
                in_plan = f"(SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)"
                cursor.execute(f"DELETE FROM {FTS_EXACT} WHERE rowid IN {in_plan}", [f'plan : "{int(plan_id)}"'])
                cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN {in_plan}", [f'plan : "{int(plan_id)}"'])
        if plan_id is None:
            words.clear(self)
        for kind in KINDS:
            if plan_id is None:
                self.refresh(kind, "TRUE", [])
            else:
                self.refresh(kind, f"{_SOURCES[kind][3]} = %s", [plan_id])
        with self.conn.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {FTS_TABLE}")
            return cursor.fetchone()[0]


def _expanded(terms: list[Term], found: dict[str, list[str]]) -> list[Term]:
    """The terms with each prefix phrase replaced by its words in `found`, unless there are none or too many."""

    def phrases(p: Phrase) -> tuple[Phrase, ...]:
        words_ = found.get(p.words[-1]) if p.prefix else None
        if not words_ or len(words_) > EXPAND_MAX_WORDS:
            return (p,)
        return tuple(Phrase((*p.words[:-1], word)) for word in words_)

    return [tuple(dict.fromkeys(e for p in term for e in phrases(p))) for term in terms]


class _PostgresBackend:
    vendor = "postgresql"
    stemmer = "english"  # Snowball's, as PG_CONFIG

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
        - up to count_limit, the best %(limit)s of them: those whose words as written match
          (the document in PG_EXACT, computed for these rows only) first, then by ts_rank;
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
        exact = f"(SELECT to_tsquery('{PG_EXACT}', %(query)s))"
        found, counts, parts = [], [], []
        for kind in KINDS:
            pk = _SOURCES[kind][0]
            alias = pk.split(".")[0]
            table, visible, plan_filter = _PG_SOURCES[kind]
            vector = _PG_VECTORS[kind].format(config=PG_CONFIG)
            exact_vector = _PG_VECTORS[kind].format(config=PG_EXACT)
            columns = ", ".join(f"{alias}.{column}" for column in _PG_COLUMNS[kind])
            where = f"{vector} @@ {query} AND {visible}" + (f" AND {plan_filter}" if in_plan else "")
            found.append(
                f"found_{kind} AS MATERIALIZED (SELECT {pk}, {columns} FROM {table} WHERE {where} LIMIT %(over)s)"
            )
            counts.append(f"SELECT '{kind}' AS kind, (SELECT count(*) FROM found_{kind}) AS n")
            n = f"(SELECT n FROM counts WHERE kind = '{kind}')"
            # The kept rows take the table's alias, so that the document is written as in the index.
            parts.append(
                f"(SELECT '{kind}' AS kind, {pk} AS id, CASE WHEN {exact_vector} @@ {exact} THEN 0 ELSE 1 END AS tier, "
                f"-ts_rank({vector}, {query})::float8 AS position "
                f"FROM found_{kind} AS {alias} WHERE {n} < %(over)s ORDER BY tier, position, {pk} LIMIT %(limit)s)"
            )
            parts.append(
                f"(SELECT '{kind}' AS kind, {pk} AS id, 0 AS tier, -{pk}::float8 AS position "
                f"FROM found_{kind} AS {alias} WHERE {n} >= %(over)s ORDER BY {pk} DESC LIMIT %(limit)s)"
            )
        return (
            f"WITH {', '.join(found)}, counts AS ({' UNION ALL '.join(counts)}) "
            f"SELECT hits.kind, hits.id, counts.n FROM ({' UNION ALL '.join(parts)}) AS hits "
            "JOIN counts ON counts.kind = hits.kind ORDER BY hits.kind, hits.tier, hits.position, hits.id"
        )

    def expand(self, terms: list[Term]) -> list[Term]:
        """
        Each prefix of 4 characters or more replaced by the words it starts (words.TABLE, as
        PostgreSQL's parser reads them; in one query), as on SQLite: a stemmed prefix misses
        words whose stem is shorter than it ("negotiat" is not the start of "negoti", the stem of
        "negotiations"). A word of the table no public text holds any more finds nothing.
        """
        found = _words_starting(
            self.conn, terms, f"SELECT word FROM {words.TABLE} WHERE word >= %s AND word <= %s ORDER BY word"
        )
        return _expanded(terms, found)

    def find(self, terms, *, plan_id, limit, count_limit):
        with self.conn.cursor() as cursor:
            cursor.execute(
                self.find_sql(in_plan=plan_id is not None),
                {"query": self.tsquery(terms), "plan": plan_id, "limit": limit, "over": count_limit + 1},
            )
            return cursor.fetchall()

    def any_sql(self, terms: list[Term], plan_id: int | None) -> tuple[str, list]:
        """An expression: whether the terms find anything (in the plan), kind by kind on the GIN indexes."""
        exists: list[str] = []
        params: list[str | int] = []
        for kind in KINDS:
            table, visible, plan_filter = _PG_SOURCES[kind]
            vector = _PG_VECTORS[kind].format(config=PG_CONFIG)
            condition = f"{vector} @@ to_tsquery('{PG_CONFIG}', %s) AND {visible}"
            params.append(self.tsquery(terms))
            if plan_id is not None:
                condition += " AND " + plan_filter.replace("%(plan)s", "%s")
                params.append(plan_id)
            exists.append(f"EXISTS (SELECT 1 FROM {table} WHERE {condition})")
        return f"({' OR '.join(exists)})::int", params

    def refresh(self, kind, where, params) -> None:
        """The tables are the index: only the words of the visible objects are added (for "Did you mean")."""
        words.add(self, _texts_sql(kind, where), params)

    def remove(self, kind, pk) -> None:
        """Nothing to do: PostgreSQL searches the tables themselves (a word left behind is checked before use)."""

    def reindex(self, plan_id) -> int:
        """The words of the plan's public texts, or all of them afresh; the tables need nothing."""
        if plan_id is None:
            words.clear(self)
        for kind in KINDS:
            if plan_id is None:
                self.refresh(kind, "TRUE", [])
            else:
                self.refresh(kind, f"{_SOURCES[kind][3]} = %s", [plan_id])
        return 0
