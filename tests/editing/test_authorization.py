"""
Item 5 of "Secure by default": the authorization matrix (tests/authz_matrix.py), cell by cell.

Every (role, admin object, action, method) is requested from the real admin with CSRF checks on.
A POST carries the form a superuser is served (what an attacker who knows the admin would send)
with a CSRF token from a page the role itself was served, so a refusal comes from the admin's
permission check, never from the CSRF check (a CSRF refusal is told apart and counts as a
mismatch). A POST is judged by the database: "allowed" means the change was made, a refusal
means no row changed. One test runs every cell and lists every mismatch.
"""

import datetime
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Model
from django.http import HttpResponseForbidden
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from peaceplans.models import Alias, Annotation, Clause, Event, Party, Plan, Point, Revision, Source, Stance, Topic
from tests import authz_matrix as matrix
from tests.authz_matrix import ALLOWED, HIDDEN, LOGIN, READ_ONLY, REFUSED, ROLES

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-authz-test-password-7"
NEW_PASSWORD = "another-long-authz-password-8"
PLAN = "russia-ukraine-2025"
MATRIX_DOC = Path(settings.BASE_DIR) / "docs" / "security.md"
CSRF_REFUSAL = "refused by the CSRF check"


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW during these tests: a CSRF refusal must not pass for a permission refusal."""
    return HttpResponseForbidden(CSRF_REFUSAL)


# Forms, read as a browser reads them


class FormReader(HTMLParser):
    """The fields a browser would submit from each <form> of a page: names and values, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self.fields: list[tuple[str, str]] | None = None
        self.select: tuple[str, list[str], list[str], bool] | None = None  # name, values, selected, multiple
        self.option: dict | None = None
        self.textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.fields = []
            self.forms.append((a.get("id") or "", self.fields))
        if self.fields is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value") or "on"))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self.select = (name, [], [], "multiple" in a)
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "selected": "selected" in a, "text": []}
        elif tag == "textarea" and name:
            self.textarea = (name, [])

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1].append(data)
        if self.option is not None:
            self.option["text"].append(data)

    def handle_endtag(self, tag):
        if tag == "option" and self.option is not None and self.select is not None:
            value = self.option["value"]
            value = value if value is not None else "".join(self.option["text"]).strip()
            self.select[1].append(value)
            if self.option["selected"]:
                self.select[2].append(value)
            self.option = None
        elif tag == "select" and self.select is not None:
            name, values, chosen, multiple = self.select
            if not chosen and values and not multiple:
                chosen = values[:1]  # a single select submits its first option when none is selected
            self.fields += [(name, v) for v in chosen]
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            text = "".join(self.textarea[1])
            self.fields.append((self.textarea[0], text[1:] if text.startswith("\n") else text))
            self.textarea = None
        elif tag == "form":
            self.fields = None


def form_data(response) -> dict[str, list[str]]:
    """The main form of an admin page (not the logout form), as the browser would post it back."""
    reader = FormReader()
    reader.feed(response.content.decode())
    forms = [fields for form_id, fields in reader.forms if form_id != "logout-form"]
    assert forms, f"no form on {response.wsgi_request.path}"
    data: dict[str, list[str]] = {}
    for name, value in max(forms, key=len):
        data.setdefault(name, []).append(value)
    return data


def csrf_token(response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, f"no CSRF token on {response.wsgi_request.path}"
    return match.group(1)


# The four roles


class Roles:
    """A CSRF-enforcing client per role, signed in with force_login (the sign-in form is not under test here)."""

    def __init__(self):
        editor = User.objects.create_user("authz-editor", password=PASSWORD, is_staff=True)
        editor.groups.add(Group.objects.get(name="Editors"))
        self.users = {
            "anonymous": None,
            "staff": User.objects.create_user("authz-staff", password=PASSWORD, is_staff=True),
            "editor": editor,
            "superuser": User.objects.create_superuser("authz-chief", password=PASSWORD),
        }
        self.clients: dict[str, Client] = {}
        self.tokens: dict[str, str] = {}
        for role in ROLES:
            self.sign_in(role)

    def sign_in(self, role: str):
        client = Client(enforce_csrf_checks=True)
        if self.users[role] is None:
            page = client.get(reverse("admin:login"))
        else:
            client.force_login(self.users[role])
            page = client.get(reverse("admin:index"))
        self.tokens[role] = csrf_token(page)
        self.clients[role] = client

    def get(self, role, url):
        return self.clients[role].get(url)

    def post(self, role, url, data):
        return self.clients[role].post(url, {**data, "csrfmiddlewaretoken": self.tokens[role]})


@pytest.fixture
def roles(settings):
    settings.CSRF_FAILURE_VIEW = f"{__name__}.csrf_failure"
    return Roles()


# Objects to act on: a fresh one per cell, so a change, revert or delete touches nothing else


@cache
def demo_ids() -> dict[str, int]:
    plan = Plan.objects.get(slug=PLAN)
    return {
        "plan": plan.pk,
        "topic": Topic.objects.order_by("pk").first().pk,
        "party": Party.objects.order_by("pk").first().pk,
        "source": Source.objects.order_by("pk").first().pk,
        "revision": plan.revisions.order_by("pk").first().pk,
        "point": plan.points.order_by("pk").first().pk,
    }


def new_point(tag: str) -> Point:
    ids = demo_ids()
    return Point.objects.create(plan_id=ids["plan"], key=tag, title=tag, topic_id=ids["topic"])


def new_revision(tag: str) -> Revision:
    """Made as the import makes one: its first history record holds its authors (a revert restores the version's)."""
    from peaceplans.editing.history import history_paused, record_version

    revision = Revision(
        plan_id=demo_ids()["plan"], slug=tag, title=tag, published_on=datetime.date(2025, 12, 1), status="leaked-draft"
    )
    with history_paused(revision):
        revision.save()
        revision.authors.add(demo_ids()["party"])
    record_version(revision, history_type="+")
    return revision


@dataclass(frozen=True)
class Spec:
    field: str  # the field a change writes, a revert restores and an add is found by
    make: Callable[[str], Model]  # tag -> a new object
    unique: Callable[[str], dict] = lambda tag: {}  # tag -> form values that make a copy of it new (for add)


SPECS = {
    "peaceplans.plan": Spec("title", lambda t: Plan.objects.create(slug=t, title=t), lambda t: {"slug": t}),
    "peaceplans.party": Spec(
        "name",
        lambda t: Party.objects.create(slug=t, name=t, short_name="AZ", colour="#123456"),
        lambda t: {"slug": t},
    ),
    "peaceplans.topic": Spec("name", lambda t: Topic.objects.create(slug=t, name=t), lambda t: {"slug": t}),
    "peaceplans.source": Spec(
        "outlet",
        lambda t: Source.objects.create(url=f"https://example.org/{t}", outlet=t, kind="official"),
        lambda t: {"url": f"https://example.org/{t}"},
    ),
    "peaceplans.revision": Spec("title", new_revision, lambda t: {"slug": t}),
    "peaceplans.point": Spec("title", new_point, lambda t: {"key": t}),
    "peaceplans.clause": Spec(
        "text",
        lambda t: Clause.objects.create(revision_id=demo_ids()["revision"], point=new_point(t), number=t, text=t),
        lambda t: {"number": t, "point": new_point(t).pk},
    ),
    "peaceplans.stance": Spec(
        "summary",
        lambda t: Stance.objects.create(
            plan_id=demo_ids()["plan"],
            party_id=demo_ids()["party"],
            revision_id=demo_ids()["revision"],
            position="supports",
            stated_on=datetime.date(2025, 12, 2),
            summary=t,
            source_id=demo_ids()["source"],
        ),
    ),
    "peaceplans.event": Spec(
        "title", lambda t: Event.objects.create(plan_id=demo_ids()["plan"], date=datetime.date(2025, 12, 3), title=t)
    ),
    "peaceplans.annotation": Spec("body", lambda t: Annotation.objects.create(point_id=demo_ids()["point"], body=t)),
    "peaceplans.alias": Spec(
        "note", lambda t: Alias.objects.create(spellings=f"{t}, {t} other"), lambda t: {"spellings": f"{t}, {t} other"}
    ),
    "auth.user": Spec("first_name", lambda t: User.objects.create_user(t, password=PASSWORD)),
    "auth.group": Spec("name", lambda t: Group.objects.create(name=t)),
}

_tags = itertools.count(1)


def new_tag() -> str:
    return f"authz-{next(_tags)}"


def admin_url(model: str, name: str, *args) -> str:
    app, model_name = model.split(".")
    return reverse(f"admin:{app}_{model_name}_{name}", args=args)


# What a database snapshot covers: every row of the model acted on and of its many-to-many
# tables (so a swapped group or permission shows), and the row count of every other table.


def snapshot(model_label: str) -> dict:
    model = apps.get_model(model_label)
    rows = {model_label: list(model.objects.order_by("pk").values())}
    for m2m in model._meta.many_to_many:
        through = m2m.remote_field.through
        rows[through._meta.label] = list(through.objects.order_by("pk").values())
    return {"rows": rows, "counts": table_counts()}


def table_counts() -> tuple[int, ...]:
    """The row count of every table, in one query."""
    tables = [m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.managed]
    # Table names come from the app registry, quoted: no outside input reaches this SQL.
    counts = ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(table)})" for table in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        return tuple(cursor.fetchone())


# Running one cell


def refusal(response) -> str | None:
    """LOGIN, REFUSED or HIDDEN when the response is one, else None."""
    status = response.status_code
    if status == 302 and response["Location"].startswith(reverse("admin:login") + "?next="):
        return LOGIN
    if status == 403:
        return CSRF_REFUSAL if response.content.decode() == CSRF_REFUSAL else REFUSED
    if status == 404:
        return HIDDEN
    return None


def judge_get(response, success) -> str:
    if (refused := refusal(response)) is not None:
        return refused
    if response.status_code != 200:
        return f"status {response.status_code}"
    return success(response.content.decode())


def form_page(html: str) -> str:
    return ALLOWED if 'name="_save"' in html else READ_ONLY


@dataclass
class Post:
    """A prepared POST: where, what, the table it may change, and how to tell that it did."""

    url: str
    data: dict
    model: str
    effect: Callable  # response -> bool: the change the request asks for was made
    then: Callable | None = None  # response (None if step one was refused) -> the second step's Post


def judge_post(roles: Roles, role: str, post: Post) -> str:
    before = snapshot(post.model)
    response = roles.post(role, post.url, post.data)
    refused = refusal(response)
    if refused is None and post.then is not None and response.status_code == 200:
        second = post.then(response)
        response = roles.post(role, second.url, second.data)
        refused = refusal(response)
    elif refused is not None and post.then is not None:
        # A refused first step: the second step, forged from a superuser's page, must be refused too.
        second = post.then(None)
        second_refusal = refusal(roles.post(role, second.url, second.data))
        refused = refused if second_refusal == refused else f"{refused}, then {second_refusal} on step two"
    if refused is not None:
        return refused if snapshot(post.model) == before else f"{refused}, but the database changed"
    if response.status_code not in (200, 302):
        return f"status {response.status_code}"
    return ALLOWED if post.effect(response) else f"status {response.status_code}, but nothing was changed"


def prepared_post(roles: Roles, cell) -> Post:
    """The POST of a model cell, built from what a superuser is served."""
    model, spec = cell.target, SPECS[cell.target]
    cls = apps.get_model(model)
    tag = new_tag()
    marker = f"{tag}-marked"
    obj = spec.make(tag)

    def superuser_form(url):
        page = roles.get("superuser", url)
        assert page.status_code == 200, f"superuser GET {url}: {page.status_code}"
        return form_data(page)

    def field_is(value):
        return lambda response: getattr(cls.objects.get(pk=obj.pk), spec.field) == value

    def gone(response):
        return not cls.objects.filter(pk=obj.pk).exists()

    if cell.action == "add":
        if model == "auth.user":
            data = superuser_form(admin_url(model, "add"))
            data.update(username=[marker], password1=[NEW_PASSWORD], password2=[NEW_PASSWORD])
            return Post(admin_url(model, "add"), data, model, lambda r: User.objects.filter(username=marker).exists())
        data = superuser_form(admin_url(model, "change", obj.pk))
        data.pop("edit_version", None)
        data.update({name: [str(value)] for name, value in spec.unique(new_tag()).items()})
        data[spec.field] = [marker]
        return Post(admin_url(model, "add"), data, model, lambda r: cls.objects.filter(**{spec.field: marker}).exists())
    if cell.action == "change":
        data = superuser_form(admin_url(model, "change", obj.pk))
        data[spec.field] = [marker]
        return Post(admin_url(model, "change", obj.pk), data, model, field_is(marker))
    if cell.action == "delete":
        return Post(admin_url(model, "delete", obj.pk), {"post": "yes"}, model, gone)
    if cell.action == "delete_selected":
        data = {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
        return Post(admin_url(model, "changelist"), data, model, gone)
    if cell.action in ("publish_selected", "unpublish_selected"):
        publish = cell.action == "publish_selected"
        cls.objects.filter(pk=obj.pk).update(public=not publish)  # the opposite state, so the action has work
        data = {"action": cell.action, "_selected_action": [obj.pk], "index": "0"}
        return Post(admin_url(model, "changelist"), data, model, lambda r: cls.objects.get(pk=obj.pk).public is publish)
    if cell.action == "revert":
        original = getattr(obj, spec.field)
        first = obj.history.order_by("history_id").first().history_id
        setattr(obj, spec.field, marker)
        obj.save()
        url = admin_url(model, "simple_history", obj.pk, first)
        return Post(url, superuser_form(url), model, field_is(original))
    if cell.action == "password":
        url = admin_url(model, "password_change", obj.pk)
        data = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
        return Post(url, data, model, lambda r: User.objects.get(pk=obj.pk).check_password(NEW_PASSWORD))
    if cell.action == "preview":
        url = reverse("admin:peaceplans_annotation_preview")
        return Post(url, {"body": f"**{tag}**"}, model, lambda r: f"<strong>{tag}</strong>" in r.content.decode())
    if cell.action == "paste":
        return paste_post(roles, marker)
    raise AssertionError(f"no POST for {cell}")


def paste_post(roles: Roles, marker: str) -> Post:
    """Step one (the pasted text) and step two (the confirmed import) of the paste page."""
    url = reverse("admin:peaceplans_revision_paste")
    ids = demo_ids()
    step_one = {
        "plan": ids["plan"],
        "title": marker,
        "slug": "",
        "published_on": "2025-12-20",
        "authors": [ids["party"]],
        "status": "leaked-draft",
        "summary": "",
        "sources": "",
        "text": "1. Both sides keep to the line of contact.\n2. Sanctions are lifted in stages.",
    }

    forged = {}

    def confirmation(response) -> Post:
        if response is None:  # the role was refused step one: forge step two from a superuser's page
            if not forged:
                forged.update(form_data(roles.post("superuser", url, step_one)))
            data = {**forged, "confirm": "Create the revision"}
        else:
            data = {**form_data(response), "confirm": "Create the revision"}
        return Post(url, data, "peaceplans.revision", imported)

    def imported(response):
        return Revision.objects.filter(title=marker).exists()

    return Post(url, step_one, "peaceplans.revision", imported, then=confirmation)


def run_site_cell(roles: Roles, role: str, cell) -> str:
    if cell.action == "index":
        return judge_get(roles.get(role, reverse("admin:index")), lambda html: ALLOWED)
    if cell.action.startswith("app_"):
        url = reverse("admin:app_list", kwargs={"app_label": cell.action.removeprefix("app_")})
        return judge_get(roles.get(role, url), lambda html: ALLOWED)
    if cell.action == "password_change" and cell.method == "GET":
        return judge_get(roles.get(role, reverse("admin:password_change")), lambda html: ALLOWED)
    if cell.action == "password_change":
        user = roles.users[role]
        data = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}

        def changed(response):
            return user is not None and User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)

        return judge_post(roles, role, Post(reverse("admin:password_change"), data, "auth.user", changed))
    if cell.action == "autocomplete":
        query = "?app_label=peaceplans&model_name=revision&field_name=sources&term="
        response = roles.get(role, reverse("admin:autocomplete") + query)
        return judge_get(response, lambda body: ALLOWED if json.loads(body)["results"] else "no results")
    if cell.action == "view_on_site":
        plan = Plan.objects.get(slug=PLAN)
        url = reverse("admin:view_on_site", args=[ContentType.objects.get_for_model(Plan).pk, plan.pk])
        response = roles.get(role, url)
        if (refused := refusal(response)) is not None:
            return refused
        return (
            ALLOWED
            if response.status_code == 302 and response["Location"].endswith(plan.get_absolute_url())
            else (f"status {response.status_code}")
        )
    raise AssertionError(f"no probe for {cell}")


GET_SUCCESS = {
    "changelist": lambda html: ALLOWED,
    "add": lambda html: ALLOWED if 'name="_save"' in html else "an add form without a save button",
    "change": form_page,
    "delete": lambda html: ALLOWED if 'name="post"' in html else "no confirmation form",
    "history": lambda html: ALLOWED,
    "revert": form_page,
    "paste": lambda html: ALLOWED if 'name="text"' in html else "no paste form",
    "password": lambda html: ALLOWED if 'name="password1"' in html else "no password form",
}


def prepare(roles: Roles, cell):
    """
    A probe for the four cells of one (object, action, method): role -> observed outcome. The object
    acted on and the superuser's form are made once, and each role's request runs in its own savepoint.
    """
    if cell.target == "site":
        return lambda role: run_site_cell(roles, role, cell)
    if cell.method == "POST":
        post = prepared_post(roles, cell)
        return lambda role: judge_post(roles, role, post)
    model = cell.target
    if cell.action in ("changelist", "add"):
        url = admin_url(model, cell.action)
    elif cell.action == "paste":
        url = reverse("admin:peaceplans_revision_paste")
    else:
        obj = SPECS[model].make(new_tag())
        if cell.action == "revert":
            url = admin_url(model, "simple_history", obj.pk, obj.history.first().history_id)
        elif cell.action == "password":
            url = admin_url(model, "password_change", obj.pk)
        else:
            url = admin_url(model, cell.action, obj.pk)
    return lambda role: judge_get(roles.get(role, url), GET_SUCCESS[cell.action])


def failed(exc):
    return lambda role: f"raised {exc!r} while preparing"


@pytest.mark.slow
def test_every_cell_of_the_authorization_matrix(roles):
    cells = matrix.cells()
    mismatches = []
    for _, same in itertools.groupby(cells, key=lambda c: (c.target, c.action, c.method)):
        same = list(same)
        with transaction.atomic():
            try:
                probe = prepare(roles, same[0])
            except Exception as exc:  # noqa: BLE001 (one broken cell must not hide the others)
                probe = failed(exc)
            for cell in same:
                with transaction.atomic():
                    try:
                        observed = probe(cell.role)
                    except Exception as exc:  # noqa: BLE001
                        observed = f"raised {exc!r}"
                    transaction.set_rollback(True)
                if observed != cell.expected:
                    mismatches.append(f"{cell}, observed {observed}")
            transaction.set_rollback(True)
        if same[0].action in ("password_change", "password") and same[0].method == "POST":
            for role in ROLES:  # a password change rotates the session key, and the rollback lost the new one
                roles.sign_in(role)
    assert len(cells) > 500
    assert not mismatches, f"{len(mismatches)} of {len(cells)} cells differ from the matrix:\n" + "\n".join(mismatches)


def test_a_post_with_a_wrong_csrf_token_is_told_apart_and_changes_nothing(roles):
    """The harness's own check: a CSRF refusal is reported as such, never taken for a permission refusal."""
    spec, tag = SPECS["peaceplans.point"], new_tag()
    point = spec.make(tag)
    url = admin_url("peaceplans.point", "change", point.pk)
    data = {**form_data(roles.get("superuser", url)), "title": "forged"}
    roles.tokens["superuser"] = roles.tokens["editor"]  # a token from another session
    post = Post(url, data, "peaceplans.point", lambda r: Point.objects.get(pk=point.pk).title == "forged")
    assert judge_post(roles, "superuser", post) == CSRF_REFUSAL
    assert Point.objects.get(pk=point.pk).title == tag


# The matrix covers the whole admin


def test_every_model_in_the_admin_has_its_rows():
    registered = {m._meta.label_lower for m in apps.get_models() if admin.site.is_registered(m)}
    assert registered == set(matrix.MODEL_ACTIONS)
    grouped = {m if "." in m else f"peaceplans.{m}" for _, members in matrix.GROUPS for m in members}
    assert grouped == set(matrix.MODEL_ACTIONS)


def admin_url_names(patterns) -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= admin_url_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


def test_every_admin_url_is_in_the_matrix_or_named_with_a_reason():
    """A new custom admin view (get_urls) fails here until the matrix has its row."""
    action_urls = {"paste": "paste", "preview": "preview", "password": "password_change", "revert": "simple_history"}
    covered = {"app_list"} | {site.name for site in matrix.SITE_ACTIONS if not site.name.startswith("app_")}
    for model, actions in matrix.MODEL_ACTIONS.items():
        prefix = model.replace(".", "_")
        for action in actions:
            name = action_urls.get(action.name, action.name)
            bulk = name in ("delete_selected", "publish_selected", "unpublish_selected")  # posted to the changelist
            covered.add(f"{prefix}_{'changelist' if bulk else name}")
    unexplained = admin_url_names(admin.site.get_urls()) - covered - set(matrix.NOT_IN_MATRIX)
    assert not unexplained, f"admin URLs with no row in tests/authz_matrix.py: {sorted(unexplained)}"


def test_the_editors_group_grants_exactly_the_documented_rights():
    """Migrations 0002 and 0009 (and any later one) must grant the matrix's EDITOR_PERMS: no more, no less."""
    granted = set()
    for permission in Group.objects.get(name="Editors").permissions.select_related("content_type"):
        action, _, model = permission.codename.partition("_")
        granted.add((f"{permission.content_type.app_label}.{model}", action))
    documented = {(model, action) for model, perms in matrix.EDITOR_PERMS.items() for action in perms}
    assert granted == documented


# Editors cannot raise their own permissions


def superuser_form(roles, url) -> dict:
    page = roles.get("superuser", url)
    assert page.status_code == 200
    return form_data(page)


def test_an_editor_cannot_make_themselves_a_superuser_or_grant_themselves_anything(roles):
    editor = roles.users["editor"]
    url = admin_url("auth.user", "change", editor.pk)
    data = superuser_form(roles, url)
    data.update(
        is_superuser=["on"],
        is_staff=["on"],
        groups=[str(pk) for pk in Group.objects.values_list("pk", flat=True)],
        user_permissions=[str(pk) for pk in Permission.objects.values_list("pk", flat=True)],
    )
    before = snapshot("auth.user")
    response = roles.post("editor", url, data)
    assert response.status_code == 403
    assert snapshot("auth.user") == before
    editor = User.objects.get(pk=editor.pk)
    assert not editor.is_superuser and not editor.user_permissions.exists()
    assert list(editor.groups.values_list("name", flat=True)) == ["Editors"]
    assert not editor.has_perm("auth.change_user") and not editor.has_perm("peaceplans.delete_revision")


def test_an_editor_cannot_widen_the_editors_group(roles):
    group = Group.objects.get(name="Editors")
    url = admin_url("auth.group", "change", group.pk)
    data = superuser_form(roles, url)
    data["permissions"] = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    before = set(group.permissions.values_list("pk", flat=True))
    assert roles.post("editor", url, data).status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == before
    assert roles.post("editor", admin_url("auth.group", "add"), {**data, "name": "Editors 2"}).status_code == 403
    assert not Group.objects.filter(name="Editors 2").exists()


def test_an_editor_cannot_create_an_account(roles):
    data = {"username": "backdoor", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    assert roles.post("editor", admin_url("auth.user", "add"), {**data, "is_superuser": "on"}).status_code == 403
    assert not User.objects.filter(username="backdoor").exists()


def test_an_editor_cannot_set_anyone_s_password_through_the_user_admin(roles):
    """Not the superuser's, nor their own: an editor changes their own password only with the old one."""
    data = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    for user in (roles.users["superuser"], roles.users["editor"]):
        url = admin_url("auth.user", "password_change", user.pk)
        assert roles.get("editor", url).status_code == 403
        assert roles.post("editor", url, data).status_code == 403
        assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    data = {"old_password": "not-my-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    page = roles.post("editor", reverse("admin:password_change"), data)
    assert page.status_code == 200 and "old password was entered incorrectly" in page.content.decode()
    assert User.objects.get(pk=roles.users["editor"].pk).check_password(PASSWORD)


def test_an_editor_cannot_rewrite_a_read_only_record_through_its_history(roles):
    """The hole this matrix found: django-simple-history's revert saved a POST for view-only users."""
    plan = Plan.objects.get(slug=PLAN)
    title = plan.title
    record = plan.history.order_by("history_id").first()
    url = admin_url("peaceplans.plan", "simple_history", plan.pk, record.history_id)
    page = roles.get("editor", url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    data = {**superuser_form(roles, url), "title": "Rewritten by an editor"}
    assert roles.post("editor", url, data).status_code == 403
    assert Plan.objects.get(pk=plan.pk).title == title


def test_an_action_the_user_may_not_run_is_refused_not_ignored(roles):
    stance = SPECS["peaceplans.stance"].make(new_tag())
    url = admin_url("peaceplans.stance", "changelist")
    assert 'value="delete_selected"' not in roles.get("editor", url).content.decode()
    for action in ("delete_selected", "no_such_action"):
        data = {"action": action, "_selected_action": [stance.pk], "index": "0", "post": "yes"}
        assert roles.post("editor", url, data).status_code == 403
    assert Stance.objects.filter(pk=stance.pk).exists()


def test_staff_without_the_group_see_an_empty_admin(roles):
    page = roles.get("staff", reverse("admin:index")).content.decode()
    assert "have permission to view or edit anything" in page
    assert not re.search(r'href="/admin/(peaceplans|auth)/', page)
    editor_page = roles.get("editor", reverse("admin:index")).content.decode()
    assert 'href="/admin/peaceplans/point/"' in editor_page and 'href="/admin/auth/' not in editor_page


# docs/security.md carries the matrix


def readme_matrix() -> str:
    text = MATRIX_DOC.read_text()
    start, end = "<!-- authz-matrix:start -->", "<!-- authz-matrix:end -->"
    assert start in text and end in text, f"docs/security.md has no {start} … {end} section (see tests/authz_matrix.py)"
    return text.split(start, 1)[1].split(end, 1)[0]


def test_the_readme_table_is_the_tested_matrix():
    table = [line for line in readme_matrix().strip().splitlines() if line.startswith("|")]
    assert table == matrix.render_table().splitlines(), (
        "The authorization matrix in docs/security.md differs from tests/authz_matrix.py; paste in the output of "
        "`python -c 'from tests.authz_matrix import render_table; print(render_table())'`"
    )
