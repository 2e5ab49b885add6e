"""
What every editable model's admin shares: its history with word-level changes of text
fields, a way back (django-simple-history's revert), and no lost updates: a save made from
a form opened before someone else's save is refused, showing what changed meanwhile, for the
object and for each row of its inline forms (a point's stances, a revision's clauses).

How the refusal holds when two saves arrive at the same moment (issue 19). The version a form
was opened at is the object's newest history record (`history_id`): every save writes one, and
the refusal names who saved and what changed from them. A version column advanced by a
conditional `UPDATE ... WHERE version = %s` would find the conflict only when writing, after the
form had been accepted, where the admin can no longer show it; and it would repeat what the
history already says. So the check stays a read of the history, made under a lock taken in the
same transaction (Django's admin runs every POST to a change form, delete or revert in
`transaction.atomic`): `lock_for_saving` takes the data version's row, then the object's row,
then the changed inline rows in primary-key order, each with SELECT ... FOR NO KEY UPDATE, and
holds them to the commit. A second save of the same object waits at that lock until the first
has committed, then reads the first's history record and is refused. The order is the one every
writing transaction already follows (the data version's row first: models/version.py), so two
saves cannot deadlock. On PostgreSQL the lock is the row lock; on SQLite, where
select_for_update does nothing, `transaction_mode="IMMEDIATE"` takes the database's write lock at
BEGIN, which serialises the whole save the same way.

Every write that can reach these rows outside the admin writes a history record too, so it turns
an open form stale as an editor's save does: the model's own save (services, the importer, the
publish actions, deletes); the synthetic generator and a restore write their history rows with
their rows. The one bulk write without one, the notes' stored HTML (services.refresh_note_html,
after a migrate), changes only fields no form edits. No admin here has `list_editable`: a
changelist's formset would save rows without this check.

Every save through the admin is one history record with its editor and time (issue 8,
tests/editing/test_history_safety.py): a save that changes nothing writes nothing, and a model whose
many-to-many sets are tracked gets one record once they are set, not one for the row and one
more for each set (simple-history's default); a revert restores the version's sets too.
"""

from contextlib import suppress

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import connections, router, transaction
from django.db.models import Max
from django.forms.formsets import DELETION_FIELD_NAME
from django.template.defaultfilters import truncatechars
from simple_history.admin import SimpleHistoryAdmin
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME
from simple_history.template_utils import HistoricalRecordContextHelper

from peaceplans.compare import diff
from peaceplans.editing.history import record_version, tracked_m2m
from peaceplans.models import DataVersion

CONFLICT = "Not saved, so that neither edit is lost."
AGAIN = "open the page again in another tab to see theirs, then make your change again."


def latest_version(instance) -> int:
    """The id of the object's newest history record: it changes with every save."""
    return instance.history.order_by("-history_id").values_list("history_id", flat=True).first() or 0


def latest_versions(model, pks) -> dict[int, int]:
    """The newest history record's id of each of these objects, in one query."""
    pk = model._meta.pk.attname
    rows = model.history.filter(**{f"{pk}__in": pks}).values(pk).annotate(latest=Max("history_id"))
    return {row[pk]: row["latest"] for row in rows}


def lock_for_saving(model, *, using: str, **lookup) -> None:
    """
    Lock the rows of `model` matching `lookup` until the transaction ends, after the data
    version's row, in primary-key order (SELECT ... FOR NO KEY UPDATE: it waits for any other
    transaction writing them, yet lets rows that refer to them be added meanwhile). Called by a
    save before it reads the version it checks, in the transaction that writes. On SQLite it
    does nothing: IMMEDIATE transactions already hold the database's write lock.
    """
    if not connections[using].in_atomic_block:
        raise transaction.TransactionManagementError("a save's check must run in the transaction that writes")
    rows = DataVersion.objects.using(using).select_for_update(no_key=True).filter(pk=1).values_list("pk", flat=True)
    list(rows)
    rows = model._base_manager.using(using).select_for_update(no_key=True).filter(**lookup).order_by("pk")
    list(rows.values_list("pk", flat=True))


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


class VersionField(forms.IntegerField):
    """The version a form was opened at: hidden, and never a change of its own (has_changed)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def has_changed(self, initial, data) -> bool:
        return False


class Versioned(forms.ModelForm):
    """
    What the object's form and each inline row share: the version the editor opened
    (`edit_version`), and whether they changed anything since that version.

    Django's has_changed compares the posted values with the row as it is now. After a
    colleague's save, a field the editor left alone differs from today's value, and saving it
    would quietly put the colleague's change back. So a form opened at an older version is judged
    against that version (its history record): left as it was there, it is not written at all,
    and the colleague's save stands (`left_as_opened`); changed there, it is refused.
    """

    edit_version = VersionField()
    left_as_opened = False

    @property
    def changed_data(self) -> list[str]:
        return [] if self.left_as_opened else super().changed_data

    def conflict(self, started_from: int, *, deleting: bool = False) -> ValidationError | None:
        """None when the save may go ahead; else the refusal, naming who saved and what changed."""
        if started_from == latest_version(self.instance):
            return None
        record = self.instance.history.filter(history_id=started_from).first() if started_from else None
        reverting = hasattr(self.instance, SIMPLE_HISTORY_REVERSE_ATTR_NAME)
        if record is not None and not (reverting or deleting) and not self.edited_since(record):
            self.left_as_opened = True
            return None
        return ValidationError(
            f"{CONFLICT} %(changes)s Your version is still in {self.where}: {AGAIN}",
            code="conflict",
            params={"changes": changes_since(self.instance, started_from)},
        )

    where = "the form below"

    def edited_since(self, record) -> bool:
        """Whether any field posted differs from the version `record`; a field it does not keep counts as edited."""
        opened = record.instance
        kept = {field.name for field in type(record).tracked_fields}
        sets = {field.name: field for field in record._history_m2m_fields}
        for name, field in self.fields.items():
            if name in ("edit_version", "DELETE", opened._meta.pk.name):
                continue
            if name in sets:
                target = sets[name].m2m_reverse_field_name() + "_id"
                initial = [getattr(row, target) for row in getattr(record, name).all()]
            elif name in kept:
                initial = opened._meta.get_field(name).value_from_object(opened)
            else:
                return True
            if field.has_changed(initial, self[name].data):
                return True
        return False


class VersionedForm(Versioned):
    """
    Carries the version the editor started from, and refuses a save over a newer one. The check
    runs under EditorAdmin's lock on the row (get_object, history_form_view): see the module's
    docstring.
    """

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
            refusal = self.conflict(data.get("edit_version") or 0)
            if refusal is not None:
                raise refusal
        return data


class VersionedInlineForm(Versioned):
    """An inline row (a stance of a point, a clause of a revision): the version it was opened at."""

    where = "this row"


class VersionedInlineFormSet(forms.BaseInlineFormSet):
    """
    The rows of an inline form, each checked as the object's own form is: a row the editor
    changed or deleted after a colleague saved it is refused with who saved it and what changed,
    on the row, and nothing of the whole form is saved (the admin saves nothing while a formset
    is invalid). Only the rows the editor changed (or marked for deletion) are written, so they
    alone are locked and checked: a colleague's save of another row, or of this row where the
    editor left it as it was, is kept, and both edits stand.
    """

    def get_form_kwargs(self, index):
        """An existing row's form, unbound, starts from the row's newest version (one query for all rows)."""
        kwargs = super().get_form_kwargs(index)
        if not self.is_bound and index is not None and index < self.initial_form_count():
            if not hasattr(self, "_opened"):
                self._opened = latest_versions(self.model, self.get_queryset().values("pk"))
            pk = self.get_queryset()[index].pk
            kwargs["initial"] = {**kwargs.get("initial", {}), "edit_version": self._opened.get(pk, 0)}
        return kwargs

    def clean(self):
        super().clean()
        model = self.model
        written = [
            form
            for form in self.initial_forms
            if isinstance(form, Versioned)
            and form.instance.pk is not None
            and (form.has_changed() or marked_for_deletion(form))
        ]
        if model is None or not written or not hasattr(model, "history"):
            return
        lock_for_saving(model, using=router.db_for_write(model), pk__in=sorted(form.instance.pk for form in written))
        refused = 0
        for form in written:
            refusal = form.conflict(form.cleaned_data.get("edit_version") or 0, deleting=marked_for_deletion(form))
            if refusal is not None:
                form.add_error(None, refusal)
                refused += 1
        if refused:  # also for a row marked for deletion, whose own errors the formset would ignore
            raise ValidationError(
                "Someone else saved the rows marked below while you were editing them.", code="conflict"
            )


def marked_for_deletion(form) -> bool:
    """Whether the editor ticked the row's "Delete" box (what BaseFormSet._should_delete_form reads)."""
    return bool(getattr(form, "cleaned_data", {}).get(DELETION_FIELD_NAME, False))


def inline_conflicts(formsets) -> list[str]:
    """The conflict messages on the rows of these inline formsets, each naming its row."""
    found = []
    for formset in formsets:
        for form in formset.forms:
            if form.is_bound and form.has_error(NON_FIELD_ERRORS, code="conflict"):
                label = f"{form.instance._meta.verbose_name.capitalize()} “{truncatechars(str(form.instance), 80)}”"
                for error in form.errors.as_data()[NON_FIELD_ERRORS]:
                    if error.code == "conflict":
                        sentence = error.params["changes"] if error.params else ""
                        found.append(f"{label}: {sentence}" if sentence else label)
    return found


class EditorInline(admin.StackedInline):
    """Base of the inline forms of editable rows: each row carries its version and is checked on save."""

    form = VersionedInlineForm
    formset = VersionedInlineFormSet

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        return fields if "edit_version" in fields else [*fields, "edit_version"]


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

    def get_fields(self, request, obj=None):
        """An admin that lists its fields keeps the version the form was opened at among them (hidden)."""
        fields = list(super().get_fields(request, obj))
        return fields if "edit_version" in fields else [*fields, "edit_version"]

    def get_object(self, request, object_id, from_field=None):
        """
        On a POST (a save, a delete, an action from the change form), the row is locked before it
        is read, in the admin's transaction, and stays locked until the save commits: the version
        check then reads a history no other save can add to meanwhile (the module's docstring).
        """
        using = router.db_for_write(self.model)
        if request.method == "POST" and connections[using].in_atomic_block:
            field = self.model._meta.pk if from_field is None else self.model._meta.get_field(from_field)
            try:
                value = field.to_python(object_id)
            except (ValidationError, ValueError):
                return None
            lock_for_saving(self.model, using=using, **{field.name: value})
        return super().get_object(request, object_id, from_field)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """A form refused for its inline rows says so at its top too, naming the rows and what changed."""
        form = context["adminform"].form
        formsets = [inline.formset for inline in context.get("inline_admin_formsets") or []]
        found = inline_conflicts(formsets) if form.is_bound else []
        if found:
            form.add_error(
                None,
                ValidationError(
                    f"{CONFLICT} Rows of this form changed while you were editing them. {' '.join(found)} "
                    f"Nothing in this form was saved; your version is still in it, each refused row marked: {AGAIN}",
                    code="conflict",
                ),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        """
        One history record per save. A change form posted with nothing changed writes nothing: a
        record saying "saved, no change" would also be a new version, refusing as a conflict the
        save of anyone who opened the form before it. (A revert always saves: its form starts from
        the version, not from the object as it is.) With tracked many-to-many sets, the record is
        written once the form has set them (save_m2m), rather than one for the row and one per set.
        """
        reverting = hasattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME)
        if change and not reverting and not form.has_changed():  # edit_version never counts as a change
            form.save_m2m = lambda: None  # its sets as posted: today's, or those of the version the editor opened
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
        using = router.db_for_write(self.model)
        with transaction.atomic(using=using):
            # The object's row, locked before its version is checked; not an id: simple-history answers 404.
            if request.method == "POST":
                with suppress(ValidationError, ValueError):
                    lock_for_saving(self.model, using=using, pk=self.model._meta.pk.to_python(object_id))
            return super().history_form_view(request, object_id, version_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        """A bulk action the user may not run is refused (403, logged), not quietly ignored as Django does."""
        action = request.POST.get("action") if request.method == "POST" else None
        if action and action not in self.get_actions(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)
