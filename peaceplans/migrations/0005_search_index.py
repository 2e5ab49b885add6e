"""
The full-text search index (peaceplans/search.py).

SQLite: an FTS5 table, one row per searchable object (rowid = object id * 4 + kind:
clause 0, stance 1, note 2, event 3), filled here from the tables; signals and the bulk
services keep it exact from then on.

PostgreSQL: no copy of the texts. Searches run on the tables themselves, which is always
exact and needs no upkeep; GIN indexes on the same expressions the queries use keep them
fast whatever the number of rows. The text search configuration is `simple` (lower case,
no stemming: the texts mix English, Ukrainian and Russian) without the whole-word tokens
PostgreSQL adds for hyphenated words, so that word positions, and with them phrases,
agree with SQLite's tokenizer.

Other databases get nothing: search.py supports these two.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE peaceplans_search USING fts5("
    "kind UNINDEXED, plan_id UNINDEXED, title, body, quote, "
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
    "INSERT INTO peaceplans_search (rowid, kind, plan_id, title, body, quote) "
    "SELECT c.id * 4 + 0, 'clause', r.plan_id, '', c.text, '' "
    "FROM peaceplans_clause c JOIN peaceplans_revision r ON r.id = c.revision_id WHERE NOT c.dropped",
    "INSERT INTO peaceplans_search (rowid, kind, plan_id, title, body, quote) "
    "SELECT s.id * 4 + 1, 'stance', s.plan_id, s.speaker, s.summary, s.quote FROM peaceplans_stance s",
    "INSERT INTO peaceplans_search (rowid, kind, plan_id, title, body, quote) "
    "SELECT a.id * 4 + 2, 'note', p.plan_id, '', a.body, '' "
    "FROM peaceplans_annotation a JOIN peaceplans_point p ON p.id = a.point_id WHERE a.status = 'published'",
    "INSERT INTO peaceplans_search (rowid, kind, plan_id, title, body, quote) "
    "SELECT e.id * 4 + 3, 'event', e.plan_id, e.title, e.summary, '' FROM peaceplans_event e",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS peaceplans_search"]

CONFIG = "'peaceplans_search'::regconfig"
POSTGRES_FORWARD = [
    "CREATE TEXT SEARCH CONFIGURATION peaceplans_search (COPY = pg_catalog.simple)",
    "ALTER TEXT SEARCH CONFIGURATION peaceplans_search DROP MAPPING FOR asciihword, hword, numhword",
    f"CREATE INDEX peaceplans_clause_search ON peaceplans_clause USING gin (to_tsvector({CONFIG}, text))",
    "CREATE INDEX peaceplans_stance_search ON peaceplans_stance USING gin ("
    f"(to_tsvector({CONFIG}, summary) || to_tsvector({CONFIG}, quote) || to_tsvector({CONFIG}, speaker)))",
    f"CREATE INDEX peaceplans_annotation_search ON peaceplans_annotation USING gin (to_tsvector({CONFIG}, body))",
    "CREATE INDEX peaceplans_event_search ON peaceplans_event USING gin ("
    f"(setweight(to_tsvector({CONFIG}, title), 'A') || to_tsvector({CONFIG}, summary)))",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS peaceplans_clause_search",
    "DROP INDEX IF EXISTS peaceplans_stance_search",
    "DROP INDEX IF EXISTS peaceplans_annotation_search",
    "DROP INDEX IF EXISTS peaceplans_event_search",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS peaceplans_search",
]


def run(statements_by_vendor):
    def operation(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("peaceplans", "0004_annotation_published_at"),
    ]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
    ]
