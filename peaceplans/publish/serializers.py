"""
The API's objects as plain dicts, and the whole-dataset builder.

One function per resource, returning exactly the fields of the schema of the same name in
openapi.py (tests/publish/test_api.py validates every response against it), and the querysets shaped
for them: each list costs a fixed number of queries whatever the size of the data. No HTTP
here; api.py serves these dicts.
"""

import hashlib
import json
from typing import Any
from urllib.parse import quote

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, Q, Value
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS

from peaceplans.models import Annotation, Clause, Event, Party, Revision, Source

NOTICE = (
    "Texts of the plans and summaries of positions are peaceplans' own paraphrases, with figures, names, "
    "places and legal terms kept exactly; they are not the official wording. Only `quote` fields reproduce "
    "wording, verbatim from the source named beside them. Every claim names its source."
)


def to_json(data, **options) -> bytes:
    # ensure_ascii=False: Cyrillic quotes stay readable in the body (UTF-8, as JSON requires).
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, **options).encode()


# Stands for an address's last argument while its pattern is reversed once (Links.path).
SLOT = "zq0slot0qz"
PATH_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what reverse() leaves unquoted in an argument


class Links:
    """
    Turns paths into the addresses the JSON carries: absolute for responses, bare paths for
    hashing. A list of a hundred objects carries some five hundred addresses of a few kinds:
    each kind is reversed once per Links (that is, per response), not once per address.
    """

    def __init__(self, request=None):
        self.base = request.build_absolute_uri("/")[:-1] if request is not None else ""
        self._paths: dict[tuple, tuple[str, str]] = {}

    def __call__(self, name: str, *args, anchor: str = "", query: str = "") -> str:
        return self.base + self.path(name, args) + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")

    def path(self, name: str, args: tuple) -> str:
        """
        reverse(name, args=args): the pattern reversed once for its first arguments, with a slot
        for the last, which is quoted as reverse() quotes it. Slugs and keys are letters, digits,
        hyphens and underscores, so the result is the same; a value the pattern refuses still
        reaches reverse() the first time its kind is asked for.
        """
        key = (name, *args[:-1])
        if not args:
            path = self._paths.get(key)
            if path is None:
                path = self._paths[key] = (reverse(name), "")
            return path[0]
        parts = self._paths.get(key)
        if parts is None:
            before, after = reverse(name, args=[*args[:-1], SLOT]).split(SLOT)
            parts = self._paths[key] = (before, after)
        return parts[0] + quote(str(args[-1]), safe=PATH_SAFE) + parts[1]


# ---- Serializers: exactly the fields of the schemas of the same name in openapi.py ----


def party_data(party, link, plan_slug: str) -> dict:
    return {
        "slug": party.slug,
        "name": party.name,
        "short_name": party.short_name,
        "colour": party.colour,
        "url": link("api_party", party.slug),
        "html_url": link("party_detail", plan_slug, party.slug),
    }


def topic_data(topic, link, plan) -> dict:
    return {
        "slug": topic.slug,
        "name": topic.name,
        "html_url": link("plan_detail", plan.slug, query=f"topic={topic.slug}"),
    }


def source_data(source, link) -> dict:
    return {
        "id": source.pk,
        "url": source.url if source.citable else None,  # never offered as a citation (docs/newsroom.md)
        "citable": source.citable,
        "outlet": source.outlet,
        "title": source.title,
        "published_on": source.published_on,
        "kind": source.kind,
        "via": source.via,
        "note": source.note,
        "html_url": link("source_list", query=f"source={source.pk}", anchor=f"source-{source.pk}"),
    }


def plan_data(plan, link) -> dict:
    return {
        "slug": plan.slug,
        "title": plan.title,
        "summary": plan.summary,
        "url": link("api_plan", plan.slug),
        "html_url": link("plan_detail", plan.slug),
        "revisions_url": link("api_revisions", plan.slug),
        "points_url": link("api_points", plan.slug),
        "stances_url": link("api_stances", plan.slug),
        "events_url": link("api_events", plan.slug),
        "dataset_url": link("plan_dataset", plan.slug),
    }


def revision_data(revision, link, plan, *, authors=None, sources=None) -> dict:
    """Needs `authors` and `sources` prefetched, or given (the dataset reads them all at once)."""
    authors = revision.authors.all() if authors is None else authors
    sources = revision.sources.all() if sources is None else sources
    return {
        "slug": revision.slug,
        "title": revision.title,
        "short_label": revision.label,
        "wording": revision.wording,
        "published_on": revision.published_on,
        "status": revision.status,
        "authors": [party.slug for party in authors],
        "summary": revision.summary,
        "provenance": revision.provenance,
        "original_language": revision.original_language,
        "translation": revision.translation,
        "sources": [source_data(s, link) for s in sources],
        "url": link("api_revision", plan.slug, revision.slug),
        "html_url": link("revision_detail", plan.slug, revision.slug),
    }


def clause_data(clause, link, plan, *, sources=None) -> dict:
    """Needs `revision` and `point` joined and `sources` prefetched or given."""
    revision, point = clause.revision.slug, clause.point.key
    sources = clause.sources.all() if sources is None else sources
    return {
        "revision": revision,
        "point": point,
        "number": clause.number,
        "text": clause.text,
        "wording_note": clause.wording_note,
        "dropped": clause.dropped,
        "change_note": clause.change_note,
        "material_change": clause.material_change,
        "sources": [source_data(s, link) for s in sources],
        "updated_at": clause.updated_at,
        "revision_url": link("api_revision", plan.slug, revision),
        "point_url": link("api_point", plan.slug, point),
        "html_url": link("revision_detail", plan.slug, revision, anchor=f"point-{point}"),
    }


def point_data(point, link, plan) -> dict:
    """Needs `topic` and `split_from` joined."""
    return {
        "key": point.key,
        "title": point.title,
        "topic": point.topic.slug,
        "split_from": point.split_from.key if point.split_from_id else None,
        "updated_at": point.updated_at,
        "url": link("api_point", plan.slug, point.key),
        "html_url": link("point_detail", plan.slug, point.key),
    }


def stance_data(stance, link, plan) -> dict:
    """Needs `party`, `point`, `revision` and `source` joined."""
    point = stance.point.key if stance.point_id else None
    revision = stance.revision.slug if stance.revision_id else None
    if point:
        page = link("point_detail", plan.slug, point, anchor=f"stance-{stance.pk}")
    else:
        page = link("revision_detail", plan.slug, revision, anchor=f"stance-{stance.pk}")
    return {
        "id": stance.pk,
        "party": stance.party.slug,
        "position": stance.position,
        "stated_on": stance.stated_on,
        "summary": stance.summary,
        "quote": stance.quote,
        "speaker": stance.speaker,
        "point": point,
        "revision": revision,
        "revision_label": stance.revision.label if stance.revision_id else None,
        "source": source_data(stance.source, link),
        "updated_at": stance.updated_at,
        "point_url": link("api_point", plan.slug, point) if point else None,
        "revision_url": link("api_revision", plan.slug, revision) if revision else None,
        "html_url": page,
    }


def event_data(event, link, plan, *, parties=None) -> dict:
    """Needs `source` joined and `parties` prefetched or given."""
    parties = event.parties.all() if parties is None else parties
    return {
        "id": event.pk,
        "date": event.date,
        "title": event.title,
        "summary": event.summary,
        "parties": [party.slug for party in parties],
        "source": source_data(event.source, link) if event.source_id else None,
        "html_url": link("timeline", plan.slug, anchor=f"event-{event.pk}"),
    }


def note_data(note, link, plan) -> dict:
    """Published notes only (the caller filters); needs `point` and `author` joined."""
    return {
        "id": note.pk,
        "point": note.point.key,
        "body_html": str(note.html),
        "author": (note.author.get_full_name() if note.author_id else "") or "Editors",
        # Published notes always carry the moment; rows written around save() fall back to their last edit.
        "published_at": note.published_at or note.updated_at,
        "updated_at": note.updated_at,
        "html_url": link("point_detail", plan.slug, note.point.key, anchor=f"note-{note.pk}"),
    }


# ---- Querysets shaped for the serializers (a fixed number of queries whatever the data) ----


def revision_query(plan):
    return plan.revisions.public().in_order().prefetch_related("authors", "sources")


def clause_query():
    return Clause.objects.public().select_related("revision", "point").prefetch_related("sources")


def point_clauses(point):
    """
    A point's wording in each revision, in date order, for clause_data(..., sources=clause.source_list):
    read through the point, which each clause then holds without a join; the sources as plain lists.
    """
    clauses = point.clauses.public().select_related("revision").order_by("revision__published_on", "revision__pk")
    return clauses.prefetch_related(Prefetch("sources", to_attr="source_list"))


def point_stances(point, plan):
    """A point's stances by date, for stance_data: read through the point, which each stance then holds."""
    return point.stances.public().filter(plan=plan).select_related("party", "revision", "source").chronological()


def point_query(plan):
    return plan.points.public().in_order().select_related("topic", "split_from")


def stance_query(plan):
    return plan.stances.public().select_related("party", "point", "revision", "source").chronological()


def event_query(plan):
    return plan.events.select_related("source").prefetch_related("parties").order_by("date", "pk")


def note_query():
    return Annotation.objects.published().select_related("point", "author").order_by("created_at", "pk")


# ---- The whole-dataset download ----


def dataset_objects(plan) -> dict:
    """
    The plan's rows, fetched once: nine queries whatever the size of the data (ten with the
    plan's own). Topics come with the points; the four many-to-many links (authors, the
    revisions' and clauses' sources, events' parties) in one query, and their sources in one
    more, rather than one prefetch each.
    """
    parties = list(Party.objects.all())
    points = list(point_query(plan))
    objects: dict[str, Any] = {  # lists of rows, and {pk: [linked rows]} for the links
        "parties": parties,
        "topics": sorted({p.topic_id: p.topic for p in points}.values(), key=lambda t: (t.sort_order, t.name, t.pk)),
        "revisions": list(plan.revisions.public().in_order()),
        "points": points,
        "clauses": list(
            Clause.objects.public()
            .select_related("revision", "point")
            .filter(revision__plan=plan)
            .order_by("revision__published_on", "revision", "sort_order")
        ),
        "stances": list(stance_query(plan)),
        "events": list(plan.events.select_related("source").order_by("date", "pk")),
        "notes": list(note_query().filter(point__plan=plan)),
    }
    objects.update(_dataset_links(plan, parties))
    cited = [s for sources in objects["revision_sources"].values() for s in sources]
    cited += [s for sources in objects["clause_sources"].values() for s in sources]
    cited += [s.source for s in objects["stances"]] + [e.source for e in objects["events"] if e.source_id]
    objects["sources"] = sorted({s.pk: s for s in cited}.values(), key=lambda s: s.pk)
    return objects


def _dataset_links(plan, parties: list) -> dict[str, dict[int, list]]:
    """
    {link: {owner id: [party or source, ...]}} for the plan's four many-to-many links, in the
    order prefetch_related would give (the models' own ordering): two queries. Only the plan's
    published revisions and their clauses: an unpublished text's sources are not cited by it.
    """
    revisions = plan.revisions.public()  # a subquery of the queries below
    links = {
        "authors": (Revision.authors.through.objects.filter(revision__in=revisions), "revision_id", "party_id"),
        "revision_sources": (
            Revision.sources.through.objects.filter(revision__in=revisions),
            "revision_id",
            "source_id",
        ),
        "clause_sources": (
            Clause.sources.through.objects.filter(clause__revision__in=revisions),
            "clause_id",
            "source_id",
        ),
        "event_parties": (Event.parties.through.objects.filter(event__plan=plan), "event_id", "party_id"),
    }
    parts = [
        qs.annotate(link=Value(name)).values_list(owner, target, "link") for name, (qs, owner, target) in links.items()
    ]
    rows = list(parts[0].union(*parts[1:], all=True))
    cited = Q(pk__in=links["revision_sources"][0].values("source_id"))
    cited |= Q(pk__in=links["clause_sources"][0].values("source_id"))
    targets = {
        "party_id": {party.pk: (n, party) for n, party in enumerate(parties)},
        "source_id": {source.pk: (n, source) for n, source in enumerate(Source.objects.filter(cited))},
    }
    found: dict[str, dict[int, list]] = {name: {} for name in links}
    for owner, target, name in rows:
        found[name].setdefault(owner, []).append(targets[links[name][2]][target])
    return {
        name: {owner: [obj for _, obj in sorted(pairs)] for owner, pairs in by_owner.items()}
        for name, by_owner in found.items()
    }


def dataset_data(plan, objects: dict, link) -> dict:
    """The rows in the shapes of the API's schemas."""
    authors, revision_sources = objects["authors"], objects["revision_sources"]
    clause_sources, event_parties = objects["clause_sources"], objects["event_parties"]
    return {
        "plan": plan_data(plan, link),
        "parties": [party_data(p, link, plan.slug) for p in objects["parties"]],
        "topics": [topic_data(t, link, plan) for t in objects["topics"]],
        "revisions": [
            revision_data(r, link, plan, authors=authors.get(r.pk, []), sources=revision_sources.get(r.pk, []))
            for r in objects["revisions"]
        ],
        "points": [point_data(p, link, plan) for p in objects["points"]],
        "clauses": [clause_data(c, link, plan, sources=clause_sources.get(c.pk, [])) for c in objects["clauses"]],
        "stances": [stance_data(s, link, plan) for s in objects["stances"]],
        "sources": [source_data(s, link) for s in objects["sources"]],
        "events": [event_data(e, link, plan, parties=event_parties.get(e.pk, [])) for e in objects["events"]],
        "notes": [note_data(n, link, plan) for n in objects["notes"]],
    }


def dataset_version(data: dict) -> tuple[str, object]:
    """(version, latest edit): the same data always gives the same version, and any change a new one."""
    digest = hashlib.sha256(to_json(data, sort_keys=True)).hexdigest()[:8]
    stamps = [item["updated_at"] for name in ("points", "clauses", "stances", "notes") for item in data[name]]
    stamps += [note["published_at"] for note in data["notes"]]
    latest = max(stamps, default=None)
    return (f"{latest:%Y-%m-%d}.{digest}" if latest else f"undated.{digest}"), latest
