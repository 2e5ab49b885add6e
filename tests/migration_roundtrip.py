"""
Migrate a loaded database down to zero and back up, and report what was found, as JSON on stdout.

Run by tests/test_migrations.py in a process of its own, on a database of its own (DATABASE_URL:
a temporary SQLite file, or a PostgreSQL database made for the run), so that the test session's
database, with the demo data every other test reads, is never touched.

    DATABASE_URL=sqlite:////tmp/x.sqlite3 DJANGO_SECRET_KEY=x python tests/migration_roundtrip.py
"""

import io
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peaceplans.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from peaceplans.models import Clause, Stance  # noqa: E402

PAGES = override_settings(
    STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
    WHITENOISE_USE_FINDERS=True,
)


def tables() -> list[str]:
    return sorted(connection.introspection.table_names(include_views=True))


def editor_permissions() -> list[str]:
    group = Group.objects.filter(name="Editors").first()
    return sorted(group.permissions.values_list("codename", flat=True)) if group else []


def search_objects() -> list[str]:
    """The search's own objects: FTS5 tables (SQLite); the text search configuration and GIN indexes (PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'peaceplans_search%%' AND type = 'table'")
        else:
            cursor.execute(
                "SELECT cfgname FROM pg_ts_config WHERE cfgname = 'peaceplans_search' "
                "UNION SELECT indexname FROM pg_indexes WHERE indexname LIKE 'peaceplans_%%_search'"
            )
        return sorted(row[0] for row in cursor.fetchall())


def page(path: str) -> dict:
    with PAGES:
        response = Client().get(path, HTTP_HOST="localhost")
    return {"status": response.status_code, "html": response.content.decode()}


def main() -> dict:
    report, clock = {"vendor": connection.vendor}, time.monotonic()
    call_command("migrate", "--noinput", verbosity=0)
    call_command("load_demo", verbosity=0, stdout=io.StringIO())
    editor = User.objects.create_user("roundtrip-editor", password="a-long-test-password-7", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    stance = Stance.objects.order_by("pk").first()
    stance._history_user = editor
    stance.summary += " Edited before the round trip."
    stance.save()
    clause = Clause.objects.filter(dropped=False).order_by("pk").first()
    clause.text += " Edited."
    clause.save()
    report["before"] = {
        "tables": tables(),
        "editor_permissions": editor_permissions(),
        "search_objects": search_objects(),
        "history_rows": stance.history.count() + clause.history.count(),
        "edited_by_editor": stance.history.filter(history_user=editor).count(),
    }
    report["seconds_loading"] = round(time.monotonic() - clock, 1)

    clock = time.monotonic()
    call_command("migrate", "peaceplans", "zero", "--noinput", verbosity=0)
    report["at_zero"] = {
        "tables": tables(),
        "editors_group": Group.objects.filter(name="Editors").exists(),
        "editor_account": User.objects.filter(username="roundtrip-editor").exists(),
    }
    report["seconds_down"] = round(time.monotonic() - clock, 1)

    clock = time.monotonic()
    call_command("migrate", "--noinput", verbosity=0)
    report["seconds_up"] = round(time.monotonic() - clock, 1)
    report["after"] = {
        "tables": tables(),
        "editor_permissions": editor_permissions(),
        "search_objects": search_objects(),
        "editor_account": User.objects.filter(username="roundtrip-editor").exists(),
    }

    clock = time.monotonic()
    call_command("load_demo", verbosity=0, stdout=io.StringIO())
    report["demo_page"] = page("/")
    report["search_page"] = page("/search/?q=NATO")
    report["seconds_reload_and_render"] = round(time.monotonic() - clock, 1)
    return report


if __name__ == "__main__":
    print(json.dumps(main()))
