"""The Editors group: editors keep the content current; they cannot delete texts or manage users."""

from django.db import migrations

EDITABLE = ["clause", "stance", "source", "event", "annotation", "point"]
VIEW_ONLY = ["plan", "party", "topic", "revision"]


def editor_codenames() -> list[str]:
    names = [f"{action}_{model}" for model in EDITABLE for action in ("view", "add", "change")]
    names += [f"view_{model}" for model in VIEW_ONLY]
    names.append("add_revision")
    return names


def create_editors_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; this one needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Editors")
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="peaceplans", codename__in=editor_codenames())
    )


def remove_editors_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Editors").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("peaceplans", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_editors_group, remove_editors_group)]
