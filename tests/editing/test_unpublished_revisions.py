"""
Unpublished revisions, the editors' side: a revision added in the admin or pasted starts
unpublished, `import_revision --unpublished` imports one so, and an editor publishes and
unpublishes with the revision list's actions (their own permission, migration 0009). What the
public sees of an unpublished revision (nothing) is tests/web/test_unpublished.py.
"""

import datetime
import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse

from peaceplans.editing.services import revision_create_from_paste
from peaceplans.models import Revision

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
CHANGELIST = reverse("admin:peaceplans_revision_changelist")
PASSWORD = "a-long-test-password-1"


def editor() -> User:
    user = User.objects.create_user("newsdesk", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def new_revision(plan, slug: str, *, public: bool) -> Revision:
    revision = Revision.objects.create(
        plan=plan,
        slug=slug,
        title=f"Title of {slug}",
        published_on=datetime.date(2026, 1, 9),
        status=Revision.Status.LEAKED_DRAFT,
        public=public,
    )
    return revision


def shown_on_overview(client, revision) -> bool:
    return f"Title of {revision.slug}".encode() in client.get(reverse("plan_detail", args=[PLAN])).content


# The admin


@pytest.mark.parametrize("who", ["editor", "superuser"])
def test_a_revision_added_in_the_admin_starts_unpublished(client, who):
    user = editor() if who == "editor" else User.objects.create_superuser("chief", password=PASSWORD)
    client.force_login(user)
    page = client.get(reverse("admin:peaceplans_revision_add")).content.decode()
    checkbox = next(tag for tag in page.split("<input")[1:] if 'name="public"' in tag)
    assert 'type="checkbox"' in checkbox and "checked" not in checkbox.split(">")[0]
    assert "appear nowhere on the public site" in page  # the help text says what the box does
    if who == "superuser":  # an existing revision's form shows it as it is (editors see it read-only)
        existing = Revision.objects.get(plan__slug=PLAN, slug="us-28-point-draft")
        page = client.get(reverse("admin:peaceplans_revision_change", args=[existing.pk])).content.decode()
        checkbox = next(tag for tag in page.split("<input")[1:] if 'name="public"' in tag)
        assert "checked" in checkbox.split(">")[0]


def test_the_list_shows_and_filters_by_publication(client, plan):
    client.force_login(editor())
    hidden = new_revision(plan, "still-being-checked", public=False)
    page = client.get(CHANGELIST).content.decode()
    assert "column-public" in page and "?public__exact=0" in page
    unpublished = client.get(CHANGELIST + "?public__exact=0").content.decode()
    assert hidden.title in unpublished and "Draft of the 28-point plan" not in unpublished


def test_an_editor_publishes_and_unpublishes_with_the_list_actions(client, plan, settings):
    settings.PAGE_CACHE_SECONDS = 60  # the page cache is on: a publication must reach the next request anyway
    revision = new_revision(plan, "checked-text", public=False)
    other = new_revision(plan, "other-text", public=False)
    assert not shown_on_overview(client, revision)
    client.force_login(editor())
    page = client.get(CHANGELIST).content.decode()
    assert 'value="publish_selected"' in page and 'value="unpublish_selected"' in page
    data = {"action": "publish_selected", "_selected_action": [revision.pk], "index": "0"}
    response = client.post(CHANGELIST, data, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Published 1 revision."]
    revision.refresh_from_db(), other.refresh_from_db()
    assert revision.public and not other.public
    record = revision.history.first()
    assert record.public and record.history_user.username == "newsdesk"
    client.logout()
    assert shown_on_overview(client, revision)
    assert client.get(revision.get_absolute_url()).status_code == 200

    client.force_login(User.objects.get(username="newsdesk"))
    data = {"action": "unpublish_selected", "_selected_action": [revision.pk, other.pk], "index": "0"}
    response = client.post(CHANGELIST, data, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Unpublished 1 revision: readers no longer see them."]
    client.logout()
    assert not shown_on_overview(client, revision)
    assert client.get(revision.get_absolute_url()).status_code == 404


def test_staff_without_the_publish_permission_cannot_publish(client, plan):
    revision = new_revision(plan, "not-yours", public=False)
    user = User.objects.create_user("viewer", password=PASSWORD, is_staff=True)
    user.user_permissions.add(*Group.objects.get(name="Editors").permissions.exclude(codename="publish_revision"))
    client.force_login(user)
    assert 'value="publish_selected"' not in client.get(CHANGELIST).content.decode()
    data = {"action": "publish_selected", "_selected_action": [revision.pk], "index": "0"}
    assert client.post(CHANGELIST, data).status_code == 403
    revision.refresh_from_db()
    assert not revision.public


# Imports


def revision_file(tmp_path, slug: str, text: str = "The army is capped at 600,000.") -> str:
    data = {
        "slug": slug,
        "title": f"Title of {slug}",
        "author": "us",
        "published_on": "2026-01-09",
        "status": "leaked-draft",
        "points": [{"number": "1", "topic": "military-limits", "derived_from": "6", "text": text}],
    }
    path = tmp_path / f"{slug}.json"
    path.write_text(json.dumps(data))
    return str(path)


def import_revision(path: str, *flags: str) -> str:
    out = StringIO()
    call_command("import_revision", path, *flags, plan=PLAN, stdout=out)
    return out.getvalue()


def test_import_revision_unpublished(tmp_path, client, plan):
    out = import_revision(revision_file(tmp_path, "imported-quietly"), "--unpublished")
    revision = Revision.objects.get(plan=plan, slug="imported-quietly")
    assert not revision.public and "unpublished: publish it in the admin" in out
    assert not shown_on_overview(client, revision)
    # Re-importing without the flag does not publish what an editor has not.
    import_revision(revision_file(tmp_path, "imported-quietly", "The army is capped at 700,000."))
    revision.refresh_from_db()
    assert not revision.public and revision.clauses.get().text == "The army is capped at 700,000."


def test_import_revision_without_the_flag_publishes_a_new_revision(tmp_path, client, plan):
    out = import_revision(revision_file(tmp_path, "imported-openly"))
    revision = Revision.objects.get(plan=plan, slug="imported-openly")
    assert revision.public and "unpublished" not in out
    assert shown_on_overview(client, revision)
    import_revision(revision_file(tmp_path, "imported-openly"), "--unpublished")  # and the flag takes it back
    revision.refresh_from_db()
    assert not revision.public and not shown_on_overview(client, revision)


def test_a_pasted_draft_starts_unpublished(client, plan):
    data = {
        "slug": "pasted-quietly",
        "title": "Title of pasted-quietly",
        "author": "us",
        "published_on": "2026-01-09",
        "status": "leaked-draft",
        "points": [{"number": "1", "topic": "military-limits", "derived_from": "6", "text": "Half entered."}],
    }
    revision = revision_create_from_paste(data=data, plan_slug=PLAN).revision
    assert not revision.public and not shown_on_overview(client, revision)
    assert client.get(revision.get_absolute_url()).status_code == 404


def test_the_demo_data_and_a_revision_made_in_code_are_public(plan):
    assert not plan.revisions.filter(public=False).exists()
    assert new_revision(plan, "made-in-code", public=True).public
    assert Revision._meta.get_field("public").default is True
