"""Limits, validators and choices the models share (and the admin, importer and API read)."""

import re

from django.core.validators import RegexValidator
from django.db import models

MAX_CLAUSE_CHARS = 10_000
MAX_SUMMARY_CHARS = 4_000
MAX_WORDING_NOTE_CHARS = 500
# Short labels sit in column headings and chips at 360 px.
SHORT_LABEL_CHARS = 20
# A quotation is evidence, not a reprint: longer passages are paraphrased in the summary.
MAX_QUOTE_WORDS = 50

key_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]*$",
    "Use lower-case letters, digits and hyphens only, for example 6, 10a or berlin-statement-3.",
)
number_validator = RegexValidator(
    r"^[0-9A-Za-z?][0-9A-Za-z?.-]*$",
    "Use letters, digits, '.', '-' and a leading '?' only, for example 6, 10a or ?21.",
)


class SourceKind(models.TextChoices):
    ORIGINAL_REPORT = "original-report", "original report"
    AGENCY_COPY = "agency-copy", "agency copy"
    OFFICIAL = "official", "official"
    STATE_MEDIA = "state-media", "state media"
    AGGREGATOR = "aggregator", "aggregator"


class RevisionStatus(models.TextChoices):
    LEAKED_DRAFT = "leaked-draft", "leaked draft"
    COUNTER_PROPOSAL = "counter-proposal", "counter-proposal"
    FRAMEWORK = "framework", "framework"
    PUBLIC_STATEMENT = "public-statement", "public statement"
    AGREED_TEXT = "agreed-text", "agreed text"


class Position(models.TextChoices):
    SUPPORTS = "supports", "supports"
    OPPOSES = "opposes", "opposes"
    CONDITIONAL = "conditional", "conditional"
    PROPOSES_AMENDMENT = "proposes-amendment", "proposes amendment"
    UNCLEAR = "unclear", "unclear"


class AnnotationStatus(models.TextChoices):
    DRAFT = "draft", "draft"
    PUBLISHED = "published", "published"


# Labels by value, made once: Django's get_FOO_display() builds such a dict from the field's
# choices on every call, and pages that list many stances or sources call it hundreds of times.
KIND_LABELS = dict(SourceKind.choices)
STATUS_LABELS = dict(RevisionStatus.choices)
POSITION_LABELS = dict(Position.choices)


class Wording(models.TextChoices):
    """How close a revision's stored texts are to the wording the parties wrote."""

    VERBATIM = "verbatim", "verbatim"
    PARAPHRASE = "paraphrase", "our paraphrase"
    REPORTED = "reported", "as reported"


def derive_short_label(title: str, limit: int = SHORT_LABEL_CHARS) -> str:
    """
    A label from a title when an editor gave none: the words before any bracket or colon, as
    many whole words as fit in `limit` characters. Never cut mid-word, never an ellipsis (a
    first word longer than the limit is kept whole).
    """
    head = re.split(r"\s*[(:]", title, maxsplit=1)[0]
    words = head.split() or title.split()
    label = words[0] if words else ""
    for word in words[1:]:
        if len(f"{label} {word}") > limit:
            break
        label = f"{label} {word}"
    return label
