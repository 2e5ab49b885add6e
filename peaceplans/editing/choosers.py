"""
The admin's point chooser: every field an editor fills with a point (a stance's, a note's, a
clause's, a point's "split from") is Django's own autocomplete (select2, files from 'self', so the
CSP holds), searched by the point's number, key and title and labelled as readers number it:
"21d · Donetsk demilitarised buffer zone". Typing "21d" puts point 21d first: an exact number or
key, then numbers and keys starting with what was typed, then titles starting with it, then any
title containing the words; plan order within each.

The plan's title joins the label only when there is more than one plan, where "6 · Army cap"
could be either plan's point 6. A point chosen from another plan than the stance's, the clause's
revision's or the point's own is refused with a sentence saying which plan each belongs to
(`check_same_plan`): the chooser lists every plan's points, and the plan is chosen on the form.
"""

from django import forms
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteMixin, AutocompleteSelect, AutocompleteSelectMultiple
from django.db.models import Case, IntegerField, Q, Value, When

from peaceplans.models import Plan, Point

# What an editor may type before a number ("point 21d", "no. 21d") and around it ("#21d", "21d.", "21d ·").
LEADING_WORDS = {"point", "no.", "nr."}
EDGE_PUNCTUATION = ".,;:·#()[]\"'“”‘’"
MAX_WORDS = 8  # a title is a few words; more would only make the query longer


def several_plans(request=None) -> bool:
    """Whether a point's number alone could be ambiguous: one query a request (remembered on it)."""
    known = getattr(request, "_peaceplans_several_plans", None)
    if known is None:
        known = Plan.objects.all()[:2].count() > 1
        if request is not None:
            request._peaceplans_several_plans = known
    return known


def point_label(point: Point, *, with_plan: bool = False) -> str:
    """How a chooser names a point: its number as readers see it, then its title (and its plan's, when asked)."""
    label = f"{point.number} · {point.title}"
    return f"{label} ({point.plan.title})" if with_plan else label


class PointChoiceField(forms.ModelChoiceField):
    """A point chosen in the admin, shown by number and title (never as "Point object (118)" or an id)."""

    def __init__(self, *args, with_plan: bool = False, **kwargs):
        self.with_plan = with_plan
        super().__init__(*args, **kwargs)
        if with_plan and self.queryset is not None:
            self.queryset = self.queryset.select_related("plan")

    def label_from_instance(self, obj) -> str:
        return point_label(obj, with_plan=self.with_plan)


def search_words(term: str) -> list[str]:
    """The words typed, without a leading "point" and the punctuation around a number ("point 21d." -> ["21d"])."""
    raw = term.split()
    if len(raw) > 1 and raw[0].lower() in LEADING_WORDS:
        raw = raw[1:]
    words = [word for word in (part.strip(EDGE_PUNCTUATION) for part in raw) if word]
    return words[:MAX_WORDS]


def rank_points(queryset, term: str):
    """
    The points matching every typed word in their number, key or title, best first: the first
    word as the exact number or key (0), as their start (1), the whole term as the title's start
    (2), the rest (3); plan order within a rank. Nothing typed: every point in plan order.
    """
    words = search_words(term)
    if not words:
        return queryset.order_by("plan__title", "sort_order", "pk")
    for word in words:
        queryset = queryset.filter(Q(key__icontains=word) | Q(label__icontains=word) | Q(title__icontains=word))
    first, phrase = words[0], " ".join(words)
    rank = Case(
        When(Q(key__iexact=first) | Q(label__iexact=first), then=Value(0)),
        When(Q(key__istartswith=first) | Q(label__istartswith=first), then=Value(1)),
        When(title__istartswith=phrase, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return queryset.annotate(chooser_rank=rank).order_by("chooser_rank", "plan__title", "sort_order", "pk")


class ChooserSearchView(AutocompleteJsonView):
    """
    The admin's autocomplete answers (admin.site.autocomplete_view), with two hooks a model's
    admin may give: `chooser_search(request, queryset, term)`, the ranked search, in place of the
    changelist's (which for points also reads every clause's text), and `chooser_label(obj, *,
    with_plan)`, the label, in place of str(obj). Permissions and the rest are Django's.
    """

    def get_queryset(self):
        search = getattr(self.model_admin, "chooser_search", None)
        if search is None:
            return super().get_queryset()
        queryset = self.model_admin.get_queryset(self.request).complex_filter(self.source_field.get_limit_choices_to())
        return search(self.request, queryset, self.term)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        labelled = hasattr(self.model_admin, "chooser_label")
        self.label_context = {"with_plan": several_plans(self.request)} if labelled else {}
        return context

    def serialize_result(self, obj, to_field_name):
        label = getattr(self.model_admin, "chooser_label", None)
        if label is None:
            return super().serialize_result(obj, to_field_name)
        return {"id": str(getattr(obj, to_field_name)), "text": label(obj, **self.label_context)}


class LoadedOptions(AutocompleteMixin, forms.Select):
    """
    An autocomplete widget that labels its chosen rows from `loaded` ({pk: label}, from rows the
    form's instance was read with: LoadedChoices) instead of one query per widget, as Django's
    does: a point's stances or a revision's clauses each have one, and the page would cost a query
    per row. Anything not loaded (a value posted back, a new row) is read as Django reads it.
    """

    loaded: dict[str, str] | None = None

    def optgroups(self, name, value, attr=None):
        chosen = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if self.loaded is None or not set(chosen) <= self.loaded.keys():
            return super().optgroups(name, value, attr)
        options = []
        if not self.is_required and not self.allow_multiple_selected:
            options.append(self.create_option(name, "", "", False, 0))
        for pk in dict.fromkeys(chosen):
            options.append(self.create_option(name, pk, self.loaded[pk], True, len(options)))
        return [(None, options, 0)]


class LoadedSelect(LoadedOptions, AutocompleteSelect):
    pass


class LoadedSelectMultiple(LoadedOptions, AutocompleteSelectMultiple):
    pass


class LoadedChoices(forms.ModelForm):
    """
    A form whose autocomplete widgets (LoadedOptions) label the rows its instance was read with
    (select_related, prefetch_related), so a page of inline rows asks nothing per row.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            return
        prefetched = getattr(self.instance, "_prefetched_objects_cache", {})
        for name, field in self.fields.items():
            widget = getattr(field.widget, "widget", field.widget)  # inside the admin's add/change links
            if not isinstance(widget, LoadedOptions) or not isinstance(field, forms.ModelChoiceField):
                continue
            model_field = self.instance._meta.get_field(name)
            if model_field.many_to_many:
                if name not in prefetched:
                    continue
                rows = list(prefetched[name])
            elif model_field.is_cached(self.instance):
                row = getattr(self.instance, name)
                rows = [row] if row is not None else []
            else:
                continue
            widget.loaded = {str(row.pk): field.label_from_instance(row) for row in rows}


class PointChoosers(BaseModelAdmin):
    """
    A model admin's (or inline's) mixin: its autocomplete fields use the LoadedOptions widgets,
    and a field choosing a point is a PointChoiceField (labelled by number and title, the plan's
    title too when there are several).
    """

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = LoadedSelect(db_field, self.admin_site, using=kwargs.get("using"))
        if db_field.related_model is Point:
            kwargs.setdefault("form_class", PointChoiceField)
            kwargs.setdefault("with_plan", several_plans(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = LoadedSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def plan_of(obj) -> Plan | None:
    """The plan a point, revision or plan belongs to (None for None), read from the row already loaded."""
    if obj is None or isinstance(obj, Plan):
        return obj
    return obj.plan


def check_same_plan(form: forms.BaseForm, plan: Plan | None, what: str, **fields) -> None:
    """
    Add an error to each of `fields` (name: the point or revision chosen) that belongs to another
    plan than `plan`, `what` naming whose plan that is ("the stance's plan"). Nothing when the plan
    is not known yet (its own field has an error of its own).
    """
    if plan is None:
        return
    for name, chosen in fields.items():
        other = plan_of(chosen)
        if chosen is None or other is None or other.pk == plan.pk:
            continue
        shown = point_label(chosen) if isinstance(chosen, Point) else str(chosen)
        kind = "Point" if isinstance(chosen, Point) else "The revision"
        form.add_error(
            name,
            forms.ValidationError(
                "%(kind)s “%(shown)s” belongs to the plan “%(other)s”, not to “%(plan)s”, %(what)s: "
                "choose one of “%(plan)s”.",
                code="other_plan",
                params={"kind": kind, "shown": shown, "other": other.title, "plan": plan.title, "what": what},
            ),
        )
