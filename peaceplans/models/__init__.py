"""
The peace-plan data: plans, their revisions and points, each revision's wording of each
point (clauses), the parties' stances on them, with sources, events and editors' notes.

Reads are QuerySet methods; writes that touch several models are in editing/services.py.
The models live in texts.py and positions.py, the word diffs stored with the texts in diffs.py,
their shared choices and limits in choices.py; this package exports them all, so
`peaceplans.models.X` is the one address of each.
"""

from peaceplans.models.choices import (
    KIND_LABELS,
    MAX_CLAUSE_CHARS,
    MAX_QUOTE_WORDS,
    MAX_SUMMARY_CHARS,
    POSITION_LABELS,
    STATUS_LABELS,
    AnnotationStatus,
    Position,
    RevisionStatus,
    SourceKind,
    Wording,
    derive_short_label,
    key_validator,
    number_validator,
)
from peaceplans.models.diffs import StoredDiff, StoredDiffQuerySet, clause_texts_written
from peaceplans.models.positions import (
    Annotation,
    AnnotationQuerySet,
    DataVersion,
    Event,
    LatestStance,
    Stance,
    StanceQuerySet,
    TextStance,
)
from peaceplans.models.taxonomy import Alias, AliasQuerySet, Party, Topic, split_spellings, validate_spellings
from peaceplans.models.texts import (
    POINTS_ONLY_IN_UNPUBLISHED,
    SOURCES_ONLY_IN_UNPUBLISHED,
    UNPUBLISHED_REVISIONS,
    Clause,
    ClauseQuerySet,
    Plan,
    Point,
    PointQuerySet,
    Revision,
    RevisionQuerySet,
    Source,
    SourceQuerySet,
)
from peaceplans.models.version import VersionedQuerySet

__all__ = [
    "Alias",
    "AliasQuerySet",
    "split_spellings",
    "validate_spellings",
    "DataVersion",
    "VersionedQuerySet",
    "Annotation",
    "AnnotationQuerySet",
    "AnnotationStatus",
    "Clause",
    "ClauseQuerySet",
    "Event",
    "KIND_LABELS",
    "LatestStance",
    "TextStance",
    "MAX_CLAUSE_CHARS",
    "MAX_QUOTE_WORDS",
    "MAX_SUMMARY_CHARS",
    "POINTS_ONLY_IN_UNPUBLISHED",
    "POSITION_LABELS",
    "Party",
    "Plan",
    "Point",
    "PointQuerySet",
    "Position",
    "Revision",
    "RevisionQuerySet",
    "RevisionStatus",
    "Wording",
    "derive_short_label",
    "SOURCES_ONLY_IN_UNPUBLISHED",
    "STATUS_LABELS",
    "Source",
    "SourceKind",
    "SourceQuerySet",
    "Stance",
    "StanceQuerySet",
    "StoredDiff",
    "StoredDiffQuerySet",
    "clause_texts_written",
    "Topic",
    "UNPUBLISHED_REVISIONS",
    "key_validator",
    "number_validator",
]
