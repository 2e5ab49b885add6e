"""Who and what: the negotiating parties and the topics points belong to, shared by all plans."""

import unicodedata
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
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


# Aliases: spellings editors declare equivalent, shared by all plans

ALIAS_SEPARATOR = ","
MAX_ALIAS_SPELLINGS = 12
MAX_SPELLING_CHARS = 80


def split_spellings(line: str) -> list[str]:
    """The spellings of one equivalence line, in the editor's order, trimmed, without repeats (ignoring case)."""
    seen: set[str] = set()
    spellings = []
    for part in (line or "").split(ALIAS_SEPARATOR):
        spelling = " ".join(part.split())
        if spelling and spelling.casefold() not in seen:
            seen.add(spelling.casefold())
            spellings.append(spelling)
    return spellings


def validate_spellings(line: str) -> None:
    """An equivalence names at least two different spellings, each with a letter or digit, none too long."""
    spellings = split_spellings(line)
    if len(spellings) < 2:
        raise ValidationError(
            "Give at least two different spellings, separated by commas: 'Zelenskyy, Zelensky, Zelenskiy'.",
            code="too_few",
        )
    if len(spellings) > MAX_ALIAS_SPELLINGS:
        raise ValidationError(f"At most {MAX_ALIAS_SPELLINGS} spellings per line.", code="too_many")
    for spelling in spellings:
        if len(spelling) > MAX_SPELLING_CHARS:
            raise ValidationError(f"'{spelling[:20]}…' is longer than {MAX_SPELLING_CHARS} characters.", code="long")
        if not any(ch.isalnum() for ch in spelling):
            raise ValidationError(f"'{spelling}' has no letter or digit to search for.", code="no_word")
        if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in spelling):
            raise ValidationError(f"'{spelling}' contains control characters.", code="control")


class AliasQuerySet(VersionedQuerySet):
    def equivalences(self) -> list[tuple[str, ...]]:
        """Every equivalence line as its spellings, in the order the editors added them."""
        return [tuple(split_spellings(line)) for line in self.order_by("pk").values_list("spellings", flat=True)]


class Alias(models.Model):
    """
    One equivalence: spellings that name the same thing ("Zelenskyy, Zelensky, Zelenskiy,
    Зеленський"; "ZNPP, Zaporizhzhia nuclear plant"). Search finds any spelling when one is
    typed, and the paste page's alignment treats them as the same word. Shared by all plans.
    """

    spellings = models.CharField(
        max_length=MAX_ALIAS_SPELLINGS * (MAX_SPELLING_CHARS + 2),
        unique=True,
        validators=[validate_spellings],
        help_text="Spellings that mean the same, separated by commas, for example "
        "'Zelenskyy, Zelensky, Zelenskiy, Зеленський' or 'ZNPP, Zaporizhzhia nuclear plant'. "
        "A search for any of them finds them all.",
    )
    note = models.CharField(max_length=200, blank=True, help_text="For editors: why these are the same.")
    history = HistoricalRecords()

    objects = AliasQuerySet.as_manager()

    class Meta:
        ordering = ["spellings"]
        verbose_name_plural = "aliases"
        constraints = [
            models.CheckConstraint(condition=Q(spellings__contains=ALIAS_SEPARATOR), name="alias_two_spellings"),
        ]

    def __str__(self):
        return self.spellings

    def save(self, *args, **kwargs):
        """Stored in one form: spellings trimmed, repeats dropped, joined by ', '."""
        self.spellings = ", ".join(split_spellings(self.spellings))
        super().save(*args, **kwargs)

    @property
    def spelling_list(self) -> list[str]:
        return split_spellings(self.spellings)
