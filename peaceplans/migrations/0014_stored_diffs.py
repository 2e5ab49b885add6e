"""
Stored word diffs (issue 18, "Diffs stored once"): the table, and its rows for the texts already
there, computed by the same function that stores them when a text is saved (editing/diffs.py), so
a database that migrates has every diff its pages show. Going back drops the table, rows and all.
"""

from django.db import migrations, models


def store_every_diff(apps, schema_editor):
    from peaceplans.editing.diffs import diffs_store_all

    diffs_store_all(
        using=schema_editor.connection.alias,
        clause_model=apps.get_model("peaceplans", "Clause"),
        diff_model=apps.get_model("peaceplans", "StoredDiff"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("peaceplans", "0013_annotation_body_html"),
    ]

    operations = [
        migrations.CreateModel(
            name="StoredDiff",
            fields=[
                (
                    "key",
                    models.CharField(
                        help_text="The two texts' hashes, smaller first.",
                        max_length=64,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "version",
                    models.CharField(help_text="compare/memo.py's DIFF_VERSION when it was computed.", max_length=32),
                ),
                (
                    "change",
                    models.CharField(help_text="The verdict: changed, or cosmetic (same words).", max_length=10),
                ),
                ("similarity", models.FloatField()),
                (
                    "cosmetic",
                    models.CharField(blank=True, help_text="For a cosmetic change, what differs.", max_length=60),
                ),
                ("ops", models.TextField(help_text="The ops as kinds and lengths (compare/memo.py, encode).")),
            ],
            options={
                "default_permissions": (),
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("change__in", ("changed", "cosmetic"))), name="stored_diff_change_valid"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("similarity__gte", 0.0), ("similarity__lte", 1.0)),
                        name="stored_diff_similarity_range",
                    ),
                ],
            },
        ),
        migrations.RunPython(store_every_diff, migrations.RunPython.noop),
    ]
