"""
Unpublished revisions (issue 7, "Drafts never leak"): a revision an editor is still entering
or checking is shown nowhere public until it is published. Existing revisions stay public.
Editors add revisions but do not change their record (migration 0002); publishing and
unpublishing is a permission of its own, which the Editors group gets here.
"""

from django.db import migrations, models

HELP = (
    "Untick while the text is being entered or checked: an unpublished revision, its wording "
    "and the stances on it appear nowhere on the public site, feeds, API, exports or search. "
    "Tick it to publish."
)
PUBLISH = "publish_revision"


def grant_publish(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; this one needs its own now (as 0002 does).
    app_config = apps.get_app_config("peaceplans")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="peaceplans", codename=PUBLISH)
    for group in Group.objects.filter(name="Editors"):
        group.permissions.add(permission)


def revoke_publish(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="peaceplans", codename=PUBLISH).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("peaceplans", "0008_search_index_by_kind"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalrevision",
            name="public",
            field=models.BooleanField(default=True, help_text=HELP, verbose_name="published"),
        ),
        migrations.AddField(
            model_name="revision",
            name="public",
            field=models.BooleanField(default=True, help_text=HELP, verbose_name="published"),
        ),
        migrations.AlterModelOptions(
            name="revision",
            options={
                "ordering": ["published_on", "pk"],
                "permissions": [("publish_revision", "Can publish or unpublish a revision")],
            },
        ),
        migrations.RunPython(grant_publish, revoke_publish),
    ]
