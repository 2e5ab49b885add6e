"""
Atom feeds of changes, for newsrooms' feed readers: to a plan (new texts, stances, published
notes), to one point (its wording in each text, stances, notes) and to one party's stances.

Built on django.contrib.syndication. Each feed runs a fixed number of queries whatever the
size of the data: each kind of entry is read newest first, cut at FEED_LIMIT, in one query
(two where authors are prefetched), and the kinds are merged in Python. Entries link to the
exact place on the public pages; their ids are tag URIs built from the kind and primary key,
so an edited stance keeps its id.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, TypedDict, cast
from urllib.parse import urlsplit

from django.contrib.syndication.views import Feed
from django.db.models import Exists, F, OuterRef, Subquery
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import strip_tags
from django.utils.text import Truncator

from peaceplans.markup import strip_bidi
from peaceplans.models import Annotation, Clause, Party, Plan, Point, Revision, Stance
from peaceplans.selectors import get_plan, point_by_key

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class Added(TypedDict):
        """first_recorded(): when the row was first saved (or first published), from its history; None without one."""

        added_at: datetime | None

    class AddedEdited(Added):
        was_edited: bool  # edited(): changed since it was first saved


FEED_LIMIT = 50
# The year part of every tag: URI (RFC 4151): ids must never change, so this never does.
TAG_DATE = "2025"
FEED_AUTHOR = "peaceplans editors"
NOTE_SUMMARY_WORDS = 60
# Characters XML 1.0 cannot carry (Django refuses to write them): an editor's text may hold one.
XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# How a title reads: "Russia opposes point 6 (Army cap)".
POSITION_VERBS: dict[str, str] = {
    Stance.Position.SUPPORTS: "supports",
    Stance.Position.OPPOSES: "opposes",
    Stance.Position.CONDITIONAL: "sets conditions on",
    Stance.Position.PROPOSES_AMENDMENT: "proposes amending",
    Stance.Position.UNCLEAR: "is unclear on",
}


@dataclass(frozen=True)
class Entry:
    """One change as a feed reader shows it. `summary` is plain text; `content_html` is sanitized HTML."""

    kind: str
    pk: int
    guid: str
    title: str
    link: str
    updated: datetime
    published: datetime | None
    author: str | None
    summary: str
    categories: list[str] = field(default_factory=list)
    content_html: str = ""


@dataclass(frozen=True)
class Subject:
    """What a feed is about, and the host its tag: URIs are minted under."""

    plan: Plan
    host: str
    point: Point | None = None
    party: Party | None = None

    def tag(self, specific: str) -> str:
        return f"tag:{self.host},{TAG_DATE}:{specific}"

    def entry_id(self, kind: str, pk: int) -> str:
        """Kind and primary key: the same stance has the same id in every feed, before and after an edit."""
        return self.tag(f"{kind}/{pk}")


class ChangesAtomFeed(Atom1Feed):
    """
    Atom whose summary is plain text (type="text"), so a reader never takes an editor's "<" or
    "&" for markup, and whose content, for notes, is the HTML the sanitizer already produced.
    Django's Atom1Feed writes the description as type="html" and has no content element.
    """

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item["summary_text"]:
            handler.addQuickElement("summary", item["summary_text"], {"type": "text"})
        if item["content_html"]:
            handler.addQuickElement("content", item["content_html"], {"type": "html"})


# Reads. Each is one query; together they are everything a feed shows.


def first_recorded(model, **conditions):
    """
    When a row was first saved (with `conditions`, first saved so: public=True, first published),
    from its simple-history records: a subquery, no extra query.
    """
    history = model.history.model.objects.filter(id=OuterRef("pk"), **conditions).order_by("history_date", "history_id")
    return Subquery(history.values("history_date")[:1])


def edited(model):
    """Whether a row has been changed since it was first saved."""
    return Exists(model.history.model.objects.filter(id=OuterRef("pk"), history_type="~"))


def new_revisions(plan: Plan) -> list[WithAnnotations[Revision, Added]]:
    """
    The plan's texts by when they were added to the site, not by their own date: a leaked draft
    dated three weeks ago that an editor adds today is news today, and must reach the top of the
    feed. A text entered unpublished is news when it is published, and not before. Corrections to a
    text do not re-date it (the point feeds carry changed wording). Two queries: the revisions,
    then their authors.
    """
    return list(
        plan.revisions.public()
        .annotate(added_at=first_recorded(Revision, public=True))
        .prefetch_related("authors")
        .order_by(F("added_at").desc(nulls_last=True), "-published_on", "-pk")[:FEED_LIMIT]
    )


def changed_stances(stances) -> list[WithAnnotations[Stance, AddedEdited]]:
    """Stances by their last change, newest first, with everything their entry names: one query."""
    return list(
        stances.public()
        .with_sources()
        .select_related("point__topic")
        .annotate(added_at=first_recorded(Stance), was_edited=edited(Stance))
        .order_by("-updated_at", "-pk")[:FEED_LIMIT]
    )


def published_notes(notes) -> list[Annotation]:
    """
    Published notes by when they went public. A correction to a published note does not re-date
    it (as on the model): fixing a typo must not announce the note again. Drafts never appear.
    """
    return list(
        notes.published()
        .select_related("author", "point__plan", "point__topic")
        .order_by("-published_at", "-pk")[:FEED_LIMIT]
    )


def point_wording(point: Point) -> list[WithAnnotations[Clause, Added]]:
    """The point's wording in each text, by its last change: two queries (clauses, then authors)."""
    return list(
        point.clauses.public()
        .select_related("revision__plan")
        .prefetch_related("revision__authors")
        .annotate(added_at=first_recorded(Clause))
        .order_by("-updated_at", "-pk")[:FEED_LIMIT]
    )


# Entries


def point_label(point: Point) -> str:
    return f"point {point.number} ({point.title})"


def source_line(source) -> str:
    """A citation in words. A source that is not citable is named, never linked."""
    date = f", {source.published_on:%-d %b %Y}" if source.published_on else ""
    kind = source.get_kind_display() + (f" via {source.via}" if source.via else "")
    if not source.citable:
        return f"Source: {source.outlet}{date} ({kind}; not citable)"
    warning = "; weak source" if source.is_weak else ""
    return f"Source: {source.outlet}{date} ({kind}{warning}) {source.url}"


def authors_of(revision: Revision) -> str | None:
    return " and ".join(party.name for party in revision.authors.all()) or None


def midnight(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def first_published(added_at: datetime | None, updated_at: datetime) -> datetime:
    """The history row is written just after the save that stamps updated_at: never publish after updating."""
    return min(added_at, updated_at) if added_at else updated_at


def revision_entry(subject: Subject, revision: WithAnnotations[Revision, Added]) -> Entry:
    added = revision.added_at or midnight(revision.published_on)
    authors = authors_of(revision)
    dated = f"{revision.get_status_display().capitalize()} dated {revision.published_on:%-d %b %Y}"
    return Entry(
        kind="revision",
        pk=revision.pk,
        guid=subject.entry_id("revision", revision.pk),
        title=f"New text: {revision.title}",
        link=revision.get_absolute_url(),
        updated=added,
        published=added,
        author=authors,
        summary=" ".join(filter(None, [dated + (f", by {authors}." if authors else "."), revision.summary])),
        categories=[party.name for party in revision.authors.all()] + [revision.get_status_display()],
    )


def stance_entry(subject: Subject, stance: WithAnnotations[Stance, AddedEdited]) -> Entry:
    verb = POSITION_VERBS.get(stance.position, stance.get_position_display())
    if stance.point is not None:  # no query when there is none
        target = point_label(stance.point)
    else:  # without a point, a revision (the constraint stance_on_revision_or_point)
        target = f"{cast(Revision, stance.revision).title} as a whole"
    title = f"{stance.party.name} {verb} {target}"
    parts = [f"{stance.party.name}, {stance.stated_on:%-d %b %Y}: {stance.get_position_display()}.", stance.summary]
    if stance.quote:
        parts.append(f"“{stance.quote}”" + (f" — {stance.speaker}" if stance.speaker else ""))
    elif stance.speaker:
        parts.append(f"Speaker: {stance.speaker}")
    if stance.point_id and stance.revision is not None:  # no query when there is none
        parts.append(f"Answering: {stance.revision.title}.")
    parts.append(source_line(stance.source))
    return Entry(
        kind="stance",
        pk=stance.pk,
        guid=subject.entry_id("stance", stance.pk),
        title=f"Updated: {title}" if stance.was_edited else title,
        link=stance.get_absolute_url(),
        updated=stance.updated_at,
        published=first_published(stance.added_at, stance.updated_at),
        author=stance.party.name,
        summary="\n\n".join(parts),
        categories=([stance.point.topic.name] if stance.point is not None else []) + [stance.party.name],
    )


def note_entry(subject: Subject, note: Annotation) -> Entry:
    body = note.html
    text = html.unescape(strip_tags(body)).strip()
    published_at = cast(datetime, note.published_at)  # a published note's: Annotation.save() stamps it
    return Entry(
        kind="note",
        pk=note.pk,
        guid=subject.entry_id("note", note.pk),
        title=f"Note published on {point_label(note.point)}",
        link=note.get_absolute_url(),
        updated=published_at,
        published=published_at,
        # The editor's full name, as on the point page; never a username or an address.
        author=(note.author.get_full_name() if note.author else "") or FEED_AUTHOR,
        summary=Truncator(text).words(NOTE_SUMMARY_WORDS, truncate="…"),
        categories=[note.point.topic.name, "Editors' note"],
        content_html=str(body),
    )


def clause_entry(subject: Subject, clause: WithAnnotations[Clause, Added]) -> Entry:
    point, revision = cast(Point, subject.point), clause.revision  # only the point feed has clause entries
    if clause.dropped:
        title = f"Point {point.number} dropped in {revision.title}"
        parts = [clause.change_note]
    else:
        title = f"Point {point.number} in {revision.title}"
        parts = [f"{clause.number_label.capitalize()}:", clause.text]
        if clause.change_note:
            parts.append(f"Change: {clause.change_note}")
    if clause.material_change:
        parts.append("Marked as a material change.")
    return Entry(
        kind="clause",
        pk=clause.pk,
        guid=subject.entry_id("clause", clause.pk),
        title=title,
        link=point.get_absolute_url() + f"#clause-{revision.slug}",
        updated=clause.updated_at,
        published=first_published(clause.added_at, clause.updated_at),
        author=authors_of(revision),
        summary="\n\n".join(filter(None, parts)),
        categories=[point.topic.name, revision.title],
    )


def newest(subject: Subject, *groups) -> list[Entry]:
    """The newest FEED_LIMIT entries of all kinds; ties keep a fixed order so the feed is stable."""
    entries = [make(subject, row) for make, rows in groups for row in rows]
    entries.sort(key=lambda entry: (entry.updated, entry.kind, entry.pk), reverse=True)
    return entries[:FEED_LIMIT]


# Feeds


def xml_text(value):
    """
    A feed value (text, or a list of texts) with the characters XML 1.0 forbids replaced by U+FFFD,
    and every bidi embedding, override and isolate dropped (markup.strip_bidi): a feed reader shows
    titles and summaries as plain text, where nothing can isolate them, so "RTL\u202egnp.exe" must not
    read "RTLexe.png" there. Stored text has none left unbalanced (markup's pre_save); this drops them all.
    """
    if isinstance(value, str):
        return strip_bidi(XML_FORBIDDEN.sub("\ufffd", value))
    if isinstance(value, list | tuple):
        return [xml_text(v) for v in value]
    return value


class ChangesFeed(Feed):
    """The common part: every item is an Entry, written as Atom with plain-text summaries."""

    feed_type = ChangesAtomFeed
    author_name = FEED_AUTHOR

    def get_feed(self, obj, request):
        """The feed with every character XML cannot carry shown as U+FFFD, rather than a 500 for the whole feed."""
        feed = super().get_feed(obj, request)
        feed.feed = {name: xml_text(value) for name, value in feed.feed.items()}
        feed.items = [{name: xml_text(value) for name, value in item.items()} for item in feed.items]
        return feed

    def subject(self, request: HttpRequest, plan: str) -> Subject:
        """The plan (404 when unknown) and the host name, without its port, for the tag: URIs."""
        host = urlsplit(f"//{request.get_host()}").hostname or "localhost"
        return Subject(plan=get_plan(plan), host=host)

    def feed_guid(self, subject):
        return subject.tag(self.feed_url(subject))

    def item_title(self, entry):
        return entry.title

    def item_link(self, entry):
        return entry.link

    def item_guid(self, entry):
        return entry.guid

    def item_guid_is_permalink(self, entry):
        return False

    def item_description(self, entry):
        return None  # the plain-text summary goes out as summary_text, see ChangesAtomFeed

    def item_extra_kwargs(self, entry):
        return {"summary_text": entry.summary, "content_html": entry.content_html}

    def item_updateddate(self, entry):
        return entry.updated

    def item_pubdate(self, entry):
        return entry.published

    def item_author_name(self, entry):
        return entry.author

    def item_categories(self, entry):
        return entry.categories


class PlanFeed(ChangesFeed):
    """/feeds/plans/<plan>/: new texts, stances new or changed, and published notes."""

    def get_object(self, request: HttpRequest, plan: str) -> Subject:
        return self.subject(request, plan)

    def title(self, subject):
        return f"Changes to {subject.plan.title}"

    def subtitle(self, subject):
        return "New texts, the parties' stances as they are recorded or corrected, and editors' notes, newest first."

    def link(self, subject):
        return subject.plan.get_absolute_url()

    def feed_url(self, subject):
        return reverse("feed_plan", args=[subject.plan.slug])

    def items(self, subject):
        plan = subject.plan
        return newest(
            subject,
            (revision_entry, new_revisions(plan)),
            (stance_entry, changed_stances(plan.stances.all())),
            (note_entry, published_notes(Annotation.objects.filter(point__plan=plan))),
        )


class PointFeed(ChangesFeed):
    """/feeds/plans/<plan>/points/<point>/: the point's wording in each text, its stances and notes."""

    def get_object(self, request: HttpRequest, plan: str, point: str) -> Subject:
        subject = self.subject(request, plan)
        # Keys are lower-case letters, digits and hyphens: anything else names no point, and
        # never reaches the database (a NUL byte would make PostgreSQL raise).
        found = point_by_key(subject.plan, point, related=("plan", "topic"))
        if found is None:
            raise Http404("This plan has no point with that number.")
        return replace(subject, point=found)

    def title(self, subject):
        return f"Point {subject.point.key}: {subject.point.title} · {subject.plan.title}"

    def subtitle(self, subject):
        return "Its wording in each text, each party's stances and editors' notes, newest first."

    def link(self, subject):
        return subject.point.get_absolute_url()

    def feed_url(self, subject):
        return reverse("feed_point", args=[subject.plan.slug, subject.point.key])

    def items(self, subject):
        point = subject.point
        return newest(
            subject,
            (clause_entry, point_wording(point)),
            (stance_entry, changed_stances(point.stances.all())),
            (note_entry, published_notes(point.annotations.all())),
        )


class PartyFeed(ChangesFeed):
    """/feeds/plans/<plan>/parties/<party>/: one party's stances on points and on whole texts."""

    def get_object(self, request: HttpRequest, plan: str, party: str) -> Subject:
        subject = self.subject(request, plan)
        found = Party.objects.filter(slug=party).first()
        if found is None:
            raise Http404("There is no party with that name.")
        return replace(subject, party=found)

    def title(self, subject):
        return f"{subject.party.name}: stances on {subject.plan.title}"

    def subtitle(self, subject):
        name = subject.party.name
        return f"{name}'s positions on each point and on whole texts, as recorded or corrected, newest first."

    def link(self, subject):
        return reverse("party_detail", args=[subject.plan.slug, subject.party.slug])

    def feed_url(self, subject):
        return reverse("feed_party", args=[subject.plan.slug, subject.party.slug])

    def items(self, subject):
        return newest(subject, (stance_entry, changed_stances(subject.plan.stances.filter(party=subject.party))))
