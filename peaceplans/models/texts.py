"""The texts: parties, topics, plans, sources, revisions, points and each revision's wording of each point (clauses)."""

from typing import TYPE_CHECKING, TypedDict, cast

from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from simple_history.models import HistoricalRecords

from peaceplans.models.choices import (
    KIND_LABELS,
    MAX_CLAUSE_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_WORDING_NOTE_CHARS,
    SHORT_LABEL_CHARS,
    STATUS_LABELS,
    RevisionStatus,
    SourceKind,
    Wording,
    derive_short_label,
    key_validator,
    number_validator,
)
from peaceplans.models.diffs import clause_texts_written
from peaceplans.models.taxonomy import Party, Topic
from peaceplans.models.version import VersionedQuerySet

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class Neighbours(TypedDict):
        """What PointQuerySet.with_neighbours() annotates each point with (None at either end)."""

        previous_key: str | None
        previous_title: str | None
        next_key: str | None
        next_title: str | None


class Plan(models.Model):
    """One negotiation, such as the 2025 talks on ending Russia's war against Ukraine."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, max_length=MAX_SUMMARY_CHARS)
    history = HistoricalRecords()

    objects = VersionedQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("plan_detail", args=[self.slug])


class SourceQuerySet(VersionedQuerySet):
    def public(self):
        """
        The sources readers may see: all but those cited only by unpublished revisions (an import
        brings a new text's sources with it, and they must not announce it). A source cited by
        nothing yet stays visible, as does one a published text, a stance or an event cites.
        """
        return self.exclude(pk__in=RawSQL(SOURCES_ONLY_IN_UNPUBLISHED, []))  # noqa: S611 (constant SQL)

    def in_order(self):
        """The sources page's order: newest first (undated last on every database), then outlet."""
        return self.order_by(models.F("published_on").desc(nulls_last=True), "outlet", "pk")

    def before(self, source: "Source"):
        """The sources that come before `source` in `in_order()`: its position is their count."""
        same_day = Q(published_on=source.published_on) if source.published_on else Q(published_on__isnull=True)
        earlier = Q(published_on__gt=source.published_on) if source.published_on else Q(published_on__isnull=False)
        return self.filter(
            earlier | (same_day & (Q(outlet__lt=source.outlet) | Q(outlet=source.outlet, pk__lt=source.pk)))
        )


class Source(models.Model):
    """One published page that reports a text, a position or an event."""

    Kind = SourceKind

    url = models.URLField(max_length=2000, unique=True)
    outlet = models.CharField(max_length=200, help_text="As the reader should see it, e.g. 'TimesLIVE (Reuters)'.")
    title = models.CharField(
        max_length=500, blank=True, help_text="Headline; [square brackets] mark a descriptive title."
    )
    published_on = models.DateField(null=True, blank=True)
    kind = models.CharField(
        max_length=20, choices=SourceKind, help_text="How far the page is from whoever reported the fact."
    )
    via = models.CharField(max_length=200, blank=True, help_text="The agency or outlet whose story this page carries.")
    citable = models.BooleanField(
        default=True,
        help_text="Untick for pages that must never be shown as a citation (e.g. the Pravda network).",
    )
    note = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "outlet", "pk"]  # total: two pages of one outlet on one day keep an order
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SourceKind.values), name="source_kind_valid"),
        ]

    def __str__(self):
        date = self.published_on.isoformat() if self.published_on else "undated"
        return f"{self.outlet}, {date}"

    def get_absolute_url(self):
        """The sources page that lists it (they are paginated), at its entry."""
        return reverse("source_list") + f"?source={self.pk}#source-{self.pk}"

    # django-stubs' plugin declares get_kind_display for the choices too; Django lets a model replace it.
    def get_kind_display(self) -> str:  # type: ignore[no-redef]
        """The kind's label, as Django's own method gives it (the value itself when it has none)."""
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def is_weak(self):
        """Aggregators and state media need a warning next to the citation."""
        return self.kind in {SourceKind.AGGREGATOR, SourceKind.STATE_MEDIA} or not self.citable


# Subqueries of the public reads, written out (see RevisionQuerySet.unpublished_ids): constants,
# with no value in them. Each starts from the unpublished revisions, which the database reads once.
UNPUBLISHED_REVISIONS = "SELECT id FROM peaceplans_revision WHERE NOT public"
POINTS_ONLY_IN_UNPUBLISHED = (
    f"SELECT c.point_id FROM peaceplans_clause c WHERE c.revision_id IN ({UNPUBLISHED_REVISIONS}) "  # noqa: S608
    "AND NOT EXISTS (SELECT 1 FROM peaceplans_clause o WHERE o.point_id = c.point_id "
    f"AND o.revision_id NOT IN ({UNPUBLISHED_REVISIONS}))"
)
# The key or title ({column}) of the public point before or after the outer query's point in plan
# order (sort_order, then id): PointQuerySet.with_neighbours.
NEIGHBOUR = {
    side: (
        "SELECT n.{column} FROM peaceplans_point n WHERE n.plan_id = peaceplans_point.plan_id "  # noqa: S608
        f"AND (n.sort_order {cmp} peaceplans_point.sort_order OR (n.sort_order = peaceplans_point.sort_order "
        f"AND n.id {cmp} peaceplans_point.id)) AND n.id NOT IN ({POINTS_ONLY_IN_UNPUBLISHED}) "
        f"ORDER BY n.sort_order {order}, n.id {order} LIMIT 1"
    )
    for side, cmp, order in (("previous", "<", "DESC"), ("next", ">", "ASC"))
}

# Cited by an unpublished revision or its clauses, and by nothing readers see.
SOURCES_ONLY_IN_UNPUBLISHED = (
    f"SELECT rs.source_id FROM peaceplans_revision_sources rs WHERE rs.revision_id IN ({UNPUBLISHED_REVISIONS}) "  # noqa: S608
    "UNION SELECT cs.source_id FROM peaceplans_clause_sources cs JOIN peaceplans_clause c ON c.id = cs.clause_id "
    f"WHERE c.revision_id IN ({UNPUBLISHED_REVISIONS}) "
    "EXCEPT SELECT rs.source_id FROM peaceplans_revision_sources rs "
    f"WHERE rs.revision_id NOT IN ({UNPUBLISHED_REVISIONS}) "
    "EXCEPT SELECT cs.source_id FROM peaceplans_clause_sources cs JOIN peaceplans_clause c ON c.id = cs.clause_id "
    f"WHERE c.revision_id NOT IN ({UNPUBLISHED_REVISIONS}) "
    "EXCEPT SELECT st.source_id FROM peaceplans_stance st "
    f"WHERE (st.revision_id IS NULL OR st.revision_id NOT IN ({UNPUBLISHED_REVISIONS})) "
    f"AND (st.point_id IS NULL OR st.point_id NOT IN ({POINTS_ONLY_IN_UNPUBLISHED})) "
    "EXCEPT SELECT ev.source_id FROM peaceplans_event ev WHERE ev.source_id IS NOT NULL"
)


class RevisionQuerySet(VersionedQuerySet):
    def in_order(self):
        """Revisions by date, ties broken by the order they were entered."""
        return self.order_by("published_on", "pk")

    def for_strip(self):
        """
        What the time strip and pickers show, in date order: each revision with `author_ids`, its
        authors' ids as text ("1,2", in no particular order; "" or None when it has none). One
        query, and no Party object per author: the overview has every party already.
        """
        authors = models.StringAgg(Cast("authors", models.CharField()), models.Value(","))
        return self.in_order().annotate(author_ids=authors)

    def public(self):
        """
        The revisions readers may see. Every public read starts here: an unpublished revision
        (an editor still entering a newly leaked text) is shown nowhere, and its own addresses
        answer 404, as if it did not exist.
        """
        return self.filter(public=True)

    def unpublished_ids(self) -> RawSQL:
        """
        The ids of the unpublished revisions, as a subquery the database runs once (a few rows at
        most). Written out: the public reads filter by it on every page, and the ORM would take
        longer to compile it than the database takes to run it.
        """
        return RawSQL(UNPUBLISHED_REVISIONS, [])  # noqa: S611 (constant SQL, no value in it)


class Revision(models.Model):
    """One version of a plan's text: a leaked draft, a counter-proposal, a framework, a statement."""

    Status = RevisionStatus

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="revisions")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    short_label = models.CharField(
        max_length=SHORT_LABEL_CHARS,
        blank=True,
        help_text="A few words for pickers, column headings, chips, embeds and exports, e.g. 'US draft', 'E3', "
        "'Geneva'. Left empty, the first words of the title are used.",
    )
    wording = models.CharField(
        max_length=20,
        choices=Wording,
        default=Wording.PARAPHRASE,
        help_text="Whether the stored texts are the parties' own words, our paraphrase, or as reported by others.",
    )
    authors = models.ManyToManyField(Party, related_name="revisions", help_text="The parties that wrote this text.")
    published_on = models.DateField(help_text="When the text was published or agreed, as best known.")
    status = models.CharField(max_length=20, choices=RevisionStatus)
    summary = models.TextField(blank=True, max_length=MAX_SUMMARY_CHARS)
    provenance = models.TextField(
        blank=True,
        max_length=MAX_SUMMARY_CHARS,
        help_text="Who published or leaked it, how the date was found, caveats.",
    )
    original_language = models.CharField(max_length=50, blank=True)
    translation = models.CharField(max_length=200, blank=True, help_text="Whose translation the wording follows.")
    sources = models.ManyToManyField(Source, blank=True, related_name="revisions")
    public = models.BooleanField(
        "published",
        default=True,
        help_text="Untick while the text is being entered or checked: an unpublished revision, its wording "
        "and the stances on it appear nowhere on the public site, feeds, API, exports or search. "
        "Tick it to publish.",
    )
    history = HistoricalRecords(m2m_fields=[authors, sources])

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["published_on", "pk"]
        # Editors add revisions but do not change their record; publishing one is a right of its own.
        permissions = [("publish_revision", "Can publish or unpublish a revision")]
        constraints = [
            models.UniqueConstraint(fields=["plan", "slug"], name="revision_slug_unique_per_plan"),
            models.CheckConstraint(condition=Q(status__in=RevisionStatus.values), name="revision_status_valid"),
            models.CheckConstraint(condition=Q(wording__in=Wording.values), name="revision_wording_valid"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("revision_detail", args=[self.plan.slug, self.slug])

    # django-stubs' plugin declares get_status_display for the choices too; Django lets a model replace it.
    def get_status_display(self) -> str:  # type: ignore[no-redef]
        """The status's label, as Django's own method gives it (the value itself when it has none)."""
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def label(self) -> str:
        """The short label readers see in pickers, headings and chips: never cut mid-word."""
        return self.short_label or derive_short_label(self.title)


class PointQuerySet(VersionedQuerySet):
    def in_order(self):
        """Points in plan order: the first revision's order, later additions after them."""
        return self.order_by("sort_order", "pk")

    def for_matrix(self):
        """Rows of the stance matrix: topic joined, nothing else loaded (read as plan.points, each knows its plan)."""
        return self.in_order().select_related("topic")

    def public(self):
        """
        The points readers may see: every point except one whose wording is only in unpublished
        revisions (a point an import made for a new, unpublished text: its key names that text and
        its title comes from its wording). A point with no wording at all stays visible. A subquery
        of the same query, no query of its own.
        """
        return self.exclude(pk__in=self.only_in_unpublished())

    def unpublished(self):
        """The points `public()` leaves out."""
        return self.filter(pk__in=self.only_in_unpublished())

    @staticmethod
    def only_in_unpublished() -> RawSQL:
        """
        The ids of the points worded in unpublished revisions only, as a subquery the database
        runs once: it starts from the unpublished revisions' clauses (none, or one text's, at
        most a few), so it costs nothing per point of the plan. Written out, as unpublished_ids().
        """
        return RawSQL(POINTS_ONLY_IN_UNPUBLISHED, [])  # noqa: S611 (constant SQL, no value in it)

    def with_neighbours(self):
        """
        Each point with the key and title of the public points before and after it in plan order, as
        four subqueries of its own query: Point.neighbours() then runs no query of its own. Written
        out (NEIGHBOUR), as the public reads' subqueries are: built with the ORM, the four took ten
        times longer to compile than the database takes to run them. They name the outer row by
        its table, so this is for a query of points itself, not a subquery of another.
        """
        return self.annotate(
            **{
                f"{side}_{column}": RawSQL(NEIGHBOUR[side].format(column=column), [])  # noqa: S611 (constant SQL)
                for side in ("previous", "next")
                for column in ("key", "title")
            }
        )


class Point(models.Model):
    """
    The identity of one plan point across revisions: "6" in the US draft, "6" in the E3 text
    and "4" in a renumbered later draft are one point.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="points")
    key = models.CharField(
        max_length=120,
        validators=[key_validator],
        help_text="Its number in the plan's first revision ('6', '10a'), or '<revision>-<number>' "
        "for a point that first appears later. Used in addresses: keep it stable.",
    )
    label = models.CharField(
        max_length=40,
        blank=True,
        help_text="How readers see the number of a point that first appears in a later text, e.g. '20-point 9' "
        "for key 'ukraine-us-20-point-draft-9'. Empty: the key is shown.",
    )
    title = models.CharField(max_length=120, help_text="A few words a journalist would search for, e.g. 'Army cap'.")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="points")
    sort_order = models.PositiveIntegerField(default=0, help_text="Row order in tables.")
    split_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="splits",
        help_text="Set when a later revision divided an existing point into several.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = PointQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="point_key_unique_per_plan"),
            models.CheckConstraint(condition=~Q(split_from=models.F("pk")), name="point_not_split_from_itself"),
        ]

    def __str__(self):
        return f"{self.key}. {self.title}"

    def get_absolute_url(self):
        return reverse("point_detail", args=[self.plan.slug, self.key])

    @property
    def number(self) -> str:
        """The point's number as readers see it: '6', '10a', or '20-point 9' for one a later text added."""
        return self.label or self.key

    def neighbours(self) -> tuple["Point | None", "Point | None"]:
        """
        The previous and next point in plan order: from the annotations of
        PointQuerySet.with_neighbours() when the point was read with them (as key and title
        only, enough to link to them), otherwise two small indexed queries.
        """
        if hasattr(self, "previous_key"):
            read = cast("WithAnnotations[Point, Neighbours]", self)  # hasattr: read with with_neighbours()
            # A neighbour's key and title come from one row: both or neither.
            previous, following = (
                Point(plan=self.plan, key=key, title=title) if key and title is not None else None
                for key, title in ((read.previous_key, read.previous_title), (read.next_key, read.next_title))
            )
            return previous, following
        siblings = Point.objects.public().filter(plan_id=self.plan_id).select_related("plan")
        before = siblings.filter(Q(sort_order__lt=self.sort_order) | Q(sort_order=self.sort_order, pk__lt=self.pk))
        after = siblings.filter(Q(sort_order__gt=self.sort_order) | Q(sort_order=self.sort_order, pk__gt=self.pk))
        return before.order_by("-sort_order", "-pk").first(), after.order_by("sort_order", "pk").first()


# The clause fields whose change can give a point a new text (stored diffs, models/diffs.py).
TEXT_FIELDS = frozenset({"text", "dropped", "point", "point_id"})


class ClauseQuerySet(VersionedQuerySet):
    def public(self):
        """Wording readers may see: the clauses of published revisions only."""
        return self.exclude(revision__in=Revision.objects.unpublished_ids())

    # Bulk writes send no post_save: these tell the stored diffs which points' texts they wrote.

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        clause_texts_written.send(Clause, using=self.db, points={clause.point_id for clause in created})
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        count = super().bulk_update(objs, fields, *args, **kwargs)
        if TEXT_FIELDS.intersection(fields):
            clause_texts_written.send(Clause, using=self.db, points={clause.point_id for clause in objs})
        return count

    def update(self, **kwargs):
        if not TEXT_FIELDS.intersection(kwargs):
            return super().update(**kwargs)
        # Before and after: the update may move clauses to another point, or out of the filter.
        points = set(self.values_list("point_id", flat=True))
        count = super().update(**kwargs)
        points.update(self.values_list("point_id", flat=True))
        moved_to = kwargs.get("point_id", kwargs.get("point"))
        if isinstance(getattr(moved_to, "pk", moved_to), int):
            points.add(getattr(moved_to, "pk", moved_to))
        clause_texts_written.send(Clause, using=self.db, points=points)
        return count


class Clause(models.Model):
    """A point's wording in one revision, or the record that the revision dropped it."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="clauses")
    point = models.ForeignKey(Point, on_delete=models.PROTECT, related_name="clauses")
    number = models.CharField(
        max_length=20,
        blank=True,
        validators=[number_validator],
        help_text="As printed in this revision. '?6' means the revision's own number is unknown. Empty only "
        "for a dropped point whose number the revision gives to another point.",
    )
    sort_order = models.PositiveIntegerField(default=0, help_text="Order within the revision.")
    text = models.TextField(blank=True, max_length=MAX_CLAUSE_CHARS, help_text="Our paraphrase; empty when dropped.")
    dropped = models.BooleanField(default=False, help_text="This revision removes the point.")
    change_note = models.TextField(blank=True, max_length=MAX_SUMMARY_CHARS, help_text="One sentence on what changed.")
    wording_note = models.CharField(
        max_length=MAX_WORDING_NOTE_CHARS,
        blank=True,
        help_text="What a reader must know about the wording itself, e.g. 'Exact wording not found.' Shown beside "
        "the text, never diffed.",
    )
    material_change = models.BooleanField(
        default=False,
        help_text="Tick when the change alters substance, not only wording.",
    )
    sources = models.ManyToManyField(Source, blank=True, related_name="clauses")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[sources], excluded_fields=["updated_at"])

    objects = ClauseQuerySet.as_manager()

    class Meta:
        ordering = ["revision", "sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "number"], condition=~Q(number=""), name="clause_number_unique_per_revision"
            ),
            models.CheckConstraint(condition=~Q(number="") | Q(dropped=True), name="clause_unnumbered_only_if_dropped"),
            models.UniqueConstraint(fields=["revision", "point"], name="clause_point_unique_per_revision"),
            models.CheckConstraint(
                condition=Q(dropped=True, text="") | (Q(dropped=False) & ~Q(text="")),
                name="clause_text_iff_not_dropped",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), MAX_CLAUSE_CHARS), name="clause_text_max_length"
            ),
        ]

    def __str__(self):
        return f"{self.revision.slug} {self.number or 'dropped ' + self.point.key}"

    def get_absolute_url(self):
        return self.revision.get_absolute_url() + f"#point-{self.point.key}"

    @property
    def number_label(self) -> str:
        """How a reader should see the number: '?6' means the text's own numbering is not public."""
        if not self.number:
            return "no number of its own (dropped)"
        if self.number.startswith("?"):
            return f"own number not public (answers draft point {self.number[1:]})"
        return f"numbered {self.number}"
