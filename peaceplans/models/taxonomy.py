"""Who and what: the negotiating parties and the topics points belong to, shared by all plans."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from simple_history.models import HistoricalRecords

from peaceplans.models.version import VersionedQuerySet

if TYPE_CHECKING:
    from peaceplans.models.texts import Plan


class Party(models.Model):
    """One negotiating side, such as the United States or Russia. Shared by all plans."""

    slug = models.SlugField(max_length=40, unique=True, help_text="Used in addresses: us, ukraine, europe, russia.")
    name = models.CharField(max_length=100, help_text="Full name, for example 'United States'.")
    short_name = models.CharField(max_length=20, help_text="Column heading in the stance matrix, for example 'US'.")
    colour = models.CharField(
        max_length=7,
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A hex colour such as #1f4e9c.")],
        help_text="Accent colour; always shown next to the name, never alone.",
    )
    sort_order = models.PositiveSmallIntegerField(default=0, help_text="Column order in tables.")
    history = HistoricalRecords()

    objects = VersionedQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "slug"]
        verbose_name_plural = "parties"
        constraints = [
            models.CheckConstraint(condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="party_colour_hex"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("party_detail", args=[settings.FEATURED_PLAN, self.slug])


class TopicQuerySet(VersionedQuerySet):
    def of_plan(self, plan: "Plan"):
        """
        The topics of a plan's public points, in order: a topic only unpublished points have is
        nowhere. The points are a written-out subquery (PointQuerySet.public's rule, on the
        constant it uses): the ORM's join, distinct and nested exclusion took longer to compile
        than the database takes to answer.
        """
        from peaceplans.models.texts import POINTS_ONLY_IN_UNPUBLISHED  # texts.py imports this module

        topics = "SELECT topic_id FROM peaceplans_point WHERE plan_id = %s "  # noqa: S608 (constant SQL)
        topics += f"AND id NOT IN ({POINTS_ONLY_IN_UNPUBLISHED})"
        return self.filter(pk__in=RawSQL(topics, [plan.pk])).order_by("sort_order", "name")  # noqa: S611 (constant SQL)


class Topic(models.Model):
    """A subject a point belongs to, such as territory or the army cap."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    sort_order = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("plan_detail", args=[settings.FEATURED_PLAN]) + f"?topic={self.slug}"
