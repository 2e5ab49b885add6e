"""What is said about the texts: the parties' stances, timeline events, editors' notes, and the data version."""

import datetime
import secrets
from typing import NamedTuple, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.functions import Cast, RowNumber
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from peaceplans.markup import SafeHtml, note_html, stored_note_html
from peaceplans.models.choices import (
    MAX_QUOTE_WORDS,
    MAX_SUMMARY_CHARS,
    POSITION_LABELS,
    AnnotationStatus,
    Position,
)
from peaceplans.models.texts import Party, Plan, Point, PointQuerySet, Revision, Source
from peaceplans.models.version import VersionedQuerySet


class StanceQuerySet(VersionedQuerySet):
    def public(self):
        """
        Stances readers may see: not those answering an unpublished revision, nor those on a point
        worded only in unpublished revisions (a point readers cannot see).
        """
        hidden = Revision.objects.unpublished_ids()
        return self.exclude(revision__in=hidden).exclude(point__in=Point.objects.only_in_unpublished())

    def with_sources(self):
        """Stances as the public pages show them: party, speaker's source and revision joined."""
        return self.select_related("party", "source", "revision__plan", "point__plan")

    def on_points(self):
        return self.filter(point__isnull=False)

    def chronological(self):
        return self.order_by("stated_on", "pk")

    def latest_per_pair(self):
        """
        The most recent stance of each (point, party) pair, in one query whatever the number of
        stances: the database picks them (a window function), so a page builds one object per
        cell, not one per stance ever recorded.
        """
        pair, newest_first = ["point_id", "party_id"], [models.F("stated_on").desc(), models.F("pk").desc()]
        rank = models.Window(RowNumber(), partition_by=[models.F(f) for f in pair], order_by=newest_first)
        return self.on_points().annotate(rank=rank).filter(rank=1).order_by()

    def latest_per_point(self, *, party: "Party | None" = None) -> dict:
        """{(point id, party id): the most recent stance}: the party page needs one per pair, not the history."""
        qs = self if party is None else self.filter(party=party)
        return {(s.point_id, s.party_id): s for s in qs.latest_per_pair()}

    def latest_cells(self) -> dict:
        """
        {(point id, party id): LatestStance}: what the stance matrix shows of each latest stance,
        as plain tuples (a model object per cell cost more than the rest of the page).
        """
        rows = self.latest_per_pair().values_list(*LatestStance._fields)
        return {(row[1], row[2]): LatestStance(*row) for row in rows}

    def latest_per_text(self):
        """
        The most recent stance of each (point, party, text answered) triple, each annotated with
        `total`, the number of stances its (point, party) pair has on any text: one query
        whatever the number of stances (window functions, counted before the filter). Tuned for
        the matrix, which shows a party's latest stance on one text, names the others, and says
        how many more the party's history holds.
        """
        pair = [models.F("point_id"), models.F("party_id")]
        newest_first = [models.F("stated_on").desc(), models.F("pk").desc()]
        rank = models.Window(RowNumber(), partition_by=[*pair, models.F("revision_id")], order_by=newest_first)
        total = models.Window(models.Count("pk"), partition_by=pair)
        return self.on_points().annotate(rank=rank, total=total).filter(rank=1).order_by()

    def cells_per_text(self, *, objects: bool = False) -> dict:
        """
        {(point id, party id): [stance, ...] newest first}, the party's latest stance on each text
        it answered on that point: what the stance matrix shows, as plain TextStance tuples (a
        model object per cell cost more than the rest of the page), or with `objects` as Stances
        annotated with `total` and with whatever the caller joined (the CSV wants the sources).
        The tuples are picked here from the stances as plain values, one query: for the points of
        one page of the matrix that is a few hundred tuples, and the database's window functions
        (latest_per_text, which `objects` uses) took longer to compile and to run than this loop.
        """
        cells: dict = {}
        if objects:
            for stance in self.latest_per_text():
                cells.setdefault((stance.point_id, stance.party_id), []).append(stance)
        else:
            latest: dict = {}
            totals: dict = {}
            for row in self.on_points().order_by().values_list(*TextStance._fields[:-1]):
                pair = (row[1], row[2])
                totals[pair] = totals.get(pair, 0) + 1
                on_text = latest.get((*pair, row[3]))
                if on_text is None or (row[5], row[0]) > (on_text[5], on_text[0]):
                    latest[(*pair, row[3])] = row
            for row in latest.values():
                cells.setdefault((row[1], row[2]), []).append(TextStance._make((*row, totals[(row[1], row[2])])))
        for stances in cells.values():
            stances.sort(key=lambda s: (s.stated_on, s.pk), reverse=True)
        return cells


class LatestStance(NamedTuple):
    """A party's latest stance on a point as a matrix cell shows it (StanceQuerySet.latest_cells)."""

    pk: int
    point_id: int
    party_id: int
    position: str
    stated_on: datetime.date
    speaker: str


class TextStance(NamedTuple):
    """
    A party's latest stance on a point in answer to one text (StanceQuerySet.cells_per_text),
    with `total`, how many stances the party has on the point, on any text.
    """

    pk: int
    point_id: int
    party_id: int
    revision_id: int | None
    position: str
    stated_on: datetime.date
    speaker: str
    total: int


class Stance(models.Model):
    """One party's position on one point, or on a whole revision, as stated on one date."""

    Position = Position

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="stances")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="stances")
    revision = models.ForeignKey(
        Revision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stances",
        help_text="The text the party was answering. Leave the point empty for the revision as a whole.",
    )
    point = models.ForeignKey(Point, on_delete=models.PROTECT, null=True, blank=True, related_name="stances")
    position = models.CharField(max_length=20, choices=Position)
    stated_on = models.DateField(help_text="Date of the statement, or of the report when that is unknown.")
    summary = models.TextField(max_length=MAX_SUMMARY_CHARS, help_text="In our own words.")
    quote = models.TextField(blank=True, max_length=1000, help_text="Exactly as printed in the source.")
    speaker = models.CharField(max_length=200, blank=True, help_text="'(describing ...)' marks a characterisation.")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="stances")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = StanceQuerySet.as_manager()

    class Meta:
        ordering = ["stated_on", "pk"]
        indexes = [
            # One party's stances in one plan (the party page, its feed and CSV): without it SQLite
            # may walk the party's stances in every plan of the archive to find them.
            models.Index(fields=["plan", "party", "point"], name="stance_plan_party_point"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(revision__isnull=False) | Q(point__isnull=False), name="stance_on_revision_or_point"
            ),
            models.CheckConstraint(condition=Q(position__in=Position.values), name="stance_position_valid"),
        ]

    def __str__(self):
        target = f"point {self.point.key}" if self.point is not None else str(self.revision)  # no query for None
        return f"{self.party}: {self.get_position_display()} {target} ({self.stated_on})"

    def get_absolute_url(self):
        if self.point is not None:  # no query when there is none
            return self.point.get_absolute_url() + f"#stance-{self.pk}"
        revision = cast(Revision, self.revision)  # without a point, a revision (stance_on_revision_or_point)
        return revision.get_absolute_url() + f"#stance-{self.pk}"

    # django-stubs' plugin declares get_position_display for the choices too; Django lets a model replace it.
    def get_position_display(self) -> str:  # type: ignore[no-redef]
        """The position's label, as Django's own method gives it (the value itself when it has none)."""
        return POSITION_LABELS.get(self.position, self.position)

    def clean(self):
        words = len(self.quote.split())
        if words > MAX_QUOTE_WORDS:
            raise ValidationError(
                {
                    "quote": ValidationError(
                        "A quote may be at most %(limit)d words (this one has %(words)d): "
                        "shorten it or paraphrase in the summary.",
                        code="quote_too_long",
                        params={"limit": MAX_QUOTE_WORDS, "words": words},
                    )
                }
            )


class EventQuerySet(VersionedQuerySet):
    def with_party_ids(self):
        """
        Each event with `party_ids`, the ids of the parties it involves as text ("1,4", in no
        particular order; None when none): a subquery of the same query, so filtering the events
        by a party still lists all of theirs, and no Party object is built per link (the timeline
        has every party already).
        """
        links = Event.parties.through.objects.filter(event=models.OuterRef("pk")).order_by().values("event")
        ids = links.annotate(ids=models.StringAgg(Cast("party", models.CharField()), models.Value(",")))
        # django-stubs cannot see an annotation of the auto-created through model: "ids" is the one above.
        return self.annotate(party_ids=models.Subquery(ids.values("ids"), output_field=models.CharField()))  # type: ignore[misc]


class Event(models.Model):
    """A dated entry on a plan's timeline: talks, statements, leaks."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="events")
    date = models.DateField()
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True, max_length=MAX_SUMMARY_CHARS)
    parties = models.ManyToManyField(Party, blank=True, related_name="events")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    history = HistoricalRecords(m2m_fields=[parties])

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "date", "title"], name="event_unique_per_plan_date_title"),
        ]

    def __str__(self):
        return f"{self.date}: {self.title}"

    def get_absolute_url(self):
        return reverse("timeline", args=[self.plan.slug]) + f"#event-{self.pk}"


class AnnotationQuerySet(VersionedQuerySet):
    def published(self):
        """Notes journalists may see: published, on a point they may see (Point.objects.public())."""
        return self.filter(status=AnnotationStatus.PUBLISHED).exclude(point__in=PointQuerySet.only_in_unpublished())


class Annotation(models.Model):
    """An editor's note on a point. Tied to the point, so it survives rewording."""

    Status = AnnotationStatus

    point = models.ForeignKey(Point, on_delete=models.CASCADE, related_name="annotations")
    body = models.TextField(max_length=20_000, help_text="Markdown. Links and emphasis; no HTML.")
    status = models.CharField(max_length=10, choices=AnnotationStatus, default=AnnotationStatus.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="annotations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the note was last made public; feeds date it by this."
    )
    # The body as sanitized HTML, rendered once on save (markup.stored_note_html), and the sanitizer
    # version that rendered it: pages show it through markup.note_html, which renders afresh when the
    # version is not today's. Derived, so not in the history: a restored body is rendered on save.
    body_html = models.TextField(blank=True, default="", editable=False)
    body_html_version = models.CharField(max_length=100, blank=True, default="", editable=False)
    history = HistoricalRecords(excluded_fields=["body_html", "body_html_version"])

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=AnnotationStatus.values), name="annotation_status_valid"),
        ]

    def __str__(self):
        return f"Note on {self.point} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        """Stamp the moment a note goes public (a draft has no publication time); render the body once."""
        if self.status != AnnotationStatus.PUBLISHED:
            self.published_at = None
        elif self.published_at is None:
            self.published_at = timezone.now()
        self.body_html, self.body_html_version = stored_note_html(self.body)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {*update_fields, "body_html", "body_html_version"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return self.point.get_absolute_url() + f"#note-{self.pk}"

    @property
    def html(self) -> SafeHtml:
        """The body as sanitized HTML for a page: stored on save, rendered afresh if the sanitizer changed since."""
        return note_html(self.body, self.body_html, self.body_html_version)


class DataVersion(models.Model):
    """
    The one row whose token changes with every write to the data, in the same transaction
    as the write: the page cache keys on it (ops/pagecache.py), so an edit shows on the next
    request on every server. Nobody edits it by hand.
    """

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(help_text="When the data last changed: the pages' Last-Modified.")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="dataversion_single_row")]

    def __str__(self):
        return f"data version {self.token} ({self.changed_at:%Y-%m-%d %H:%M:%S})"

    @classmethod
    def advance(cls, using: str) -> None:
        """A new random token, in the caller's transaction; the row is recreated if it went missing."""
        token, now = secrets.token_hex(16), timezone.now()
        versions = cls.objects.using(using)
        if versions.filter(pk=1).update(token=token, changed_at=now):
            return
        try:
            with transaction.atomic(using=using):
                versions.create(pk=1, token=token, changed_at=now)
        except IntegrityError:  # another writer recreated it first
            versions.filter(pk=1).update(token=token, changed_at=now)
