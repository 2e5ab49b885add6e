"""
The documented authorization matrix of the admin: who may do what, as data.

tests/editing/test_authorization.py runs every cell against the real admin, and checks that the
"Authorization matrix" table of docs/security.md is `render_table()` of this data, so the two cannot drift apart.
The expectations are written here from the policy, never read from the database or the admin:
an editor's rights are `EDITOR_PERMS` below, and migrations 0002 and 0009 must grant exactly those.
"""

from dataclasses import dataclass

ROLES = ("anonymous", "staff", "editor", "superuser")
ROLE_TITLES = {
    "anonymous": "Anonymous",
    "staff": "Staff, no group",
    "editor": "Editor",
    "superuser": "Superuser",
}

# Outcomes, as they appear in the table of docs/security.md.
ALLOWED = "allowed"  # 200 (or the redirect after a save), and a POST really changed the database
READ_ONLY = "read-only"  # 200, the form shown without a save button
LOGIN = "login"  # 302 to /admin/login/?next=…; a POST changed nothing
REFUSED = "403"  # 403 Forbidden; a POST changed nothing
HIDDEN = "404"  # 404 Not Found (the admin hides an app list with nothing in it for the user)

# What the Editors group may do, per admin model. Superusers may do everything, staff without
# the group nothing. Editors keep the content current; they delete nothing, change neither the
# plans, parties and topics nor a revision's own record (they add new drafts, which start
# unpublished, and publish or unpublish them: the model's own "publish" permission), and never
# touch accounts or permissions.
EDITOR_PERMS: dict[str, frozenset[str]] = {
    **{f"peaceplans.{m}": frozenset({"view", "add", "change"}) for m in ("point", "clause", "stance")},
    **{f"peaceplans.{m}": frozenset({"view", "add", "change"}) for m in ("source", "event", "annotation", "alias")},
    **{f"peaceplans.{m}": frozenset({"view"}) for m in ("plan", "party", "topic")},
    "peaceplans.revision": frozenset({"view", "add", "publish"}),
    "auth.user": frozenset(),
    "auth.group": frozenset(),
}
ALL_PERMS = frozenset({"view", "add", "change", "delete", "publish"})


def _needs(permission: str):
    return lambda perms: ALLOWED if permission in perms else REFUSED


def _view_or_change(perms) -> str:
    return ALLOWED if perms & {"view", "change"} else REFUSED


def _form(perms) -> str:
    """A change (or revert) form: editable with change, shown read-only with view alone."""
    return ALLOWED if "change" in perms else READ_ONLY if "view" in perms else REFUSED


def _add_or_change(perms) -> str:
    return ALLOWED if perms & {"add", "change"} else REFUSED


@dataclass(frozen=True)
class Action:
    name: str
    method: str
    rule: object  # perms -> outcome, for a signed-in staff user holding `perms` on the model
    label: str


CHANGELIST = Action("changelist", "GET", _view_or_change, "list")
ADD_GET = Action("add", "GET", _needs("add"), "add form")
ADD_POST = Action("add", "POST", _needs("add"), "add")
CHANGE_GET = Action("change", "GET", _form, "change form")
CHANGE_POST = Action("change", "POST", _needs("change"), "change")
DELETE_GET = Action("delete", "GET", _needs("delete"), "delete page")
DELETE_POST = Action("delete", "POST", _needs("delete"), "delete")
BULK_DELETE = Action("delete_selected", "POST", _needs("delete"), "bulk action “delete selected”")
HISTORY = Action("history", "GET", _view_or_change, "history")
REVERT_GET = Action("revert", "GET", _form, "history version (revert form)")
REVERT_POST = Action("revert", "POST", _needs("change"), "revert to a version")
PUBLISH = Action("publish_selected", "POST", _needs("publish"), "bulk action “publish selected revisions”")
UNPUBLISH = Action("unpublish_selected", "POST", _needs("publish"), "bulk action “unpublish selected revisions”")
PASTE_GET = Action("paste", "GET", _needs("add"), "paste a new draft, form")
PASTE_POST = Action("paste", "POST", _needs("add"), "paste a new draft, import")
PREVIEW_POST = Action("preview", "POST", _add_or_change, "note preview")
PASSWORD_GET = Action("password", "GET", _needs("change"), "set another user's password, form")
PASSWORD_POST = Action("password", "POST", _needs("change"), "set another user's password")

BASIC = (CHANGELIST, ADD_GET, ADD_POST, CHANGE_GET, CHANGE_POST, DELETE_GET, DELETE_POST, BULK_DELETE)
HISTORIC = (HISTORY, REVERT_GET, REVERT_POST)  # django-simple-history's views, on every peaceplans model
# (Users and groups have the admin's own history page, the log of admin changes, and no revert.)

# Every model registered in the admin, with its actions. The test fails if the admin registers a
# model that is missing here, so a new model cannot arrive without its row in the matrix.
MODEL_ACTIONS: dict[str, tuple[Action, ...]] = {
    **{
        f"peaceplans.{m}": BASIC + HISTORIC
        for m in ("point", "clause", "stance", "source", "event", "alias", "plan", "party", "topic")
    },
    "peaceplans.annotation": BASIC + HISTORIC + (PREVIEW_POST,),
    "peaceplans.revision": BASIC + HISTORIC + (PUBLISH, UNPUBLISH, PASTE_GET, PASTE_POST),
    "auth.user": BASIC + (HISTORY, PASSWORD_GET, PASSWORD_POST),
    "auth.group": BASIC + (HISTORY,),
}

# Rows of the table, in order: a label and the models sharing every outcome in that row.
GROUPS = (
    (
        "Points, clauses, stances, sources, events, notes, aliases",
        ("point", "clause", "stance", "source", "event", "annotation", "alias"),
    ),
    ("Plans, parties, topics", ("plan", "party", "topic")),
    ("Revisions", ("revision",)),
    ("Users, groups", ("auth.user", "auth.group")),
)


@dataclass(frozen=True)
class SiteAction:
    name: str
    method: str
    outcomes: tuple[str, str, str, str]  # by ROLES
    label: str


# The admin's own pages, outside any one model.
SITE_ACTIONS = (
    SiteAction("index", "GET", (LOGIN, ALLOWED, ALLOWED, ALLOWED), "admin index, empty for staff without the group"),
    SiteAction("app_peaceplans", "GET", (LOGIN, HIDDEN, ALLOWED, ALLOWED), "app page “Peace plans”"),
    SiteAction("app_auth", "GET", (LOGIN, HIDDEN, HIDDEN, ALLOWED), "app page “Authentication and authorization”"),
    SiteAction("password_change", "GET", (LOGIN, ALLOWED, ALLOWED, ALLOWED), "change one's own password, form"),
    SiteAction("password_change", "POST", (LOGIN, ALLOWED, ALLOWED, ALLOWED), "change one's own password"),
    SiteAction("autocomplete", "GET", (LOGIN, REFUSED, ALLOWED, ALLOWED), "autocomplete (a revision's sources)"),
    SiteAction(
        "view_on_site", "GET", (LOGIN, REFUSED, ALLOWED, ALLOWED), "“view on site”: a redirect to the public page"
    ),
)

# The admin's URLs that are not in the matrix, and why. The test fails on any admin URL that is
# neither here nor a cell above, so a new custom admin view cannot arrive without its row.
NOT_IN_MATRIX = {
    "login": "signing in, tested in tests/editing/test_signin.py (throttling, two-factor)",
    "logout": "signing out ends only one's own session",
    "password_change_done": "a page of text after one's own password change",
    "jsi18n": "the admin's JavaScript translation catalogue, the same for every staff user",
}


@dataclass(frozen=True)
class Cell:
    role: str
    target: str  # "app_label.model", or "site"
    action: str
    method: str
    expected: str

    def __str__(self):
        return f"{self.role:<9} {self.method:<4} {self.target} {self.action}: expected {self.expected}"


def perms_of(role: str, model: str) -> frozenset[str]:
    return {"staff": frozenset(), "editor": EDITOR_PERMS[model], "superuser": ALL_PERMS}[role]


def outcome(role: str, model: str, action: Action) -> str:
    return LOGIN if role == "anonymous" else action.rule(perms_of(role, model))


def cells() -> list[Cell]:
    """Every (role, object, action, method) the suite runs, with its documented outcome."""
    found = [
        Cell(role, "site", site.name, site.method, expected)
        for site in SITE_ACTIONS
        for role, expected in zip(ROLES, site.outcomes, strict=True)
    ]
    for model, actions in MODEL_ACTIONS.items():
        for action in actions:
            found += [Cell(role, model, action.name, action.method, outcome(role, model, action)) for role in ROLES]
    return found


# The table in docs/security.md


def _label(model: str) -> str:
    return model if "." in model else f"peaceplans.{model}"


def _row(what: str, action, outcomes) -> str:
    return "| " + " | ".join([what, f"{action.label} ({action.method})", *outcomes]) + " |"


def render_table() -> str:
    """The Markdown table docs/security.md carries between the authz-matrix markers."""
    lines = [
        "| Admin objects | Action | " + " | ".join(ROLE_TITLES[r] for r in ROLES) + " |",
        "|---|---|" + "---|" * len(ROLES),
    ]
    lines += [_row("Admin site", site, site.outcomes) for site in SITE_ACTIONS]
    for title, members in GROUPS:
        models = [_label(m) for m in members]
        shared = [a for a in MODEL_ACTIONS[models[0]] if all(a in MODEL_ACTIONS[m] for m in models)]
        for action in shared:
            rows = {tuple(outcome(r, m, action) for r in ROLES) for m in models}
            assert len(rows) == 1, f"{title}: the models differ on {action.label}; split the group"
            lines.append(_row(title, action, rows.pop()))
        for model in models:
            for action in MODEL_ACTIONS[model]:
                if action not in shared:
                    name = model.split(".")[1].capitalize() + "s"
                    lines.append(_row(name, action, [outcome(r, model, action) for r in ROLES]))
    return "\n".join(lines)


LEGEND = (
    "allowed: the page opens, or the change is made (checked in the database); read-only: the form opens "
    "without a save button; login: a redirect to the admin's sign-in page; 403 and 404: refused, and a "
    "refused POST leaves the database as it was."
)
