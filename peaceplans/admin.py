"""
The editors' workshop, first cut: every model can be browsed, searched and corrected,
with its history (django-simple-history). The full editors' workflow is a later issue.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.forms import ModelChoiceField
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from peaceplans.compare import diff
from peaceplans.editing.admin_forms import (
    AnnotationForm,
    ClauseForm,
    ClauseRows,
    InlineForm,
    PointForm,
    StanceForm,
    StanceRows,
)
from peaceplans.editing.admin_history import EditorAdmin, EditorInline
from peaceplans.editing.choosers import PointChoosers, point_label, rank_points
from peaceplans.editing.workbench import workbench
from peaceplans.markup import note_preview
from peaceplans.models import Alias, Annotation, Clause, Event, Party, Plan, Point, Revision, Source, Stance, Topic

admin.site.site_header = "peaceplans editors"
admin.site.site_title = "peaceplans"


@admin.register(Plan)
class PlanAdmin(EditorAdmin):
    list_display = ["title", "slug"]
    search_fields = ["title", "slug"]


@admin.register(Party)
class PartyAdmin(EditorAdmin):
    list_display = ["name", "short_name", "slug", "colour", "sort_order"]
    search_fields = ["name", "slug"]


@admin.register(Topic)
class TopicAdmin(EditorAdmin):
    list_display = ["name", "slug", "sort_order"]
    search_fields = ["name", "slug"]


@admin.register(Source)
class SourceAdmin(EditorAdmin):
    list_display = ["outlet", "published_on", "kind", "via", "citable", "title"]
    list_filter = ["kind", "citable", "published_on"]
    search_fields = ["outlet", "title", "url", "via"]
    date_hierarchy = "published_on"


class ClauseInline(PointChoosers, EditorInline):
    """
    A revision's clauses; each row is checked for a colleague's save as the clause's own form is,
    and its point chosen by number or title from the revision's plan.
    """

    model = Clause
    form = InlineForm
    formset = ClauseRows
    extra = 0
    fields = [
        ("number", "point", "sort_order"),
        "text",
        "wording_note",
        ("dropped", "material_change"),
        "change_note",
        "sources",
    ]
    autocomplete_fields = ["point", "sources"]

    def get_queryset(self, request):
        """Each row's point and sources read with the rows, not once per row (choosers.LoadedChoices)."""
        return super().get_queryset(request).select_related("revision", "point__plan").prefetch_related("sources")


@admin.register(Revision)
class RevisionAdmin(EditorAdmin):
    list_display = ["title", "short_label", "plan", "published_on", "status", "wording", "public"]
    list_filter = ["public", "plan", "status", "wording", "authors", "published_on"]
    search_fields = ["title", "short_label", "slug", "summary", "provenance"]
    filter_horizontal = ["authors"]
    autocomplete_fields = ["sources"]
    inlines = [ClauseInline]
    actions = ["publish_selected", "unpublish_selected"]

    def get_changeform_initial_data(self, request):
        """A revision added here starts unpublished: readers see it once an editor has checked it and publishes it."""
        return {"public": False, **super().get_changeform_initial_data(request)}

    def has_publish_permission(self, request) -> bool:
        """Editors add revisions but do not change their record; publishing is a right of its own (migration 0009)."""
        return request.user.has_perm(f"{self.opts.app_label}.publish_revision")

    @admin.action(permissions=["publish"], description="Publish selected revisions")
    def publish_selected(self, request, queryset):
        from peaceplans.editing.services import revisions_publish

        count = revisions_publish(queryset, public=True)
        self.message_user(request, f"Published {count} revision{'s' if count != 1 else ''}.")

    @admin.action(permissions=["publish"], description="Unpublish selected revisions")
    def unpublish_selected(self, request, queryset):
        from peaceplans.editing.services import revisions_publish

        count = revisions_publish(queryset, public=False)
        self.message_user(
            request, f"Unpublished {count} revision{'s' if count != 1 else ''}: readers no longer see them."
        )

    def get_urls(self):
        paste = path("paste/", self.admin_site.admin_view(self.paste_view), name="peaceplans_revision_paste")
        return [paste, *super().get_urls()]

    def paste_view(self, request):
        """Paste a new draft (step 1), line its clauses up with the plan's points (step 2), import it."""
        from django.contrib import messages
        from django.shortcuts import redirect
        from django.template.response import TemplateResponse

        from peaceplans.editing.forms import ConfirmForm, PasteForm
        from peaceplans.editing.services import ImportProblem

        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PasteForm(request.POST if request.method == "POST" else None)
        confirm = None
        if form.is_bound and form.is_valid() and "edit" not in request.POST:
            confirm = ConfirmForm(form, request.POST if "confirm" in request.POST else None)
            if confirm.is_bound and confirm.is_valid():
                try:
                    result = confirm.save()
                except ImportProblem as problem:
                    confirm.add_error(None, str(problem))
                else:
                    self.message_user(request, confirm.success_message(result), messages.SUCCESS)
                    return redirect("admin:peaceplans_revision_change", result.revision.pk)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form, "confirm": confirm}
        context["title"] = "Confirm the new draft's points" if confirm else "Paste a new draft"
        step = "paste_confirm" if confirm else "paste"
        return TemplateResponse(request, f"admin/peaceplans/revision/{step}.html", context)


class StanceInline(PointChoosers, EditorInline):
    """
    Stances are recorded on the point they are about; each row is checked for a colleague's save,
    and answers a text of the point's plan.
    """

    model = Stance
    form = InlineForm
    formset = StanceRows
    extra = 0
    fields = [("party", "position", "stated_on"), "revision", "summary", ("quote", "speaker"), "source"]
    autocomplete_fields = ["source"]

    def get_queryset(self, request):
        """Each row's party, text and source read with the rows, not once per row."""
        return super().get_queryset(request).select_related("party", "point", "revision", "source")

    def get_formset(self, request, obj=None, **kwargs):
        """The texts offered are the point's plan's; each select's options are read once for all the rows."""
        formset = super().get_formset(request, obj, **kwargs)
        for name in ("party", "revision"):
            field = formset.form.base_fields.get(name)
            if not isinstance(field, ModelChoiceField) or field.queryset is None:
                continue
            if name == "revision" and obj is not None:
                field.queryset = field.queryset.filter(plan_id=obj.plan_id)
            field.choices = list(iter(field.iterator(field)))  # iter: no COUNT first
        return formset


@admin.register(Point)
class PointAdmin(PointChoosers, EditorAdmin):
    """
    A point, with its wording in every text and its stances shown beside the fields being edited
    (editing/workbench.py, templates/admin/peaceplans/point/change_form.html). Every chooser of a
    point searches here: by number, key and title, ranked (choosers.rank_points).
    """

    form = PointForm
    list_display = ["key", "label", "title", "topic", "plan", "sort_order"]
    list_display_links = ["key", "title"]
    list_filter = ["plan", "topic"]
    search_fields = ["key", "label", "title", "clauses__text"]
    autocomplete_fields = ["split_from"]
    radio_fields = {"plan": admin.VERTICAL}
    inlines = [StanceInline]

    def chooser_search(self, request, queryset, term):
        """What a point chooser lists for what was typed: choosers.rank_points, best first."""
        return rank_points(queryset.select_related("plan"), term)

    def chooser_label(self, point, *, with_plan=False) -> str:
        return point_label(point, with_plan=with_plan)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The change page shows the point's wording in every text and its stances beside the form."""
        if obj is not None and obj.pk is not None:
            context["workbench"] = workbench(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_formset(self, request, form, formset, change):
        """
        A stance added on a point belongs to that point's plan. The point is the formset's own
        instance: on the add page its stances' forms were built before it had a key to point to.
        """
        for inline_form in formset.forms:
            if formset.model is Stance and not inline_form.instance.plan_id:
                inline_form.instance.plan = formset.instance.plan
        super().save_formset(request, form, formset, change)


@admin.register(Clause)
class ClauseAdmin(PointChoosers, EditorAdmin):
    form = ClauseForm
    list_display = ["number", "revision", "point", "dropped", "material_change"]
    list_filter = ["revision__plan", "revision", "dropped", "material_change", "point__topic"]
    search_fields = ["text", "change_note", "wording_note", "number", "point__key", "point__title"]
    list_select_related = ["revision", "point"]
    autocomplete_fields = ["point", "sources"]
    readonly_fields = ["change_against_previous"]

    @admin.display(description="Change against the previous revision")
    def change_against_previous(self, clause):
        """Word-level difference from the same point's wording in the revision before this one."""
        if not clause.pk:
            return "Shown once the clause is saved."
        previous = (
            Clause.objects.filter(point_id=clause.point_id, revision__plan_id=clause.revision.plan_id)
            .filter(revision__published_on__lte=clause.revision.published_on)
            .exclude(revision_id=clause.revision_id)
            .exclude(revision__published_on=clause.revision.published_on, revision_id__gt=clause.revision_id)
            .select_related("revision")
            .order_by("-revision__published_on", "-revision_id")
            .first()
        )
        if previous is None:
            return "This is the point's first wording."
        old = None if previous.dropped else previous.text
        new = None if clause.dropped else clause.text
        # render_to_string autoescapes the text; diff.py returns plain-text operations.
        return render_to_string(
            "peaceplans/admin/clause_diff.html", {"previous": previous, "result": diff.compare(old, new)}
        )


@admin.register(Stance)
class StanceAdmin(PointChoosers, EditorAdmin):
    form = StanceForm
    list_display = ["party", "position", "point", "revision", "stated_on", "speaker"]
    list_filter = ["plan", "party", "position", "stated_on", "source__kind"]
    search_fields = ["summary", "quote", "speaker", "source__outlet", "point__key", "point__title"]
    list_select_related = ["party", "point", "revision"]
    fields = ["plan", "point", "revision", "party", "position", "stated_on", "summary", "quote", "speaker", "source"]
    # Choosers whose labels wrap (a text's whole title, a point's), and the plan as radio buttons: never cut.
    autocomplete_fields = ["point", "revision", "source"]
    radio_fields = {"plan": admin.VERTICAL}
    date_hierarchy = "stated_on"

    def get_changeform_initial_data(self, request):
        """
        A new stance starts in its point's plan (an "Add stance" link names the point), or in the
        only plan there is; the link's own values (plan, point, revision) come first.
        """
        initial = super().get_changeform_initial_data(request)
        if "plan" not in initial:
            chosen = str(initial.get("point", ""))
            point = Point.objects.filter(pk=chosen).first() if chosen.isdigit() else None
            plans = list(Plan.objects.values_list("pk", flat=True)[:2]) if point is None else [point.plan_id]
            if len(plans) == 1:
                initial["plan"] = plans[0]
        return initial


@admin.register(Event)
class EventAdmin(EditorAdmin):
    list_display = ["date", "title", "plan"]
    list_filter = ["plan", "parties", "date"]
    search_fields = ["title", "summary"]
    autocomplete_fields = ["source"]
    filter_horizontal = ["parties"]
    date_hierarchy = "date"


@admin.register(Annotation)
class AnnotationAdmin(PointChoosers, EditorAdmin):
    form = AnnotationForm
    list_display = ["point", "status", "author", "updated_at"]
    list_filter = ["status", "point__plan", "author"]
    search_fields = ["body", "point__title", "point__key"]
    list_select_related = ["point", "author"]
    autocomplete_fields = ["point"]
    readonly_fields = ["author", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        preview = path("preview/", self.admin_site.admin_view(self.preview_view), name="peaceplans_annotation_preview")
        return [preview, *super().get_urls()]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """The body's textarea sends its Markdown to the preview as the editor types (htmx; see change_form.html)."""
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name == "body":
            field.widget.attrs.update(
                {
                    "hx-post": reverse(f"{self.admin_site.name}:peaceplans_annotation_preview"),
                    "hx-trigger": "input changed delay:300ms, load",
                    "hx-params": "body,csrfmiddlewaretoken",
                    "hx-target": "#annotation-preview",
                    "hx-sync": "this:replace",
                }
            )
        return field

    @method_decorator(require_POST)
    def preview_view(self, request):
        """A note's Markdown as the public pages will show it, through the same sanitizer."""
        if not (self.has_change_permission(request) or self.has_add_permission(request)):
            raise PermissionDenied
        return HttpResponse(note_preview(request.POST.get("body", "")))


@admin.register(Alias)
class AliasAdmin(EditorAdmin):
    """Equivalent spellings for search and the paste page's alignment: one line per equivalence."""

    list_display = ["spellings", "note"]
    search_fields = ["spellings", "note"]
