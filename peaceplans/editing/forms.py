"""
Forms of the editors' workshop: pasting a new draft, in two steps.

Step 1 (PasteForm) takes the revision's details, its sources and the pasted text. Step 2
(ConfirmForm) lines each clause up with an existing point or makes it a new one; it
carries step 1's data as hidden fields, and step 1 is validated again on every POST.
"""

from functools import cached_property

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.utils.text import slugify

from peaceplans.editing import alignment, paste
from peaceplans.editing import proposals as plan_proposals
from peaceplans.editing.services import ImportResult, revision_create_from_paste
from peaceplans.markup import highlight
from peaceplans.models import MAX_SUMMARY_CHARS, Party, Plan, RevisionStatus, Source, SourceKind, Topic

# The point keys a new revision's new points get ("<slug>-<number>") allow no other characters.
slug_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]*$", "Use lower-case letters, digits and hyphens only, for example us-draft-2025-12-20."
)


class PastedTextField(forms.CharField):
    """The pasted draft: parse_clauses() says what is wrong with a NUL character, and where."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class PasteForm(forms.Form):
    """Step 1: the new revision's details and its text, pasted."""

    plan = forms.ModelChoiceField(Plan.objects.all())
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"class": "vTextField"}))
    slug = forms.CharField(
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
        help_text="Used in addresses. Leave empty to make it from the title.",
    )
    published_on = forms.DateField(
        label="Date",
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="When the text was published or agreed, as best known (YYYY-MM-DD).",
    )
    authors = forms.ModelMultipleChoiceField(
        Party.objects.all(), label="Authoring parties", widget=forms.CheckboxSelectMultiple
    )
    status = forms.ChoiceField(choices=[("", "---------"), *RevisionStatus.choices])
    summary = forms.CharField(
        required=False,
        max_length=MAX_SUMMARY_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
        help_text="Optional: two or three sentences on what this text changes.",
    )
    sources = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"}),
        help_text="One a line: “URL | outlet | YYYY-MM-DD | kind”, where kind is one of "
        f"{', '.join(SourceKind.values)}; or the URL alone for a source already in the database.",
    )
    text = PastedTextField(
        label="Pasted text",
        error_messages={"required": "The text is empty: paste the draft, one numbered clause after another."},
        widget=forms.Textarea(attrs={"rows": 20, "class": "vLargeTextField"}),
        help_text=f"Each clause starts a line with its number: {paste.NUMBER_EXAMPLES}. "
        "Lines that follow belong to the same clause.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clauses: list[paste.PastedClause] = []
        self.pasted_sources: list[paste.PastedSource] = []
        if not self.is_bound:
            self.initial.setdefault("plan", Plan.objects.filter(slug=settings.FEATURED_PLAN).first())

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        try:
            self.clauses = paste.parse_clauses(text)
        except paste.PasteError as exc:
            raise ValidationError(exc.message) from None
        most = confirmable_clauses()
        if most is not None and len(self.clauses) > most:
            raise ValidationError(
                f"The text has {len(self.clauses):,} numbered clauses; the confirm page can line up at most "
                f"{most:,} at once (DATA_UPLOAD_MAX_NUMBER_FIELDS). Import a text this long with the "
                "import_revision command."
            )
        return text

    def clean_sources(self) -> str:
        text = self.cleaned_data["sources"]
        try:
            self.pasted_sources = paste.parse_sources(text, SourceKind.values)
        except paste.PasteError as exc:
            raise ValidationError(exc.message) from None
        bare = [s for s in self.pasted_sources if s.bare]
        known = set(Source.objects.filter(url__in=[s.url for s in bare]).values_list("url", flat=True))
        for source in bare:
            if source.url not in known:
                raise ValidationError(
                    f"Sources, line {source.line}: {source.url} is not in the database yet; "
                    "give it as “URL | outlet | YYYY-MM-DD | kind”."
                )
        return text

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; its stub allows None
        if "title" in data and not data.get("slug"):
            data["slug"] = slugify(data["title"]).replace("_", "-").strip("-")[:80].strip("-")
            if not data["slug"]:
                self.add_error("slug", "The title has no letters a–z or digits to make a slug from: give one.")
                return data
        if data.get("slug"):
            try:
                slug_validator(data["slug"])
            except ValidationError as exc:
                self.add_error("slug", exc)
                return data
        plan, slug = data.get("plan"), data.get("slug")
        if plan and slug and plan.revisions.filter(slug=slug).exists():
            self.add_error(
                "slug",
                f"{plan} already has a revision “{slug}”. This page creates new revisions; "
                "choose another slug, or update that one with the import_revision command.",
            )
        return data


def confirmable_clauses() -> int | None:
    """How many clauses the confirm page can carry: two fields a clause, under Django's field limit."""
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if limit is None:
        return None
    step_one = len(PasteForm.base_fields) + Party.objects.count() + 3  # authors are one field each, + csrf, button
    return max(0, (limit - step_one) // 2)


class ConfirmForm(forms.Form):
    """
    Step 2: the point each pasted clause answers, typed (a number, words of a title, "new
    point", "split from 12"; the page offers an autocomplete), and the topic of each new point.
    """

    NEW = paste.NEW_POINT  # what to type for a new point
    threshold = round(alignment.DEFAULT.threshold * 100)

    def __init__(self, pasted: PasteForm, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pasted = pasted
        self.plan: Plan = pasted.cleaned_data["plan"]
        self.plan_points = plan_proposals.plan_points(self.plan)
        self.points = self.plan_points.points
        self.named = {p.key: paste.Named(p.key, p.number, p.title) for p in self.points}
        topics = list(Topic.objects.all())
        self.default_topic = next((t.slug for t in topics if t.slug == "other"), topics[0].slug if topics else "")
        topic_choices = [(t.slug, t.name) for t in topics]
        self.topic_of = {p.key: p.topic.slug for p in self.points}
        firsts = [c[0] for c in self.proposals] if not self.is_bound else [None] * len(pasted.clauses)
        for n, (clause, first) in enumerate(zip(pasted.clauses, firsts, strict=True)):
            key = first.key if first else None
            initial = paste.choice_label(paste.Chosen(key, bool(first and first.split)), self.named)
            self.fields[f"clause-{n}-point"] = forms.CharField(
                max_length=300,
                initial=initial,
                label=f"Point for clause {clause.number}",
                error_messages={"required": f"Type a point's number, words of its title, or “{paste.NEW_POINT}”."},
                widget=forms.TextInput(attrs={"list": "plan-points", "autocomplete": "off", "class": "point-choice"}),
            )
            self.fields[f"clause-{n}-topic"] = forms.ChoiceField(
                choices=topic_choices,
                initial=self.topic_of.get(key or "", self.default_topic),
                label="Topic, if a new point",
            )

    @cached_property
    def carried(self) -> PasteForm:
        """Step 1's data, to render as hidden fields (without ids, which would repeat nothing useful)."""
        return PasteForm(self.pasted.data, auto_id=False)

    @cached_property
    def proposals(self) -> list[list[alignment.Choice]]:
        """Each clause's proposals, best first (alignment.propose over the whole draft)."""
        return plan_proposals.propose(self.plan_points, self.pasted.clauses)

    def options(self) -> list[str]:
        """The autocomplete's entries: a new point, every point by number and title, then splits of each."""
        labels = [named.label for named in self.named.values()]
        return [paste.NEW_POINT, *labels, *(f"split from {label}" for label in labels)]

    def rows(self) -> list[dict]:
        """One row of the confirm table per clause: its text, marked for the first proposal, and the proposals."""
        rows = []
        for n, (clause, choices) in enumerate(zip(self.pasted.clauses, self.proposals, strict=True)):
            rows.append(
                {
                    "clause": clause,
                    "text": highlight(clause.text, choices[0].spans if choices[0].key else ()),
                    "proposals": [self._proposal(clause, choice) for choice in choices],
                    "point": self[f"clause-{n}-point"],
                    "topic": self[f"clause-{n}-topic"],
                }
            )
        return rows

    def _proposal(self, clause: paste.PastedClause, choice: alignment.Choice) -> dict:
        words = list(dict.fromkeys(clause.text[start:end] for start, end in choice.spans))
        return {
            "label": paste.choice_label(paste.Chosen(choice.key, choice.split), self.named),
            "percent": choice.percent,
            "new": choice.key is None,
            "split": choice.split,
            "taken": "" if choice.split else choice.taken,
            "words": words,
            "reason": choice.reason,
        }

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; its stub allows None
        named = list(self.named.values())
        self.chosen: list[paste.Chosen | None] = []
        for n in range(len(self.pasted.clauses)):
            typed = data.get(f"clause-{n}-point")
            chosen = None
            if typed is not None:
                try:
                    chosen = paste.read_choice(typed, named)
                except paste.PasteError as exc:
                    self.add_error(f"clause-{n}-point", exc.message)
            self.chosen.append(chosen)
        answered: dict[str, list[int]] = {}
        for n, chosen in enumerate(self.chosen):
            if chosen and chosen.key and not chosen.split:
                answered.setdefault(chosen.key, []).append(n)
        numbers = [c.number for c in self.pasted.clauses]
        for key, ns in answered.items():
            if len(ns) > 1:
                listed = [numbers[n] for n in ns]
                raise ValidationError(
                    f"Clauses {', '.join(listed[:-1])} and {listed[-1]} are matched to the same point, {key}; "
                    "a point has one clause per revision. Match all but one of them to another point, make "
                    f"them new points, or “split from {key}” if the new text divides the point."
                )
        for n, chosen in enumerate(self.chosen):
            if chosen and chosen.split:
                keeper = answered.get(chosen.key or "", [None])[0]
                if keeper is None:
                    self.add_error(
                        f"clause-{n}-point",
                        f"No clause is matched to {chosen.key} itself: match one clause to {chosen.key} "
                        f"and the others “split from {chosen.key}”.",
                    )
                elif keeper > n:
                    self.add_error(
                        f"clause-{n}-point",
                        f"Clause {numbers[keeper]}, after this one, keeps {chosen.key}; the first clause that "
                        f"answers a point keeps it. Match this clause to {chosen.key} and clause "
                        f"{numbers[keeper]} “split from {chosen.key}”.",
                    )
        return data

    def choices(self) -> list[tuple[str | None, str]]:
        """(point key or None for a new point, topic slug) per clause, once valid (a split: the point it divides)."""
        return [
            (chosen.key if chosen else None, self.cleaned_data[f"clause-{n}-topic"])
            for n, chosen in enumerate(self.chosen)
        ]

    def save(self) -> ImportResult:
        """Import the new revision (all or nothing); raises ImportProblem."""
        data = self.pasted.cleaned_data
        revision = paste.import_data(
            slug=data["slug"],
            title=data["title"],
            authors=[party.slug for party in data["authors"]],
            published_on=data["published_on"],
            status=data["status"],
            summary=data["summary"],
            sources=self.pasted.pasted_sources,
            clauses=self.pasted.clauses,
            points=self.choices(),
        )
        return revision_create_from_paste(data=revision, plan_slug=self.plan.slug)

    def success_message(self, result: ImportResult) -> str:
        matched = sum(1 for chosen in self.chosen if chosen and chosen.key and not chosen.split)
        clauses = len(self.pasted.clauses)
        return (
            f"Created “{result.revision.title}” with {clauses} clause{'s' if clauses != 1 else ''}: "
            f"{matched} matched to existing points, {len(result.points_created)} new. It is unpublished: check it, "
            "then show it to readers with the action “Publish selected revisions” on the list of revisions."
        )
