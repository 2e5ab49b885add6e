"""
What every editable model's admin shares: its history with word-level changes of text
fields, a way back (django-simple-history's revert), and no lost updates: a save made from
a form opened before someone else's save is refused, showing what changed meanwhile.

Every save through the admin is one history record with its editor and time (issue 8,
tests/editing/test_history_safety.py): a save that changes nothing writes nothing, and a model whose
many-to-many sets are tracked gets one record once they are set, not one for the row and one
more for each set (simple-history's default); a revert restores the version's sets too.
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.template.defaultfilters import truncatechars
from simple_history.admin import SimpleHistoryAdmin
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME
from simple_history.template_utils import HistoricalRecordContextHelper

from peaceplans.compare import diff
from peaceplans.editing.history import record_version, tracked_m2m


def latest_version(instance) -> int:
    """The id of the object's newest history record: it changes with every save."""
    return instance.history.order_by("-history_id").values_list("history_id", flat=True).first() or 0


def changes_since(instance, version: int) -> str:
    """A sentence naming who saved the object after `version`, and the fields they changed."""
    newer = list(instance.history.filter(history_id__gt=version).select_related("history_user").order_by("history_id"))
    if not newer:
        return ""
    seen = instance.history.filter(history_id=version).first()
    names = sorted({str(r.history_user) if r.history_user else "someone" for r in newer})
    when = newer[-1].history_date.strftime("%d %b %Y %H:%M UTC")
    described = []
    if seen is not None:
        delta = newer[-1].diff_against(seen)
        for change in delta.changes:
            label = instance._meta.get_field(change.field).verbose_name
            described.append(f"{label} is now “{truncatechars(str(change.new), 120)}”")
    detail = "; ".join(described) if described else "the record was saved again"
    return f"{', '.join(names)} saved this {instance._meta.verbose_name} at {when} while you were editing it: {detail}."


class VersionedForm(forms.ModelForm):
    """Carries the version the editor started from, and refuses a save over a newer one."""

    edit_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["edit_version"] = latest_version(self.instance)
            record = getattr(self.instance, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None)
            if record is not None:
                # A revert form: the version's sets, which the rebuilt object would read from today's rows.
                for field in record._history_m2m_fields:
                    target = field.m2m_reverse_field_name() + "_id"
                    if field.name in self.fields:
                        self.initial[field.name] = [getattr(row, target) for row in getattr(record, field.name).all()]

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; its stub allows None
        if self.instance.pk and hasattr(self.instance, "history"):
            started_from = data.get("edit_version") or 0
            if started_from != latest_version(self.instance):
                raise ValidationError(
                    "Not saved, so that neither edit is lost. %(changes)s Your version is still in the form below: "
                    "open the page again in another tab to see theirs, then make your change again.",
                    code="conflict",
                    params={"changes": changes_since(self.instance, started_from)},
                )
        return data


class WordDiffHistoryHelper(HistoricalRecordContextHelper):
    """History rows show text changes word by word, as the public diffs do."""

    def context_for_delta_changes(self, delta):
        rows = super().context_for_delta_changes(delta)
        for row, change in zip(rows, delta.changes, strict=True):
            if isinstance(change.old, str) and isinstance(change.new, str) and (change.old or change.new):
                row["ops"] = diff.diff_ops(change.old, change.new)
        return rows


class EditorAdmin(SimpleHistoryAdmin):
    """Base admin for editable models: history with word diffs, revert, and conflict refusal."""

    form = VersionedForm
    object_history_list_template = "peaceplans/admin/history_list.html"

    def get_historical_record_context_helper(self, request, historical_record):
        return WordDiffHistoryHelper(self.model, historical_record)

    def save_model(self, request, obj, form, change):
        """
        One history record per save. A change form posted with nothing changed writes nothing: a
        record saying "saved, no change" would also be a new version, refusing as a conflict the
        save of anyone who opened the form before it. (A revert always saves: its form starts from
        the version, not from the object as it is.) With tracked many-to-many sets, the record is
        written once the form has set them (save_m2m), rather than one for the row and one per set.
        """
        reverting = hasattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME)
        if change and not reverting and not set(form.changed_data) - {"edit_version"}:
            return
        if not tracked_m2m(obj):
            super().save_model(request, obj, form, change)
            return
        obj.skip_history_when_saving = True
        try:
            super().save_model(request, obj, form, change)
        except BaseException:
            del obj.skip_history_when_saving
            raise
        save_m2m = form.save_m2m

        def save_m2m_then_record():
            try:
                save_m2m()
            finally:
                del obj.skip_history_when_saving
            record_version(obj, history_type="~" if change else "+", user=request.user)

        form.save_m2m = save_m2m_then_record

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """
        A restore writes the row, its history and its search index row in one transaction, as a change does.
        It needs the change permission: django-simple-history saves a POST from anyone who may merely view
        the object, which let editors rewrite the plans, parties, topics and revisions they can only read.
        """
        if request.method == "POST" and not self.has_change_permission(request):
            raise PermissionDenied
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, object_id, version_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        """A bulk action the user may not run is refused (403, logged), not quietly ignored as Django does."""
        action = request.POST.get("action") if request.method == "POST" else None
        if action and action not in self.get_actions(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)
