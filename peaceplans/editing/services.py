"""
Writes that touch more than one model, named <entity>_<action>. ImportProblem and ImportResult
come from importer.py and are re-exported here for the commands and forms. Each runs in one transaction: on any error
nothing is written, and the error names the file, revision, point and field.
"""

import datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from peaceplans import search
from peaceplans.editing.diffs import diffs_batched, plan_texts_written
from peaceplans.editing.history import history_paused, record_version
from peaceplans.editing.importer import ImportResult, RevisionImporter, assign, set_m2m
from peaceplans.editing.jsonfile import ImportProblem, read_json_file
from peaceplans.markup import SANITIZER_VERSION, stored_note_html
from peaceplans.models import (
    Alias,
    Annotation,
    Clause,
    Event,
    Party,
    Plan,
    Revision,
    Source,
    SourceKind,
    Stance,
    Topic,
    split_spellings,
    validate_spellings,
)
from peaceplans.ops import dataversion


def revision_import_file(*, path: Path, plan_slug: str, public: bool | None = None) -> list[ImportResult]:
    """Import one revision object, or a list of them, from a JSON file, all or nothing."""
    data = read_json_file(path)
    return revisions_import(data=data, plan_slug=plan_slug, origin=str(path), public=public)


def revisions_import(*, data: Any, plan_slug: str, origin: str = "", public: bool | None = None) -> list[ImportResult]:
    """
    Import already parsed revision data (one object or a list) into a plan, all or nothing.
    `public`: True or False publishes or unpublishes every revision imported; None (the default)
    publishes new ones and leaves an existing one as it is (re-importing never publishes a text
    an editor has not).
    """
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ImportProblem("the file holds an empty list; expected at least one revision", origin=origin)
    with transaction.atomic(), diffs_batched():  # the word diffs of the points it wrote, once, at the end
        dataversion.bump()  # first: the version row is the first row this transaction locks
        plan = Plan.objects.filter(slug=plan_slug).first()
        if plan is None:
            raise ImportProblem(f"plan {plan_slug!r} does not exist", origin=origin)
        seen = set()
        results = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise ImportProblem(f"item {index + 1} is not a JSON object", origin=origin)
            slug = item.get("slug")
            if not isinstance(slug, str) or not slug:
                raise ImportProblem(f"item {index + 1}: field 'slug': missing or not a text", origin=origin)
            if slug in seen:
                raise ImportProblem("the same revision appears twice in the file", origin=origin, revision=str(slug))
            seen.add(slug)
            results.append(RevisionImporter(plan, item, origin, public).run())
        search.reindex(plan=plan)  # in this transaction: the index never shows half an import
        plan_texts_written(plan.pk)  # its word diffs, stored as diffs_batched() ends, still in it
        return results


# Demo dataset

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"


def demo_load(*, folder: Path = DEMO_DIR) -> dict[str, int]:
    """
    Load the shipped demo dataset: the plan, parties, topics, every source, every revision
    with its clauses, every stance and every event. Idempotent and all or nothing.
    """
    meta = read_json_file(folder / "plan.json")
    sources = read_json_file(folder / "sources.json")
    revisions = read_json_file(folder / "revisions.json")
    stances = read_json_file(folder / "stances.json")
    events = read_json_file(folder / "events.json")
    with transaction.atomic(), diffs_batched():
        dataversion.bump()  # first: the version row is the first row this transaction locks
        plan = _upsert(Plan, {"slug": meta["plan"]["slug"]}, meta["plan"])
        for order, party in enumerate(meta["parties"]):
            _upsert(Party, {"slug": party["slug"]}, {**party, "sort_order": order})
        for order, topic in enumerate(meta["topics"]):
            _upsert(Topic, {"slug": topic["slug"]}, {**topic, "sort_order": order})
        for src in sources:
            _source_upsert(src, origin=str(folder / "sources.json"))
        labels = meta.get("revision_labels", {})
        for item in revisions if isinstance(revisions, list) else []:
            if isinstance(item, dict) and not item.get("short_label") and item.get("slug") in labels:
                item["short_label"] = labels[item["slug"]]
        revisions_import(data=revisions, plan_slug=plan.slug, origin=str(folder / "revisions.json"))
        _mark_material(plan, meta.get("material_changes", {}))
        for point in plan.points.all():
            title = meta["point_titles"].get(point.key)
            if title and point.title != title:
                point.title = title
                point.save()
        clause_points = {
            (c.revision.slug, c.number): c.point
            for c in Clause.objects.filter(revision__plan=plan).select_related("revision", "point")
        }
        revisions_by_slug = {r.slug: r for r in plan.revisions.all()}
        parties = {p.slug: p for p in Party.objects.all()}
        origin = str(folder / "stances.json")
        loaded: set[int] = set()
        for n, item in enumerate(stances, start=1):
            if item.get("party") not in parties:
                raise ImportProblem(f"stance {n}: unknown party {item.get('party')!r}", origin=origin)
            revision = revisions_by_slug.get(item["revision"])
            if revision is None:
                raise ImportProblem(f"stance {n}: unknown revision {item['revision']!r}", origin=origin)
            point = None
            if item.get("point") is not None:
                point = clause_points.get((revision.slug, str(item["point"])))
                if point is None:
                    raise ImportProblem(f"stance {n}: revision has no point {item['point']!r}", origin=origin)
            stance = _upsert(
                Stance,
                {
                    "plan": plan,
                    "party": parties[item["party"]],
                    "revision": revision,
                    "point": point,
                    "stated_on": item["date"],
                    "source": _source_upsert(item["source"], origin=origin),
                },
                {
                    "position": item["position"],
                    "summary": item["summary"],
                    "quote": item.get("quote") or "",
                    "speaker": item.get("speaker") or "",
                },
            )
            loaded.add(stance.pk)
        _drop_moved_stances(plan, loaded)
        origin = str(folder / "events.json")
        for n, item in enumerate(events, start=1):
            unknown = set(item.get("parties", [])) - set(parties)
            if unknown:
                raise ImportProblem(f"event {n}: unknown party {sorted(unknown)[0]!r}", origin=origin)
            _upsert(
                Event,
                {"plan": plan, "date": item["date"], "title": item["title"]},
                {"summary": item.get("summary") or "", "source": _source_upsert(item["source"], origin=origin)},
                {"parties": [parties[slug] for slug in item.get("parties", [])]},
            )
        _aliases_load(meta.get("aliases", []), origin=str(folder / "plan.json"))
        search.reindex(plan=plan)
    return {
        "revisions": plan.revisions.count(),
        "points": plan.points.count(),
        "clauses": Clause.objects.filter(revision__plan=plan).count(),
        "stances": plan.stances.count(),
        "events": plan.events.count(),
        "sources": Source.objects.count(),
        "aliases": Alias.objects.count(),
    }


def _aliases_load(lines: Any, *, origin: str) -> None:
    """The demo's equivalence lines, added where missing; aliases editors added or changed are left as they are."""
    if not isinstance(lines, list):
        raise ImportProblem("aliases: expected a list of lines", origin=origin)
    known = {tuple(s.casefold() for s in spellings) for spellings in Alias.objects.equivalences()}
    for n, line in enumerate(lines, start=1):
        if not isinstance(line, str):
            raise ImportProblem(f"alias {n}: expected a line of text", origin=origin)
        try:
            validate_spellings(line)
        except ValidationError as exc:
            raise ImportProblem(f"alias {n}: {exc.messages[0]}", origin=origin) from exc
        if tuple(s.casefold() for s in split_spellings(line)) not in known:
            Alias.objects.create(spellings=line)


def _mark_material(plan: Plan, marks: dict[str, list[str]]) -> None:
    """The demo editors' marks: the clauses whose change alters substance (the compare page's "what changed most")."""
    for clause in Clause.objects.filter(revision__plan=plan).select_related("revision"):
        material = clause.number in marks.get(clause.revision.slug, ())
        if clause.material_change != material:
            clause.material_change = material
            clause.save(update_fields=["material_change", "updated_at"])


def _drop_moved_stances(plan: Plan, loaded: set[int]) -> None:
    """
    A stance the dataset now files under another point (a correction: the Donetsk-zone stances
    moved from 21 to 21d) is loaded as a new row; the row under the old point is the same
    statement (party, text, date and source) and goes. Stances editors added from other
    statements are kept.
    """
    same_statement = {(s.party_id, s.revision_id, s.stated_on, s.source_id) for s in plan.stances.filter(pk__in=loaded)}
    for stance in plan.stances.exclude(pk__in=loaded):
        if (stance.party_id, stance.revision_id, stance.stated_on, stance.source_id) in same_statement:
            stance.delete()


def _source_upsert(data: dict, *, origin: str) -> Source:
    values = {
        "outlet": data["outlet"],
        "kind": data["kind"],
    }
    if "via" in data:  # left out, it keeps what is stored (see RevisionImporter._source)
        values["via"] = data["via"] or ""
    if "date" in data:
        values["published_on"] = datetime.date.fromisoformat(data["date"]) if data["date"] else None
    for optional in ("title", "citable", "note"):
        if optional in data:
            values[optional] = data[optional]
    if values["kind"] not in SourceKind.values:
        raise ImportProblem(f"source {data['url']!r}: unknown kind {values['kind']!r}", origin=origin)
    return _upsert(Source, {"url": data["url"]}, values)


def _upsert(model, lookup: dict, values: dict, sets: dict | None = None):
    """
    get-or-create by lookup, then save only when a value differs, so reloads add no history.
    `sets`: many-to-many field name -> objects, set with the row: one history record of both.
    """
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup)
    for name, value in values.items():
        field = model._meta.get_field(name)
        values[name] = field.to_python(value) if not field.is_relation else value
    created = obj.pk is None
    with history_paused(obj):
        changed = assign(obj, values) or created
        if changed:
            obj.full_clean(validate_constraints=False, validate_unique=False)
            obj.save()
        sets_changed = [set_m2m(getattr(obj, name), objects) for name, objects in (sets or {}).items()]
    if changed or any(sets_changed):
        record_version(obj, history_type="+" if created else "~")
    return obj


# Pasted drafts


def revision_create_from_paste(*, data: dict, plan_slug: str) -> ImportResult:
    """
    Create a new revision from a pasted draft, already split into clauses and matched to
    points (the editors' paste page builds `data` in the import format). The same import
    as the import_revision command's, all or nothing, except that it never updates: a slug
    the plan already has is refused. The plan's row is locked meanwhile, so two editors
    pasting the same slug at once cannot both pass the check. The revision starts unpublished:
    the editor checks it, then publishes it (revisions_publish).
    """
    origin = "pasted text"
    with transaction.atomic():
        dataversion.bump()  # first: the version row is the first row this transaction locks
        plan = Plan.objects.select_for_update().filter(slug=plan_slug).first()
        if plan is None:
            raise ImportProblem(f"plan {plan_slug!r} does not exist", origin=origin)
        slug = data.get("slug") if isinstance(data, dict) else None
        if slug and plan.revisions.filter(slug=slug).exists():
            raise ImportProblem(
                "the plan already has a revision with this slug; this page creates new revisions "
                "(update an existing one with the import_revision command)",
                origin=origin,
                revision=str(slug),
            )
        # revisions_import also rewrites the plan's search index, inside this transaction.
        return revisions_import(data=data, plan_slug=plan_slug, origin=origin, public=False)[0]


def revisions_publish(revisions, *, public: bool = True) -> int:
    """
    Publish (or, with public=False, unpublish) revisions; the number whose state changed. Each is
    saved on its own, in one transaction: its history records the change, and the search index
    takes in (or drops) its wording and the stances answering it (search._revision_saved).
    """
    changed = 0
    with transaction.atomic():
        dataversion.bump()  # first: the version row is the first row this transaction locks
        pks = list(revisions.values_list("pk", flat=True))
        for revision in Revision.objects.filter(pk__in=pks, public=not public).order_by("pk"):
            revision.public = public
            revision.save(update_fields=["public"])
            changed += 1
    return changed


__all__ = [
    "DEMO_DIR",
    "ImportProblem",
    "ImportResult",
    "demo_load",
    "revision_create_from_paste",
    "revision_import_file",
    "revisions_import",
    "revisions_publish",
]


def refresh_note_html() -> int:
    """
    Store each note's HTML again where it was rendered by another sanitizer version than today's
    (markup.SANITIZER_VERSION): run after every migrate (peaceplans.signals), so a deploy that
    changes the sanitizer re-renders the notes once. Pages meanwhile render such notes afresh,
    never showing the old HTML. Returns how many notes were rendered.
    """
    with transaction.atomic():
        stale = list(
            Annotation.objects.select_for_update()
            .exclude(body_html_version=SANITIZER_VERSION)
            .only("pk", "body", "body_html", "body_html_version")
        )
        for note in stale:
            note.body_html, note.body_html_version = stored_note_html(note.body)
        if stale:
            Annotation.objects.bulk_update(stale, ["body_html", "body_html_version"], batch_size=500)
    return len(stale)
