"""
Notes rendered once (issue 18): each note's sanitized HTML is stored with the sanitizer version
that produced it, and the notes already written are rendered here. The rendering is today's
markup.stored_note_html; should the sanitizer change later, the stored version no longer matches
and services.refresh_note_html (run after every migrate) renders them again.
"""

from django.db import migrations, models


def render_notes(apps, schema_editor):
    from peaceplans.markup import stored_note_html

    Annotation = apps.get_model("peaceplans", "Annotation")
    notes = list(Annotation.objects.only("pk", "body"))
    for note in notes:
        note.body_html, note.body_html_version = stored_note_html(note.body)
    Annotation.objects.bulk_update(notes, ["body_html", "body_html_version"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("peaceplans", "0012_source_order_total"),
    ]

    operations = [
        migrations.AddField(
            model_name="annotation",
            name="body_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="annotation",
            name="body_html_version",
            field=models.CharField(blank=True, default="", editable=False, max_length=100),
        ),
        migrations.RunPython(render_notes, migrations.RunPython.noop, elidable=True),
    ]
