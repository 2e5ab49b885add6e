"""
"Add note", "Add stance" and "Edit" on the public point and compare pages, for signed-in editors
only: each leads to the admin's form with the point (its plan, and for a stance the text in view)
filled in through the form's GET initial data.

A reader never sees them, and no page that has them is shared. Editors' requests carry a session
cookie, which the page cache never serves nor stores (ops/pagecache.py, is_private); asking for
the links also marks the request private (pagecache.keep_private), so a page showing them can
never be stored even if a signed-in request ever came without that cookie.
"""

from dataclasses import dataclass

from django.contrib import admin
from django.urls import reverse
from django.utils.http import urlencode

from peaceplans.ops.pagecache import keep_private


@dataclass(frozen=True)
class EditorLinks:
    """Which of the links the signed-in editor may follow, and their addresses."""

    note: bool
    stance: bool
    edit: bool

    def for_point(self, point, revision=None, *, plan_id: int | None = None) -> list[tuple[str, str, str]]:
        """
        (text, address, what it does in words for a screen reader) for the links this editor may
        follow. `point` is a Point or a comparison's PointFacts (no plan of its own: `plan_id`, or the revision's).
        """
        links = []
        number = point.number
        if self.edit:
            links.append(("Edit", reverse("admin:peaceplans_point_change", args=[point.pk]), f"point {number}"))
        if self.note:
            query = urlencode({"point": point.pk})
            links.append(("Add note", reverse("admin:peaceplans_annotation_add") + f"?{query}", f"on point {number}"))
        if self.stance:
            plan = plan_id or getattr(point, "plan_id", None) or getattr(revision, "plan_id", None)
            initial = {"plan": plan, "point": point.pk} if plan else {"point": point.pk}
            said = f"on point {number}"
            if revision is not None:
                initial["revision"] = revision.pk
                said += f", answering {revision.label}"
            links.append(("Add stance", reverse("admin:peaceplans_stance_add") + f"?{urlencode(initial)}", said))
        return links


ATTRIBUTE = "_peaceplans_editor_links"


def editor_links(request) -> EditorLinks | None:
    """
    The links this request's user may follow: None for readers (anyone the admin would not let in,
    or who may neither add notes or stances nor change points). Worked out once per request.
    """
    if request is None:
        return None
    if hasattr(request, ATTRIBUTE):
        return getattr(request, ATTRIBUTE)
    links = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and admin.site.has_permission(request):
        links = EditorLinks(
            note=user.has_perm("peaceplans.add_annotation"),
            stance=user.has_perm("peaceplans.add_stance"),
            edit=user.has_perm("peaceplans.change_point"),
        )
        if not (links.note or links.stance or links.edit):
            links = None
    if links is not None:
        keep_private(request)
    setattr(request, ATTRIBUTE, links)
    return links
