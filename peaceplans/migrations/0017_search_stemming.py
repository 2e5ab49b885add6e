"""
Search that understands words (issue 20): English stemming on both databases, the clauses'
change and wording notes as a kind of their own, and the words of the public texts for
"Did you mean".

SQLite
- `peaceplans_search` is rebuilt with the Porter stemmer over unicode61 (accents removed):
  "guarantees", "guaranteeing" and "guarantee" are one word there. Same columns and row ids
  (rowid = kind * 10^12 + object id); the kinds are clause 0, stance 1, note 2, event 3 and
  now change 4 (a clause's change note and wording note).
- `peaceplans_search_exact` holds the same rows unstemmed. A search matches on the stemmed
  table and ranks the rows that also match the words exactly as typed first; its vocabulary
  (`peaceplans_search_terms`, fts5vocab) now lists the words as written, for the prefixes
  a search expands.
- `peaceplans_search_word`: each distinct word of the public texts (lower case, as written, three
  characters or more, not only digits), with an FTS5 trigram index over it
  (`peaceplans_search_word_trigrams`, filled by a trigger) to find the words closest to a
  misspelt one.

PostgreSQL
- The text search configuration `peaceplans_english`: `peaceplans_search` (simple, without
  whole hyphenated compounds) with English Snowball stemming for words and their hyphenated
  parts, and no stop words (so that "not" or "no" are still searched, and phrases count words as
  SQLite does). Cyrillic words pass through the English stemmer unchanged. The GIN expression
  indexes are rebuilt on it under their old names, and one more covers the clauses' notes.
- `pg_trgm` (a trusted extension since PostgreSQL 13: the database owner may create it) and
  `peaceplans_search_word` with a GiST trigram index, for "Did you mean". Going back leaves the
  extension installed (other schemas may use it); everything else is undone.

The words table is filled here from the public texts as they are now; search/signals.py and the
bulk services keep it in step from then on.
"""

# ruff: noqa: S608 -- the SQL below is built from this module's constants only.

import re

from django.db import migrations

SPAN = 10**12
STEMMED = "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3'"
EXACT = "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'"
OLD = EXACT  # 0008's table, unstemmed

# The public rows of each kind as of this migration: (rowid offset, plan, title, body, quote, FROM ... WHERE ...).
UNPUBLISHED_POINTS = (
    "SELECT c.point_id FROM peaceplans_clause c WHERE c.revision_id IN "
    "(SELECT id FROM peaceplans_revision WHERE NOT public) AND NOT EXISTS (SELECT 1 FROM peaceplans_clause o "
    "WHERE o.point_id = c.point_id AND o.revision_id NOT IN (SELECT id FROM peaceplans_revision WHERE NOT public))"
)
ROWS = [
    (
        0,
        "r.plan_id, '', c.text, ''",
        "peaceplans_clause c JOIN peaceplans_revision r ON r.id = c.revision_id WHERE NOT c.dropped AND r.public",
    ),
    (
        1,
        "s.plan_id, s.speaker, s.summary, s.quote",
        "peaceplans_stance s LEFT JOIN peaceplans_revision r ON r.id = s.revision_id "
        f"WHERE (s.revision_id IS NULL OR r.public) AND (s.point_id IS NULL OR s.point_id NOT IN ({UNPUBLISHED_POINTS}))",
    ),
    (
        2,
        "p.plan_id, '', a.body, ''",
        "peaceplans_annotation a JOIN peaceplans_point p ON p.id = a.point_id "
        f"WHERE a.status = 'published' AND a.point_id NOT IN ({UNPUBLISHED_POINTS})",
    ),
    (3, "e.plan_id, e.title, e.summary, ''", "peaceplans_event e WHERE TRUE"),
    (
        4,
        "r.plan_id, '', c.change_note, c.wording_note",
        "peaceplans_clause c JOIN peaceplans_revision r ON r.id = c.revision_id "
        "WHERE r.public AND (c.change_note <> '' OR c.wording_note <> '')",
    ),
]
ID_COLUMN = {0: "c.id", 1: "s.id", 2: "a.id", 3: "e.id", 4: "c.id"}


def _fill(table: str, with_plan: bool) -> list[str]:
    columns = "rowid, plan, title, body, quote" if with_plan else "rowid, title, body, quote"
    statements = []
    for kind, values, source in ROWS:
        values = values if with_plan else values.split(", ", 1)[1]
        statements.append(
            f"INSERT INTO {table} ({columns}) SELECT {kind * SPAN} + {ID_COLUMN[kind]}, {values} FROM {source}"
        )
    return statements


SQLITE_FORWARD = [
    "DROP TABLE IF EXISTS peaceplans_search_terms",
    "DROP TABLE IF EXISTS peaceplans_search",
    f"CREATE VIRTUAL TABLE peaceplans_search USING fts5(plan, title, body, quote, {STEMMED})",
    f"CREATE VIRTUAL TABLE peaceplans_search_exact USING fts5(title, body, quote, {EXACT})",
    "CREATE VIRTUAL TABLE peaceplans_search_terms USING fts5vocab(peaceplans_search_exact, 'row')",
    "CREATE TABLE peaceplans_search_word (id INTEGER PRIMARY KEY, word TEXT NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE peaceplans_search_word_trigrams USING fts5("
    "word, tokenize = 'trigram', content = 'peaceplans_search_word', content_rowid = 'id')",
    "CREATE TRIGGER peaceplans_search_word_added AFTER INSERT ON peaceplans_search_word BEGIN "
    "INSERT INTO peaceplans_search_word_trigrams (rowid, word) VALUES (new.id, new.word); END",
    "CREATE TRIGGER peaceplans_search_word_removed AFTER DELETE ON peaceplans_search_word BEGIN "
    "INSERT INTO peaceplans_search_word_trigrams (peaceplans_search_word_trigrams, rowid, word) "
    "VALUES ('delete', old.id, old.word); END",
    *_fill("peaceplans_search", with_plan=True),
    *_fill("peaceplans_search_exact", with_plan=False),
]
# Back to 0008's layout: one unstemmed table of the four kinds, its vocabulary.
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS peaceplans_search_word_added",
    "DROP TRIGGER IF EXISTS peaceplans_search_word_removed",
    "DROP TABLE IF EXISTS peaceplans_search_word_trigrams",
    "DROP TABLE IF EXISTS peaceplans_search_word",
    "DROP TABLE IF EXISTS peaceplans_search_terms",
    "DROP TABLE IF EXISTS peaceplans_search_exact",
    "DROP TABLE IF EXISTS peaceplans_search",
    f"CREATE VIRTUAL TABLE peaceplans_search USING fts5(plan, title, body, quote, {OLD})",
    "CREATE VIRTUAL TABLE peaceplans_search_terms USING fts5vocab(peaceplans_search, 'row')",
    *[s for s in _fill("peaceplans_search", with_plan=True) if f"{4 * SPAN} +" not in s],
]

STEM = "'peaceplans_english'::regconfig"
SIMPLE = "'peaceplans_search'::regconfig"


def _indexes(config: str) -> list[str]:
    return [
        f"CREATE INDEX peaceplans_clause_search ON peaceplans_clause USING gin (to_tsvector({config}, text))",
        "CREATE INDEX peaceplans_stance_search ON peaceplans_stance USING gin ("
        f"(to_tsvector({config}, summary) || to_tsvector({config}, quote) || to_tsvector({config}, speaker)))",
        f"CREATE INDEX peaceplans_annotation_search ON peaceplans_annotation USING gin (to_tsvector({config}, body))",
        "CREATE INDEX peaceplans_event_search ON peaceplans_event USING gin ("
        f"(setweight(to_tsvector({config}, title), 'A') || to_tsvector({config}, summary)))",
    ]


DROP_INDEXES = [
    f"DROP INDEX IF EXISTS peaceplans_{name}_search" for name in ("clause", "stance", "annotation", "event")
]
POSTGRES_FORWARD = [
    "CREATE TEXT SEARCH DICTIONARY peaceplans_english_stem (TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION peaceplans_english (COPY = peaceplans_search)",
    "ALTER TEXT SEARCH CONFIGURATION peaceplans_english "
    "ALTER MAPPING FOR asciiword, word, hword_asciipart, hword_part WITH peaceplans_english_stem",
    *DROP_INDEXES,
    *_indexes(STEM),
    "CREATE INDEX peaceplans_change_search ON peaceplans_clause USING gin ("
    f"(to_tsvector({STEM}, change_note) || to_tsvector({STEM}, wording_note)))",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE TABLE peaceplans_search_word (word text COLLATE "C" PRIMARY KEY)',
    "CREATE INDEX peaceplans_search_word_trigrams ON peaceplans_search_word USING gist (word gist_trgm_ops)",
]
POSTGRES_BACKWARD = [
    "DROP TABLE IF EXISTS peaceplans_search_word",
    "DROP INDEX IF EXISTS peaceplans_change_search",
    *DROP_INDEXES,
    *_indexes(SIMPLE),
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS peaceplans_english",
    "DROP TEXT SEARCH DICTIONARY IF EXISTS peaceplans_english_stem",
]

# The words as search/words.py reads them (frozen here): on SQLite letters and digits, lower case,
# 3 to 40 characters, not only digits; on PostgreSQL as its parser reads them, likewise.
TOKEN = re.compile(r"[^\W_]+")


def _words(texts) -> set[str]:
    found = set()
    for text in texts:
        for token in TOKEN.findall((text or "").lower()):
            if 3 <= len(token) <= 40 and not token.isdigit():
                found.add(token)
    return found


def _fill_words(schema_editor) -> None:
    words: set[str] = set()
    with schema_editor.connection.cursor() as cursor:
        for _, values, source in ROWS:
            select = f"SELECT {values.split(', ', 1)[1].replace(', ', " || ' ' || ")} AS text FROM {source}"
            if schema_editor.connection.vendor == "postgresql":  # as PostgreSQL's parser reads them
                cursor.execute(
                    "INSERT INTO peaceplans_search_word (word) SELECT DISTINCT w FROM (SELECT unnest(tsvector_to_array("
                    f"to_tsvector('peaceplans_search', t.text))) AS w FROM ({select}) AS t) AS found "
                    "WHERE length(w) BETWEEN 3 AND 40 AND w !~ '^[-0-9.,]+$' ON CONFLICT DO NOTHING"
                )
                continue
            cursor.execute(select)
            for row in cursor.fetchall():
                words |= _words(row)
        cursor.executemany(
            "INSERT OR IGNORE INTO peaceplans_search_word (word) VALUES (%s)", [[w] for w in sorted(words)]
        )


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(vendor)
    if statements is None:
        return
    for sql in statements:
        schema_editor.execute(sql)
    _fill_words(schema_editor)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("peaceplans", "0016_aliases"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
