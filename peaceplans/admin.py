"""
The editors' workshop, first cut: every model can be browsed, searched and corrected,
with its history (django-simple-history). The full editors' workflow is a later issue.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Annotation, Clause, Event, Party, Plan, Point, Revision, Source, Stance, Topic

admin.site.site_header = "peaceplans editors"
admin.site.site_title = "peaceplans"


@admin.register(Plan)
class PlanAdmin(SimpleHistoryAdmin):
    list_display = ["title", "slug"]
    search_fields = ["title", "slug"]


@admin.register(Party)
class PartyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "short_name", "slug", "colour", "sort_order"]
    search_fields = ["name", "slug"]


@admin.register(Topic)
class TopicAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "sort_order"]
    search_fields = ["name", "slug"]


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["outlet", "published_on", "kind", "via", "citable", "title"]
    list_filter = ["kind", "citable", "published_on"]
    search_fields = ["outlet", "title", "url", "via"]
    date_hierarchy = "published_on"


class ClauseInline(admin.StackedInline):
    model = Clause
    extra = 0
    fields = [("number", "point", "sort_order"), "text", ("dropped", "material_change"), "change_note", "sources"]
    raw_id_fields = ["point"]
    autocomplete_fields = ["sources"]


@admin.register(Revision)
class RevisionAdmin(SimpleHistoryAdmin):
    list_display = ["title", "plan", "published_on", "status"]
    list_filter = ["plan", "status", "authors", "published_on"]
    search_fields = ["title", "slug", "summary", "provenance"]
    filter_horizontal = ["authors"]
    autocomplete_fields = ["sources"]
    inlines = [ClauseInline]


@admin.register(Point)
class PointAdmin(SimpleHistoryAdmin):
    list_display = ["key", "title", "topic", "plan", "sort_order"]
    list_filter = ["plan", "topic"]
    search_fields = ["key", "title", "clauses__text"]
    raw_id_fields = ["split_from"]


@admin.register(Clause)
class ClauseAdmin(SimpleHistoryAdmin):
    list_display = ["number", "revision", "point", "dropped", "material_change"]
    list_filter = ["revision__plan", "revision", "dropped", "material_change", "point__topic"]
    search_fields = ["text", "change_note", "number", "point__key", "point__title"]
    list_select_related = ["revision", "point"]
    raw_id_fields = ["point"]
    autocomplete_fields = ["sources"]


@admin.register(Stance)
class StanceAdmin(SimpleHistoryAdmin):
    list_display = ["party", "position", "point", "revision", "stated_on", "speaker"]
    list_filter = ["plan", "party", "position", "stated_on", "source__kind"]
    search_fields = ["summary", "quote", "speaker", "source__outlet", "point__title"]
    list_select_related = ["party", "point", "revision"]
    raw_id_fields = ["point"]
    autocomplete_fields = ["source"]
    date_hierarchy = "stated_on"


@admin.register(Event)
class EventAdmin(SimpleHistoryAdmin):
    list_display = ["date", "title", "plan"]
    list_filter = ["plan", "parties", "date"]
    search_fields = ["title", "summary"]
    autocomplete_fields = ["source"]
    filter_horizontal = ["parties"]
    date_hierarchy = "date"


@admin.register(Annotation)
class AnnotationAdmin(SimpleHistoryAdmin):
    list_display = ["point", "status", "author", "updated_at"]
    list_filter = ["status", "point__plan", "author"]
    search_fields = ["body", "point__title", "point__key"]
    raw_id_fields = ["point"]
    readonly_fields = ["author", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)
