"""
Filters of the stance matrix and of the timeline. In the matrix, topic and text narrow the
points in the database; party and position apply to each party's latest stance, which the
matrix computes in Python anyway (tables.matrix_rows), so the page keeps its fixed number
of queries. The timeline's one filter, party, narrows its events here and its revisions in
timeline.py.
"""

import re

import django_filters
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.forms.renderers import DjangoTemplates
from django.template.loader import get_template

from peaceplans.models import Clause, Event, Party, Plan, Point, Position, Revision, Stance, Topic

MAX_QUERY_CHARS = 200
# Parameters the overview reads once each; a repeated one is a malformed address, not a choice.
SINGLE_VALUED = ("on", "topic", "party", "position", "q", "sort", "page")
LATEST = "latest"  # ?on=latest: each party's latest statement, whatever text it answers
# Any quote mark typed matches any quote mark stored: "Russia's" finds “Russia’s”.
QUOTES = "\"'`´‘’‚‛“”„‟«»‹›"


def text_pattern(text: str) -> str:
    """
    A regular expression for a search phrase, for `iregex`: letters and digits literally,
    any quote mark for any quote mark, any run of spaces for any whitespace. `iregex` rather
    than `icontains` because SQLite's LIKE folds the case of ASCII letters only, and
    journalists search in Ukrainian and Russian too.
    """
    words = []
    for word in text.split():
        words.append("".join(f"[{QUOTES}]" if char in QUOTES else re.escape(char) for char in word))
    return r"\s+".join(words)


def error_messages(form: forms.Form) -> list[str]:
    """A filter form's problems as sentences naming the filter (its non-field errors first)."""
    messages = [str(message) for message in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name != NON_FIELD_ERRORS:
            messages += [f"{form.fields[name].label}: {error}" for error in errors]
    return messages


class FilterTemplates(DjangoTemplates):
    """
    The filter forms' renderer: Django's form templates, and the site's own (templates/) for the
    widgets named "peaceplans/…". One instance, so each template is compiled once per process.
    """

    def get_template(self, template_name):
        if template_name.startswith("peaceplans/"):
            return get_template(template_name)
        return super().get_template(template_name)


class Select(forms.Select):
    """A <select> rendered by one template, not one include per option (templates/peaceplans/components/select.html)."""

    template_name = "peaceplans/components/select.html"

    def get_context(self, name, value, attrs):
        """Django's, with the options as one flat list: the filters have no <optgroup>, each "group" is one option."""
        context = super().get_context(name, value, attrs)
        context["widget"]["options"] = [option for _, group, _ in context["widget"]["optgroups"] for option in group]
        return context


class SearchInput(forms.SearchInput):
    """An <input type="search"> rendered by one template (templates/peaceplans/components/input.html)."""

    template_name = "peaceplans/components/input.html"


class MatrixFilterForm(forms.Form):
    """The filters' form; it also refuses an address that gives one parameter twice."""

    default_renderer = FilterTemplates()
    single_valued: tuple[str, ...] = SINGLE_VALUED

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        getlist = getattr(self.data, "getlist", None)
        if getlist is None:  # a plain dict of data, not a query
            return data
        for name in self.single_valued:
            count = len(getlist(name))
            if count > 1:
                raise ValidationError(
                    "“%(name)s” was given %(count)s times in the address; give it once.",
                    code="repeated",
                    params={"name": name, "count": count},
                )
        return data


class MatrixFilterSet(django_filters.FilterSet):
    """What a journalist can narrow the stance matrix by; every value is checked, none guessed."""

    on = django_filters.ChoiceFilter(
        method="on_text",
        widget=Select,
        label="Positions on",
        empty_label=None,
        help_text="Each party's latest statement, whatever text it answers, or its stance on one text's wording.",
        error_messages={
            "invalid_choice": "“%(value)s” is not one of this plan's texts: choose “latest” (each party's latest "
            "statement) or a text's short name, such as us-28-point-draft."
        },
    )
    topic = django_filters.ChoiceFilter(
        field_name="topic__slug", widget=Select, label="Topic", empty_label="All topics"
    )
    party = django_filters.ChoiceFilter(
        method="on_latest_stances",
        widget=Select,
        label="Party",
        empty_label="Any party",
        help_text="Points where this party has a recorded position.",
    )
    position = django_filters.ChoiceFilter(
        choices=Position.choices,
        method="on_latest_stances",
        widget=Select,
        label="Latest position",
        empty_label="Any position",
        help_text="The chosen party's latest position, or any party's.",
    )
    q = django_filters.CharFilter(
        method="matching_text",
        label="Words",
        max_length=MAX_QUERY_CHARS,
        widget=SearchInput,
        help_text="In the number, title or any wording of the point, e.g. 600,000.",
    )

    class Meta:
        model = Point
        fields: list[str] = []
        form = MatrixFilterForm

    def __init__(self, data, *, plan: Plan, parties: list[Party], texts: list[Revision] | None = None):
        """`texts`: the plan's public revisions in order, when the caller has them already."""
        super().__init__(data, queryset=plan.points.public().for_matrix())
        self.texts = list(plan.revisions.public().in_order()) if texts is None else texts
        self.labels = {text.pk: text.label for text in self.texts}
        choices = [(LATEST, "latest statement")] + [
            (text.slug, f"the {text.label} text · {text.published_on.day} {text.published_on:%b %Y}")
            for text in self.texts
        ]
        self.filters["on"].extra["choices"] = choices
        topics = Topic.objects.of_plan(plan)
        self.filters["topic"].extra["choices"] = [(topic.slug, topic.name) for topic in topics]
        self.filters["party"].extra["choices"] = [(party.slug, party.name) for party in parties]
        self.parties = {party.slug: party for party in parties}

    def matching_text(self, queryset, name, value):
        """Points whose key, title or any clause's text contains the phrase, each point once."""
        pattern = text_pattern(value)
        if not pattern:
            return queryset
        in_clauses = Exists(Clause.objects.public().filter(point=OuterRef("pk"), text__iregex=pattern))
        return queryset.filter(Q(key__iregex=pattern) | Q(title__iregex=pattern) | in_clauses)

    def on_text(self, queryset, name, value):
        """With one text in view, the points it words or drops, or on which a party answered it."""
        text = self.text
        if text is None:
            return queryset
        answered = Stance.objects.public().filter(point=OuterRef("pk"), revision=text)
        return queryset.filter(Exists(Clause.objects.filter(point=OuterRef("pk"), revision=text)) | Exists(answered))

    @property
    def text(self) -> Revision | None:
        """The text whose wording the cells answer (?on=<slug>), or None for each party's latest statement."""
        slug = self.form.cleaned_data.get("on") if self.is_valid() else None
        return next((text for text in self.texts if text.slug == slug), None)

    def on_latest_stances(self, queryset, name, value):
        """Party and position are applied to the computed latest stances by `rows()`."""
        return queryset

    @property
    def is_active(self) -> bool:
        """Whether any filter narrows the matrix (sorting and paging do not)."""
        return self.is_valid() and any(value for name, value in self.form.cleaned_data.items() if name != "on")

    @property
    def on_positions(self) -> bool:
        """Whether the party or position filter is set: the rows then depend on every point's latest stances."""
        return self.is_valid() and bool(self.form.cleaned_data.get("party") or self.form.cleaned_data.get("position"))

    def keep(self, stances: dict) -> bool:
        """Whether a row, given {party slug: latest stance or None}, passes the party and position filters."""
        party, position = self.form.cleaned_data.get("party"), self.form.cleaned_data.get("position")
        if party:
            stance = stances.get(party)
            return stance is not None and (not position or stance.position == position)
        if position:
            return any(stance is not None and stance.position == position for stance in stances.values())
        return True

    def error_messages(self) -> list[str]:
        """Every problem with the filters, as sentences naming the filter, for a 400 page or text."""
        return error_messages(self.form)


class TimelineFilterForm(MatrixFilterForm):
    """The timeline's filter form: the same checks, on its one parameter."""

    single_valued = ("party",)


class TimelineFilterSet(django_filters.FilterSet):
    """What a journalist can narrow a plan's timeline by: one party (timeline.py narrows the revisions)."""

    party = django_filters.ChoiceFilter(
        field_name="parties__slug",
        widget=Select,
        label="Party",
        empty_label="All parties",
        help_text="Events involving this party, and the texts it wrote.",
    )

    class Meta:
        model = Event
        fields: list[str] = []
        form = TimelineFilterForm

    def __init__(self, data, *, plan: Plan, parties: list[Party]):
        super().__init__(data, queryset=plan.events.all())
        self.filters["party"].extra["choices"] = [(party.slug, party.name) for party in parties]
        self.parties = {party.slug: party for party in parties}

    @property
    def chosen_party(self) -> Party | None:
        """The party the timeline is narrowed to, once the filters are valid."""
        return self.parties.get(self.form.cleaned_data.get("party") or "") if self.is_valid() else None

    def error_messages(self) -> list[str]:
        """Every problem with the filter, as sentences naming it, for a 400 page or text."""
        return error_messages(self.form)
