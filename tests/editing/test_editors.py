"""The editors' workshop: roles, the create_editor command, history and restore, no lost updates."""

import io
import re

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from peaceplans.models import Annotation, Clause, Plan, Point, Revision, Source, Stance

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple-42"
PLAN = "russia-ukraine-2025"


def make_editor(name="editor1"):
    user = User.objects.create_user(name, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def users():
    return {
        "anonymous": None,
        "staff": User.objects.create_user("staffonly", password=PASSWORD, is_staff=True),
        "editor": make_editor(),
        "superuser": User.objects.create_superuser("chief", password=PASSWORD),
    }


def login(client, user):
    if user is not None:
        client.force_login(user)
    return client


# Roles


def test_editors_group_has_exactly_the_editing_permissions():
    codenames = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    for model in ("clause", "stance", "source", "event", "annotation", "point"):
        assert {f"add_{model}", f"change_{model}"} <= codenames
        assert f"delete_{model}" not in codenames
    assert "add_revision" in codenames
    assert not codenames & {"delete_revision", "delete_plan", "change_plan", "add_user", "change_user", "change_group"}


# Each case: model, action, expected status for (anonymous, staff without group, editor, superuser).
# 302 = sent to the login page; 403 = refused.
MATRIX = [
    ("stance", "changelist", (302, 403, 200, 200)),
    ("stance", "add", (302, 403, 200, 200)),
    ("stance", "change", (302, 403, 200, 200)),
    ("stance", "delete", (302, 403, 403, 200)),
    ("clause", "change", (302, 403, 200, 200)),
    ("clause", "delete", (302, 403, 403, 200)),
    ("source", "add", (302, 403, 200, 200)),
    ("event", "change", (302, 403, 200, 200)),
    ("annotation", "add", (302, 403, 200, 200)),
    ("point", "change", (302, 403, 200, 200)),
    ("point", "delete", (302, 403, 403, 200)),
    ("revision", "add", (302, 403, 200, 200)),
    ("revision", "change", (302, 403, 200, 200)),  # the editor sees it read-only
    ("revision", "delete", (302, 403, 403, 200)),
    ("plan", "add", (302, 403, 403, 200)),
    ("plan", "delete", (302, 403, 403, 200)),
    ("party", "add", (302, 403, 403, 200)),
    ("topic", "delete", (302, 403, 403, 200)),
]
MODELS = {"stance": Stance, "clause": Clause, "source": Source, "point": Point, "revision": Revision, "plan": Plan}


def admin_url(model, action):
    if action in ("changelist", "add"):
        return reverse(f"admin:peaceplans_{model}_{action}")
    from django.apps import apps

    obj = apps.get_model("peaceplans", model).objects.first()
    return reverse(f"admin:peaceplans_{model}_{action}", args=[obj.pk])


@pytest.mark.parametrize("who", ["anonymous", "staff", "editor", "superuser"])
@pytest.mark.parametrize("model,action,expected", MATRIX, ids=[f"{m}-{a}" for m, a, _ in MATRIX])
def test_permission_matrix_get(client, users, who, model, action, expected):
    status = dict(zip(["anonymous", "staff", "editor", "superuser"], expected, strict=True))[who]
    response = login(client, users[who]).get(admin_url(model, action))
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("who,status", [("anonymous", 302), ("staff", 403), ("editor", 403), ("superuser", 200)])
def test_only_superusers_manage_accounts(client, users, who, status):
    assert login(client, users[who]).get("/admin/auth/user/").status_code == status
    assert login(client, users[who]).get("/admin/auth/group/").status_code == status


def test_editor_cannot_delete_a_revision_by_post(client, users):
    revision = Revision.objects.first()
    url = reverse("admin:peaceplans_revision_delete", args=[revision.pk])
    response = login(client, users["editor"]).post(url, {"post": "yes"})
    assert response.status_code == 403
    assert Revision.objects.filter(pk=revision.pk).exists()


def test_editor_cannot_change_a_revision_by_post(client, users):
    revision = Revision.objects.first()
    url = reverse("admin:peaceplans_revision_change", args=[revision.pk])
    response = login(client, users["editor"]).post(url, {"title": "Hijacked"})
    assert response.status_code == 403
    revision.refresh_from_db()
    assert revision.title != "Hijacked"


# create_editor


def test_create_editor_makes_a_staff_account_in_the_editors_group(monkeypatch):
    monkeypatch.setenv("EDITOR_PASSWORD", PASSWORD)
    out = io.StringIO()
    call_command("create_editor", "newsdesk", stdout=out)
    user = User.objects.get(username="newsdesk")
    assert user.is_staff and not user.is_superuser
    assert user.groups.filter(name="Editors").exists()
    assert user.check_password(PASSWORD)
    assert "created" in out.getvalue()


def test_create_editor_refuses_an_existing_name_and_changes_nothing(monkeypatch):
    monkeypatch.setenv("EDITOR_PASSWORD", PASSWORD)
    existing = User.objects.create_user("taken", password="old-password-for-tests-1")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_editor", "taken")
    existing.refresh_from_db()
    assert existing.check_password("old-password-for-tests-1") and not existing.is_staff


@pytest.mark.parametrize(
    "password",
    # too short; common; all digits; 11 characters; like the name; a common one capitalised
    ["short", "password123", "12345678901234", "eleven-char", "nightdesk-2026", "Password1234"],
)
def test_create_editor_refuses_weak_passwords(monkeypatch, password):
    monkeypatch.setenv("EDITOR_PASSWORD", password)
    with pytest.raises(CommandError, match="Password refused"):
        call_command("create_editor", "nightdesk")
    assert not User.objects.filter(username="nightdesk").exists()


def test_create_editor_takes_a_twelve_character_password(monkeypatch):
    monkeypatch.setenv("EDITOR_PASSWORD", "twelve-chars")
    call_command("create_editor", "nightdesk", stdout=io.StringIO())
    assert User.objects.get(username="nightdesk").check_password("twelve-chars")


def test_create_editor_without_terminal_or_env_says_what_to_do(monkeypatch):
    monkeypatch.delenv("EDITOR_PASSWORD", raising=False)
    monkeypatch.setattr("os.isatty", lambda fd: False)
    with pytest.raises(CommandError, match="EDITOR_PASSWORD"):
        call_command("create_editor", "nobody")


# No lost updates


def change_form_data(client, url):
    """The change form's current values, as the browser would post them back."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = [v.pk if hasattr(v, "pk") else v for v in value] if isinstance(value, list) else value
    for formset in client.get(url).context.get("inline_admin_formsets", []):
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
        for inline_form in formset.formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is not None:
                    data[inline_form.add_prefix(name)] = value
    return data


def test_second_save_from_a_stale_form_is_refused_showing_what_changed(client, users):
    stance = Stance.objects.filter(point__isnull=True).first()
    url = reverse("admin:peaceplans_stance_change", args=[stance.pk])
    first, second = client, type(client)()
    login(first, users["editor"])
    login(second, make_editor("editor2"))
    data_first, data_second = change_form_data(first, url), change_form_data(second, url)
    data_first["summary"] = "First editor's correction."
    assert first.post(url, data_first).status_code == 302
    data_second["summary"] = "Second editor's correction."
    response = second.post(url, data_second)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not saved, so that neither edit is lost." in page
    assert "editor1 saved this stance" in page and "First editor&#x27;s correction." in page
    assert "Second editor&#x27;s correction." in page  # the second editor's text is still in the form
    stance.refresh_from_db()
    assert stance.summary == "First editor's correction."


def test_a_fresh_form_saves_normally(client, users):
    stance = Stance.objects.first()
    url = reverse("admin:peaceplans_stance_change", args=[stance.pk])
    login(client, users["editor"])
    data = change_form_data(client, url)
    data["summary"] = "Updated once."
    assert client.post(url, data).status_code == 302
    data = change_form_data(client, url)
    data["summary"] = "Updated twice."
    assert client.post(url, data).status_code == 302
    stance.refresh_from_db()
    assert stance.summary == "Updated twice."


# History and restore


def test_history_shows_who_changed_what_word_by_word(client, users):
    stance = Stance.objects.filter(summary__contains="White House").first()
    url = reverse("admin:peaceplans_stance_change", args=[stance.pk])
    login(client, users["editor"])
    data = change_form_data(client, url)
    data["summary"] = stance.summary.replace("White House", "Oval Office", 1)
    assert client.post(url, data).status_code == 302
    page = client.get(reverse("admin:peaceplans_stance_history", args=[stance.pk])).content.decode()
    assert "editor1" in page
    assert re.search(r"<del>[^<]*White[^<]*</del>", page) and re.search(r"<ins>[^<]*Oval[^<]*</ins>", page)
    assert 'style="' not in page.split('id="change-history"')[1].split("</table>")[0]


def test_an_earlier_version_can_be_restored(client, users):
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", number="6")
    original = clause.text
    login(client, users["editor"])
    url = reverse("admin:peaceplans_clause_change", args=[clause.pk])
    data = change_form_data(client, url)
    data["text"] = "A mistaken edit."
    assert client.post(url, data).status_code == 302
    old_record = clause.history.filter(text=original).order_by("-history_id").first()
    revert_url = reverse("admin:peaceplans_clause_simple_history", args=[clause.pk, old_record.history_id])
    data = change_form_data(client, revert_url)
    assert data["text"] == original
    assert client.post(revert_url, data).status_code == 302
    clause.refresh_from_db()
    assert clause.text == original


def test_clause_form_previews_its_change_against_the_previous_revision(client, users):
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", number="6")
    page = login(client, users["editor"]).get(reverse("admin:peaceplans_clause_change", args=[clause.pk]))
    html = page.content.decode()
    assert "Against <strong>US 28-point peace plan" in html
    assert re.search(r"<del>[^<]*600,000[^<]*</del>", html) and re.search(r"<ins>[^<]*800,000[^<]*</ins>", html)


def test_stances_are_edited_inline_on_their_point(client, users):
    point = Point.objects.get(key="7", plan__slug=PLAN)
    page = (
        login(client, users["editor"]).get(reverse("admin:peaceplans_point_change", args=[point.pk])).content.decode()
    )
    assert 'id="stances-group"' in page
    assert page.count('name="stances-') > 10


# Public side


def test_point_page_shows_when_it_was_last_updated(client):
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", number="6")
    clause.text = clause.text + " Corrected."
    clause.save()
    html = client.get(f"/plans/{PLAN}/points/6/").content.decode()
    assert f'Last updated <time datetime="{clause.updated_at:%Y-%m-%dT%H:%M}Z"' in html


def test_change_log_lists_edits_without_names_or_draft_notes(client, users):
    stance = Stance.objects.filter(point__key="7", party__slug="russia").first()
    stance._history_user = users["editor"]
    stance.summary = "Edited for the log."
    stance.save()
    point = Point.objects.get(key="6", plan__slug=PLAN)
    Annotation.objects.create(point=point, body="Secret draft", status="draft", author=users["editor"])
    html = client.get(f"/plans/{PLAN}/changes/").content.decode()
    assert "Russia&#x27;s stance on point 7" in html
    assert f'href="/plans/{PLAN}/points/7/"' in html
    assert "editor1" not in html
    assert "note on point 6" not in html
