"""
Word diffs stored when a text is saved (compare/memo.py reads them, editing/diffs.py writes them),
and the signal that the clauses' bulk writes send, since bulk writes send no model signal.
"""

from django.db import models
from django.db.models import Q
from django.dispatch import Signal

# Sent by ClauseQuerySet's bulk writes that may change a point's texts (bulk_create, bulk_update
# and update() of text, dropped or point), with `using` and `points` (the ids of the points whose
# texts may have changed): editing/diffs.py stores their diffs, as it does on a clause's post_save.
clause_texts_written = Signal()

# Only two different texts are stored, so never "unchanged", "added" or "dropped".
STORED_CHANGES = ("changed", "cosmetic")


class StoredDiffQuerySet(models.QuerySet):
    """
    A plain QuerySet, not VersionedQuerySet: a stored diff is derived from the texts and written
    with them, so writing one changes no page and must not advance the data version.
    """

    def for_keys(self, keys, version: str):
        """The rows of these pair keys computed by this version of the diff: what one page reads, one query."""
        return self.filter(key__in=keys, version=version)


class StoredDiff(models.Model):
    """
    The word diff of two different texts, as compare/diff.py computed it when one of them was saved.

    One row per unordered pair: `key` is the two texts' hashes in ascending order, and the row holds the
    diff from the text with the smaller hash to the other (the reverse is its mirror image, which
    diff.compare guarantees). The ops hold lengths, not text: they are cut from the two texts the
    page already has. A row whose `version` is not today's diff code's is ignored.
    """

    key = models.CharField(primary_key=True, max_length=64, help_text="The two texts' hashes, smaller first.")
    version = models.CharField(max_length=32, help_text="compare/memo.py's DIFF_VERSION when it was computed.")
    change = models.CharField(max_length=10, help_text="The verdict: changed, or cosmetic (same words).")
    similarity = models.FloatField()
    cosmetic = models.CharField(max_length=60, blank=True, help_text="For a cosmetic change, what differs.")
    ops = models.TextField(help_text="The ops as kinds and lengths (compare/memo.py, encode).")

    objects = StoredDiffQuerySet.as_manager()

    class Meta:
        default_permissions = ()  # written by code only, never by hand: no admin, no permissions to grant
        constraints = [
            models.CheckConstraint(condition=Q(change__in=STORED_CHANGES), name="stored_diff_change_valid"),
            models.CheckConstraint(
                condition=Q(similarity__gte=0.0, similarity__lte=1.0), name="stored_diff_similarity_range"
            ),
        ]

    def __str__(self):
        return f"{self.key[:8]}…{self.key[32:40]}: {self.change}"
