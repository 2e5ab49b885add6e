"""
The admin's forms for what is chosen by point: each refuses a point (or a text) of another plan
than the one the row belongs to, with a sentence naming both plans (choosers.check_same_plan),
and labels its chosen rows without a query per row (choosers.LoadedChoices).
"""

from django.utils.html import escape

from peaceplans.editing.admin_history import (
    VersionedForm,
    VersionedInlineForm,
    VersionedInlineFormSet,
    marked_for_deletion,
)
from peaceplans.editing.choosers import LoadedChoices, check_same_plan, point_label


class StanceForm(LoadedChoices, VersionedForm):
    """A stance's own form: its point and the text it answers belong to its plan."""

    def clean(self):
        data = super().clean()
        plan = data.get("plan")
        check_same_plan(self, plan, "the stance's plan", point=data.get("point"), revision=data.get("revision"))
        return data


class InlineForm(LoadedChoices, VersionedInlineForm):
    """A row of a point's stances or a revision's clauses."""


class SamePlanFormSet(VersionedInlineFormSet):
    """
    Inline rows whose `checked` fields (a stance's revision on a point's page, a clause's point on a
    revision's page) must belong to the plan of the object they are on: the formset's instance,
    which on an add page carries the plan chosen in the form above.
    """

    checked: tuple[str, ...] = ()
    whose = ""

    def clean(self):
        super().clean()
        plan = getattr(self.instance, "plan", None) if self.instance.plan_id else None
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or marked_for_deletion(form):
                continue
            check_same_plan(form, plan, self.whose, **{name: form.cleaned_data.get(name) for name in self.checked})


class StanceRows(SamePlanFormSet):
    checked = ("revision",)
    whose = "the plan of the point it is on"


class ClauseRows(SamePlanFormSet):
    checked = ("point",)
    whose = "the plan of this revision"


class ClauseForm(LoadedChoices, VersionedForm):
    """A clause's own form: its point belongs to its revision's plan."""

    def clean(self):
        data = super().clean()
        revision = data.get("revision")
        check_same_plan(self, getattr(revision, "plan", None), "the plan of its revision", point=data.get("point"))
        return data


class AnnotationForm(LoadedChoices, VersionedForm):
    """A note: on one point, chosen by number or title."""


class PointForm(LoadedChoices, VersionedForm):
    """A point: the point it was split from is another point of the same plan."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin prints help texts as HTML: the key's "'<revision>-<number>'" would show as "'-'".
        if "key" in self.fields:
            self.fields["key"].help_text = escape(self.fields["key"].help_text)

    def clean(self):
        data = super().clean()
        split_from = data.get("split_from")
        if split_from is not None and self.instance.pk is not None and split_from.pk == self.instance.pk:
            self.add_error(
                "split_from",
                f"A point cannot be split from itself: choose the earlier point that “{point_label(split_from)}” "
                "was divided from, or leave it empty.",
            )
        check_same_plan(self, data.get("plan"), "this point's plan", split_from=split_from)
        return data
