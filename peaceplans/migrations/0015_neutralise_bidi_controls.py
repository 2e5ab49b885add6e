"""
Bidi controls (issue 19): every text stored before markup's pre_save receiver existed is neutralised
as it would be on save (markup.neutralise_bidi: overrides dropped, and embeddings and isolates not closed
in their paragraph), history rows included, so that "RTL\u202egnp.exe" reads as typed on every page,
in the admin, the API, CSV and feeds. Text without a control is not touched; the characters dropped
cannot be told back, so the reverse does nothing.
"""

import functools
import operator

from django.db import migrations, models

CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def neutralise(apps, schema_editor):
    from peaceplans.markup import neutralise_bidi

    for model in apps.get_app_config("peaceplans").get_models():
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)]
        if not fields:
            continue
        holding = functools.reduce(operator.or_, (models.Q(**{f"{f}__contains": c}) for f in fields for c in CONTROLS))
        rows = model._base_manager.using(schema_editor.connection.alias).filter(holding)
        for row in rows.values("pk", *fields):
            changed = {f: neutralise_bidi(row[f]) for f in fields if isinstance(row[f], str)}
            changed = {f: value for f, value in changed.items() if value != row[f]}
            if changed:
                model._base_manager.using(schema_editor.connection.alias).filter(pk=row["pk"]).update(**changed)


class Migration(migrations.Migration):
    dependencies = [
        ("peaceplans", "0014_stored_diffs"),
    ]

    operations = [
        migrations.RunPython(neutralise, migrations.RunPython.noop, elidable=True),
    ]
