"""
An index on stances by plan, party and point: the party page reads one party's stances in one
plan, and without it SQLite may pick the party's index and walk that party's stances in every
plan of the archive (12 ms on the generated archive, for six rows).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("peaceplans", "0006_data_version"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="stance",
            index=models.Index(fields=["plan", "party", "point"], name="stance_plan_party_point"),
        ),
    ]
