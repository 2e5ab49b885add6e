"""
A plan's timeline: its events and its revisions in one list by date, optionally narrowed
to one party (the events involving it and the texts it wrote). The page and its CSV
export both read it from here, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Prefetch
from django.urls import reverse

from peaceplans.models import Event, Plan, Revision

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from peaceplans.models import Party, Source

    class EventLists(TypedDict):
        """What timeline_entries prefetches onto each event (Prefetch to_attr)."""

        party_list: list[Party]

    class RevisionLists(TypedDict):
        """What timeline_entries prefetches onto each revision (Prefetch to_attr)."""

        author_list: list[Party]
        source_list: list[Source]


@dataclass
class Entry:
    """One line of the timeline: an event, or a revision with the plan's text before it."""

    date: date
    kind: str  # "event" or "revision"
    item: WithAnnotations[Event, EventLists] | WithAnnotations[Revision, RevisionLists]
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


def timeline_entries(plan: Plan, events, *, party: str = "") -> list[Entry]:
    """
    The plan's events (`events`: an Event queryset, already narrowed by the filters) and its
    revisions by date, revisions first on a shared day; with `party` (a slug), only the
    revisions that party wrote. Five queries whatever the size of the data. "Previous" is
    always the plan's previous text, so a revision's comparison link is the same whether
    the timeline is filtered or not.
    """
    # Prefetched into plain lists (to_attr): Django's default keeps a manager and a queryset on
    # every event and revision, which cost more than the rest of the entry. Both querysets come
    # from the plan (plan.events, plan.revisions), so each row gets that plan without a join.
    events = events.select_related("source").prefetch_related(Prefetch("parties", to_attr="party_list"))
    revisions = list(
        plan.revisions.public()
        .in_order()
        .prefetch_related(Prefetch("authors", to_attr="author_list"), Prefetch("sources", to_attr="source_list"))
    )
    entries = [Entry(e.date, "event", e) for e in events]
    for previous, revision in zip([None, *revisions], revisions, strict=False):
        if not party or any(author.slug == party for author in revision.author_list):
            entries.append(Entry(revision.published_on, "revision", revision, previous))
    return sorted(entries, key=lambda entry: (entry.date, entry.kind == "event"))
