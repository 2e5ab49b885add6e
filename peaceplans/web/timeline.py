"""
A plan's timeline: its events and its revisions in one list by date, optionally narrowed
to one party (the events involving it and the texts it wrote). The page and its CSV
export both read it from here, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, NamedTuple, TypedDict

from django.db.models import Prefetch
from django.urls import reverse

from peaceplans.models import Party, Plan, Revision, Source

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class RevisionLists(TypedDict):
        """What timeline_entries prefetches onto each revision (Prefetch to_attr)."""

        author_list: list[Party]
        source_list: list[Source]


# What a source's citation shows (web/fragments.py's source_link) and the CSV's URL column reads, in the
# model's order of fields, as Model.from_db takes them.
CITED = {"url", "outlet", "kind", "via", "citable", "published_on"}
SOURCE_FIELDS = tuple(field.attname for field in Source._meta.concrete_fields if field.attname in CITED)


class EventRow(NamedTuple):
    """
    An event as the timeline lists it, read as values rather than as an Event with its Source
    joined (two model objects per event cost more than the rest of the entry): its own fields,
    its source, one Source (with SOURCE_FIELDS only) per source however many events cite it,
    and the parties it involves.
    """

    pk: int
    date: date
    title: str
    summary: str
    source: Source | None
    party_list: list[Party]
    url: str  # its entry on the timeline, as Event.get_absolute_url gives it

    def get_absolute_url(self) -> str:
        return self.url


@dataclass
class Entry:
    """One line of the timeline: an event, or a revision with the plan's text before it."""

    date: date
    kind: str  # "event" or "revision"
    item: EventRow | WithAnnotations[Revision, RevisionLists]
    previous: Revision | None = None  # revisions only: the plan's previous text, whoever wrote it

    @property
    def anchor(self) -> str:
        """The entry's id on the timeline page: stable, so journalists can link to it."""
        return f"revision-{self.item.slug}" if isinstance(self.item, Revision) else f"event-{self.item.pk}"

    @property
    def parties(self) -> list[Party]:
        """The parties an event involves, or the authors of a revision (prefetched as lists by timeline_entries)."""
        return self.item.author_list if isinstance(self.item, Revision) else self.item.party_list

    @property
    def sources(self) -> list[Source]:
        """The sources behind the entry: an event's one source, a revision's list (prefetched)."""
        if isinstance(self.item, Revision):
            return self.item.source_list
        return [self.item.source] if self.item.source is not None else []  # no query when there is none

    def compare_url(self) -> str:
        """The comparison of a revision with the plan's previous text; "" for events and the first text."""
        if self.previous is None or not isinstance(self.item, Revision):  # only revisions have a previous text
            return ""
        plan = self.item.plan.slug
        return reverse("compare", args=[plan]) + f"?a={self.previous.slug}&b={self.item.slug}"


def timeline_entries(plan: Plan, events, *, party: str = "", parties: list[Party] | None = None) -> list[Entry]:
    """
    The plan's events (`events`: an Event queryset, already narrowed by the filters) and its
    revisions by date, revisions first on a shared day; with `party` (a slug), only the
    revisions that party wrote. `parties`: every party, when the caller has them (else one more
    query). Three queries whatever the size of the data. "Previous" is always the plan's
    previous text, so a revision's comparison link is the same whether the timeline is filtered
    or not.
    """
    # The parties of each event and the authors of each revision come as ids with their rows
    # (EventQuerySet.with_party_ids, RevisionQuerySet.for_strip), listed here from `parties`:
    # prefetching them cost a query each and a Party object per link. Events come as values
    # (EventRow); the texts' sources are prefetched into plain lists (to_attr): Django's default
    # keeps a manager and a queryset on every revision. The revisions come from the plan
    # (plan.revisions): each gets that plan without a join.
    order = {str(p.pk): (n, p) for n, p in enumerate(Party.objects.all() if parties is None else parties)}

    def listed(ids: str | None) -> list[Party]:
        return [p for _, p in sorted(order[pk] for pk in (ids or "").split(",") if pk in order)]

    revisions = list(plan.revisions.public().for_strip().prefetch_related(Prefetch("sources", to_attr="source_list")))
    timeline = reverse("timeline", args=[plan.slug])
    entries = []
    sources: dict[int, Source] = {}
    fields = ("pk", "date", "title", "summary", "party_ids", "source_id", *(f"source__{f}" for f in SOURCE_FIELDS))
    for pk, day, title, summary, party_ids, source_id, *cited in events.with_party_ids().values_list(*fields):
        source = sources.get(source_id) if source_id is not None else None
        if source_id is not None and source is None:
            source = sources[source_id] = Source.from_db(None, ["id", *SOURCE_FIELDS], [source_id, *cited])
        row = EventRow(pk, day, title, summary, source, listed(party_ids), f"{timeline}#event-{pk}")
        entries.append(Entry(day, "event", row))
    for previous, revision in zip([None, *revisions], revisions, strict=False):
        revision.author_list = listed(revision.author_ids)
        if not party or any(author.slug == party for author in revision.author_list):
            entries.append(Entry(revision.published_on, "revision", revision, previous))
    return sorted(entries, key=lambda entry: (entry.date, entry.kind == "event"))
