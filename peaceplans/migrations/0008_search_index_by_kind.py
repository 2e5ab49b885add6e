"""
The SQLite search index (peaceplans/search.py), laid out so that a search's cost does not
grow with the size of the archive.

- Each kind owns its own range of row ids: rowid = kind * 10^12 + object id (clause 0,
  stance 1, note 2, event 3). A search asks FTS5 for one kind at a time with a rowid range,
  which it answers from the index, stopping after as many rows as it needs; before, with
  rowid = id * 4 + kind, finding the notes meant walking every match of every kind.
- The plan is an indexed column (a number, such as "7"), so that a search within one plan
  is a MATCH on it too, instead of reading every matching row to look at its plan. The
  reader's words are restricted to the text columns, so that "7" never finds a plan.
- `peaceplans_search_terms` lists the words of the index (FTS5's fts5vocab), so that a
  search can name the few words that a typed prefix such as "ukrain" stands for: FTS5
  answers a prefix longer than its prefix indexes (2 and 3 characters) by merging, for
  every query that uses it, all the rows of all the words it covers.

PostgreSQL has no index table to change: nothing happens there.
"""

# ruff: noqa: S608 -- the SQL below is built from this module's constants only.

from django.db import migrations

SPAN = 10**12
COLUMNS = "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'"

FORWARD = [
    "DROP TABLE IF EXISTS peaceplans_search",
    "CREATE VIRTUAL TABLE peaceplans_search_terms USING fts5vocab(peaceplans_search, 'row')",
    f"CREATE VIRTUAL TABLE peaceplans_search USING fts5(plan, title, body, quote, {COLUMNS})",
    "INSERT INTO peaceplans_search (rowid, plan, title, body, quote) "
    f"SELECT {0 * SPAN} + c.id, r.plan_id, '', c.text, '' "
    "FROM peaceplans_clause c JOIN peaceplans_revision r ON r.id = c.revision_id WHERE NOT c.dropped",
    "INSERT INTO peaceplans_search (rowid, plan, title, body, quote) "
    f"SELECT {1 * SPAN} + s.id, s.plan_id, s.speaker, s.summary, s.quote FROM peaceplans_stance s",
    "INSERT INTO peaceplans_search (rowid, plan, title, body, quote) "
    f"SELECT {2 * SPAN} + a.id, p.plan_id, '', a.body, '' "
    "FROM peaceplans_annotation a JOIN peaceplans_point p ON p.id = a.point_id WHERE a.status = 'published'",
    "INSERT INTO peaceplans_search (rowid, plan, title, body, quote) "
    f"SELECT {3 * SPAN} + e.id, e.plan_id, e.title, e.summary, '' FROM peaceplans_event e",
]

# Back to the layout of 0005: rowid = id * 4 + kind, kind and plan not indexed.
BACKWARD = [
    "DROP TABLE IF EXISTS peaceplans_search_terms",
    "DROP TABLE IF EXISTS peaceplans_search",
    "CREATE VIRTUAL TABLE peaceplans_search USING fts5("
    f"kind UNINDEXED, plan_id UNINDEXED, title, body, quote, {COLUMNS})",
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


def run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("peaceplans", "0007_stance_plan_party_index"),
    ]

    operations = [
        migrations.RunPython(run(FORWARD), run(BACKWARD)),
    ]
