"""
The JSON import format (docs/editors.md): one revision, or a list of them, with its points'
wording, as `manage.py import_revision` and the demo loader read it. `RevisionImporter` checks
each field as it goes and raises ImportProblem, naming the file, revision, point and field, on
the first fault; the services in services.py run it inside their transaction, so a refused
import writes nothing.
"""

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from peaceplans.editing.history import history_paused, record_version
from peaceplans.editing.jsonfile import ImportProblem
from peaceplans.models import (
    MAX_CLAUSE_CHARS,
    Clause,
    Party,
    Plan,
    Point,
    Revision,
    RevisionStatus,
    Source,
    SourceKind,
    Topic,
    Wording,
    derive_short_label,
    number_validator,
)
from peaceplans.models.choices import MAX_WORDING_NOTE_CHARS, SHORT_LABEL_CHARS

# Point rows of the first revision are spaced out so that a later split can sit under its parent.
SORT_STEP = 1000
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class ImportResult:
    """What one revision's import did, for the command's report."""

    revision: Revision
    created: bool
    revision_updated: bool = False  # its own fields, authors or sources
    clauses_created: int = 0
    clauses_updated: int = 0
    clauses_removed: int = 0
    points_created: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return (
            self.created
            or self.revision_updated
            or bool(self.clauses_created or self.clauses_updated or self.clauses_removed)
        )


class RevisionImporter:
    """One revision's import: checks each field as it goes and raises ImportProblem on the first fault."""

    REQUIRED = ("slug", "title", "author", "published_on", "status", "points")

    def __init__(self, plan: Plan, data: dict, origin: str, public: bool | None = None):
        self.plan = plan
        self.public = public
        self.data = data
        self.origin = origin
        self.slug = str(data.get("slug") or "")
        self.parties = {p.slug: p for p in Party.objects.all()}
        self.topics = {t.slug: t for t in Topic.objects.all()}

    def problem(self, message: str, *, point: str = "", field: str = "") -> ImportProblem:
        return ImportProblem(message, origin=self.origin, revision=self.slug, point=point, field=field)

    def run(self) -> ImportResult:
        for name in self.REQUIRED:
            value = self.data.get(name)
            if value in (None, "", []) or (isinstance(value, str) and not value.strip()):
                raise self.problem("missing", field=name)
        self._refuse_nul(self.data)
        for name in (
            "slug",
            "title",
            "short_label",
            "wording",
            "published_on",
            "status",
            "summary",
            "date_note",
            "provenance",
        ):
            if name in self.data and self.data[name] is not None and not isinstance(self.data[name], str):
                raise self.problem("must be a text", field=name)
        revision, created, updated = self._save_revision()
        self.label = revision.label
        result = ImportResult(revision=revision, created=created, revision_updated=updated and not created)
        self._save_clauses(revision, result)
        return result

    def _refuse_nul(self, value: Any, *, field: str = "", point: str = "") -> None:
        """
        A NUL character is not text: PostgreSQL refuses it (a crash mid-import) and SQLite would
        store it. Refused up front, naming the field (and the clause), before anything is written.
        """
        if isinstance(value, str):
            if "\x00" in value:
                raise self.problem("contains a NUL character, which is not text", point=point, field=field)
        elif isinstance(value, dict):
            for name, item in value.items():
                self._refuse_nul(item, field=f"{field}.{name}" if field and field != "points" else name, point=point)
        elif isinstance(value, list):
            for n, item in enumerate(value, start=1):
                number = item.get("number") if field == "points" and isinstance(item, dict) else None
                where = str(number)[:40].replace("\x00", "") if isinstance(number, str | int) else point or f"#{n}"
                self._refuse_nul(item, field=field, point=where if field == "points" else point)

    # Revision

    def _authors(self) -> list[Party]:
        author = self.data["author"]
        slugs = author if isinstance(author, list) else [author]
        parties = []
        for slug in slugs:
            if not isinstance(slug, str) or slug not in self.parties:
                known = ", ".join(sorted(self.parties)) or "none loaded"
                raise self.problem(f"unknown party {slug!r} (known: {known})", field="author")
            parties.append(self.parties[slug])
        return parties

    def _status(self) -> str:
        status = str(self.data["status"]).strip().lower().replace(" ", "-")
        if status not in RevisionStatus.values:
            raise self.problem(
                f"unknown status {self.data['status']!r} (expected one of: {', '.join(RevisionStatus.labels)})",
                field="status",
            )
        return status

    def _date(self, value: Any, *, field: str, point: str = "") -> datetime.date:
        try:
            if not isinstance(value, str) or not ISO_DATE.match(value):
                raise ValueError
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise self.problem(f"{value!r} is not a date in the form YYYY-MM-DD", point=point, field=field) from None

    def _short_label(self, revision: Revision | None) -> str:
        """The given label; absent, the one an editor already set, else one derived from the title."""
        label = " ".join(str(self.data.get("short_label") or "").split())
        if len(label) > SHORT_LABEL_CHARS:
            raise self.problem(
                f"too long ({len(label)} characters; at most {SHORT_LABEL_CHARS}, e.g. 'US draft' or 'E3')",
                field="short_label",
            )
        if label:
            return label
        if revision is not None and revision.short_label:
            return revision.short_label
        derived = derive_short_label(self.data["title"])
        return derived if len(derived) <= SHORT_LABEL_CHARS else ""  # a long first word: Revision.label shows it

    def _wording(self, revision: Revision | None) -> str:
        wording = self.data.get("wording")
        if wording in (None, ""):
            return revision.wording if revision is not None else Wording.PARAPHRASE
        if wording not in Wording.values:
            raise self.problem(
                f"unknown wording {wording!r} (expected one of: {', '.join(Wording.values)})", field="wording"
            )
        return wording

    def _save_revision(self) -> tuple[Revision, bool, bool]:
        existing = Revision.objects.filter(plan=self.plan, slug=self.slug).first()
        values = {
            "title": self.data["title"],
            "short_label": self._short_label(existing),
            "wording": self._wording(existing),
            "published_on": self._date(self.data["published_on"], field="published_on"),
            "status": self._status(),
            "summary": self.data.get("summary") or "",
            "provenance": self.data.get("provenance") or self.data.get("date_note") or "",
            "original_language": self.data.get("original_language") or "",
            "translation": self.data.get("translation") or "",
        }
        authors = self._authors()
        sources = [self._source(obj, field="sources") for obj in self._list(self.data.get("sources"), "sources")]
        revision = existing
        created = revision is None
        if revision is None:
            revision = Revision(plan=self.plan, slug=self.slug)
        if self.public is not None:
            values["public"] = self.public
        changed = assign(revision, values)
        self._clean(revision)
        with history_paused(revision):  # one record of the row with its sets, not one per set
            if created or changed:
                revision.save()
            sets_changed = set_m2m(revision.authors, authors) | set_m2m(revision.sources, sources)
        if created or changed or sets_changed:
            record_version(revision, history_type="+" if created else "~")
        return revision, created, changed or sets_changed

    # Sources

    def _list(self, value: Any, field: str, point: str = "") -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.problem("expected a list", point=point, field=field)
        return value

    def _source(self, obj: Any, *, field: str, point: str = "") -> Source:
        """A source given as a URL already known, or as an object {url, outlet, date, title, kind, via}."""
        if isinstance(obj, str):
            source = Source.objects.filter(url=obj).first()
            if source is None:
                raise self.problem(
                    f"source URL {obj[:200]!r} is not known: list it with outlet, date and kind "
                    "in the revision's sources first",
                    point=point,
                    field=field,
                )
            return source
        if not isinstance(obj, dict) or not obj.get("url"):
            raise self.problem("each source needs at least a 'url'", point=point, field=field)
        kind = obj.get("kind")
        if kind not in SourceKind.values:
            raise self.problem(
                f"unknown source kind {kind!r} (expected one of: {', '.join(SourceKind.values)})",
                point=point,
                field=field,
            )
        # A field the object leaves out keeps what is stored: the same page is often cited again
        # with fewer details ("via" given once, left out the next time), and is not changed by it.
        values = {"outlet": obj.get("outlet") or "", "kind": kind}
        if "via" in obj:
            values["via"] = obj["via"] or ""
        if "date" in obj:
            values["published_on"] = self._date(obj["date"], field=field, point=point) if obj["date"] else None
        if obj.get("title"):
            values["title"] = obj["title"]
        source = Source.objects.filter(url=obj["url"]).first() or Source(url=obj["url"])
        changed = assign(source, values)
        self._clean(source, point=point, prefix=f"{field}.")
        if source.pk is None or changed:
            source.save()
        return source

    # Clauses and points

    def _save_clauses(self, revision: Revision, result: ImportResult) -> None:
        points_data = self._list(self.data["points"], "points")
        existing = {clause_key(c.number, c.point_id): c for c in revision.clauses.select_related("point")}
        plan_points = {p.key: p for p in self.plan.points.all()}
        # Points of the plan's first revision are keyed by their bare number ("6", "10a").
        first_revision = not self.plan.revisions.exclude(pk=revision.pk).exists()
        next_order = max((p.sort_order for p in plan_points.values()), default=0) + SORT_STEP
        keys: set[str] = set()  # the clauses seen: their numbers, or the point an unnumbered drop answers
        used_points: set[int] = set()  # the pks of the points they went to
        for index, item in enumerate(points_data):
            if not isinstance(item, dict):
                raise self.problem(f"entry {index + 1} is not a JSON object", field="points")
            number = item.get("number")
            if not isinstance(item.get("deleted", False), bool):
                where = str(number)[:40] if isinstance(number, str | int) else f"#{index + 1}"
                raise self.problem("must be true or false", point=where, field="deleted")
            if number is None and item.get("deleted") is True:
                # A dropped point whose number this text gives to another point: it has none of its own.
                if item.get("derived_from") in (None, ""):
                    raise self.problem(
                        f"entry {index + 1}: a dropped point without a number must name the point it drops "
                        "in derived_from",
                        field="derived_from",
                    )
                label = f"dropped {str(item['derived_from'])[:40]}"
                point, _ = self._point_for(item, "", label, existing, plan_points, first_revision, used_points)
                key = clause_key("", point.pk)  # _point_for refuses a point this revision already has
                keys.add(key)
                used_points.add(point.pk)
                self._save_clause(revision, point, "", label, index, item, existing.get(key), result)
                continue
            if not isinstance(number, str | int) or isinstance(number, bool) or not str(number).strip():
                raise self.problem(
                    f'entry {index + 1} has no number (a text such as "6" or "10a"; null only for a point '
                    "marked deleted)",
                    field="number",
                )
            number = str(number).strip()
            try:
                number_validator(number)
                if len(number) > 20:
                    raise ValidationError("at most 20 characters")
            except ValidationError as exc:
                raise self.problem(" ".join(exc.messages), point=number[:40], field="number") from None
            if number in keys:
                raise self.problem("the same number appears twice in this revision", point=number, field="number")
            keys.add(number)
            point, is_new = self._point_for(item, number, number, existing, plan_points, first_revision, used_points)
            if is_new:
                if point.split_from is not None:
                    point.sort_order = point.split_from.sort_order + 1 + point.split_from.splits.count()
                else:
                    point.sort_order = (index + 1) * SORT_STEP if first_revision else next_order
                    next_order = max(next_order, point.sort_order) + SORT_STEP
                self._clean(point, point=number)
                point.save()
                plan_points[point.key] = point
                result.points_created.append(point.key)
            used_points.add(point.pk)
            self._save_clause(revision, point, number, number, index, item, existing.get(number), result)
        for key, clause in existing.items():
            if key not in keys:
                clause.delete()
                result.clauses_removed += 1

    def _point_for(self, item, number, label, existing, plan_points, first_revision, used_points) -> tuple[Point, bool]:
        """The point a clause words: `number` is the clause's own ('' for an unnumbered drop), `label` names it."""
        derived = item.get("derived_from")
        topic = self._topic(item, number)
        if derived not in (None, ""):
            derived = str(derived).strip()
            target = plan_points.get(derived)
            if target is None:
                raise self.problem(
                    f"derived_from {derived!r} matches no point of plan {self.plan.slug!r}",
                    point=label,
                    field="derived_from",
                )
            if target.pk not in used_points:
                return target, False
            if not number:
                raise self.problem(
                    f"this revision already has a clause for point {derived!r} (worded or dropped), "
                    "so it cannot also drop it",
                    point=label,
                    field="derived_from",
                )
            # A second clause answering the same point: the revision split it in several.
            split_from = target
        else:
            if item.get("deleted"):
                raise self.problem(
                    "a dropped point must name the point it drops in derived_from", point=number, field="derived_from"
                )
            if number in existing and existing[number].point.split_from_id is None:
                return self._labelled(existing[number].point, number), False
            split_from = None
        key = number if first_revision and split_from is None else f"{self.slug}-{number}"
        key = key.lower().replace("?", "").replace(".", "-")
        if key in plan_points:
            return self._labelled(plan_points[key], number), False
        title = item.get("title") or _title_from(item.get("text") or item.get("change_note") or key)
        point = Point(plan=self.plan, key=key, title=title[:120], topic=topic, split_from=split_from)
        return self._labelled(point, number), True

    def _labelled(self, point: Point, number: str) -> Point:
        """
        A point this text added is numbered for readers by the text's label and its own number
        ('20-point 9'), not by its key; points of the plan's first text keep their number. Kept
        in step with the text's label (saved here when the point already exists).
        """
        label = "" if point.key == number else f"{self.label} · {number}"
        label = label if len(label) <= 40 else ""
        if point.label != label:
            point.label = label
            if point.pk:
                point.save(update_fields=["label", "updated_at"])
        return point

    def _topic(self, item: dict, number: str) -> Topic:
        slug = item.get("topic")
        if not isinstance(slug, str) or slug not in self.topics:
            raise self.problem(
                f"unknown topic {slug!r} (known: {', '.join(sorted(self.topics)) or 'none loaded'})",
                point=number,
                field="topic",
            )
        return self.topics[slug]

    def _save_clause(self, revision, point, number, label, index, item, clause, result) -> None:
        """Create or update one clause (`clause`, when this revision already has it) from its entry."""
        dropped = bool(item.get("deleted"))
        text = item.get("text")
        if dropped:
            text = ""
        elif not isinstance(text, str) or not text.strip():
            raise self.problem("missing (only a point marked deleted may have no text)", point=label, field="text")
        if len(text) > MAX_CLAUSE_CHARS:
            raise self.problem(
                f"too long ({len(text):,} characters; at most {MAX_CLAUSE_CHARS:,})", point=label, field="text"
            )
        wording_note = item.get("wording_note")
        if wording_note is not None and not isinstance(wording_note, str):
            raise self.problem("must be a text or null", point=label, field="wording_note")
        wording_note = " ".join((wording_note or "").split())
        if len(wording_note) > MAX_WORDING_NOTE_CHARS:
            raise self.problem(
                f"too long ({len(wording_note):,} characters; at most {MAX_WORDING_NOTE_CHARS})",
                point=label,
                field="wording_note",
            )
        values = {
            "point": point,
            "sort_order": index,
            "text": text.strip(),
            "dropped": dropped,
            "change_note": item.get("change_note") or "",
            "wording_note": wording_note,
        }
        existed = clause is not None
        clause = clause or Clause(revision=revision, number=number)
        changed = assign(clause, values)
        self._clean(clause, point=label)
        sources = [
            self._source(s, field="sources", point=label) for s in self._list(item.get("sources"), "sources", label)
        ]
        created = clause.pk is None
        with history_paused(clause):  # one record of the clause with its sources, not one more for them
            if created:
                clause.save()
                result.clauses_created += 1
            elif changed:
                clause.save()
                result.clauses_updated += 1
            sources_changed = set_m2m(clause.sources, sources)
        if sources_changed and not changed and existed:
            result.clauses_updated += 1
        if created or changed or sources_changed:
            record_version(clause, history_type="+" if created else "~")

    def _clean(self, obj, *, point: str = "", prefix: str = "") -> None:
        try:
            obj.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            name, messages = next(iter(exc.message_dict.items()))
            raise self.problem(" ".join(messages), point=point, field=prefix + name) from None


def clause_key(number: str, point_id: int | None) -> str:
    """How an import matches a clause: by its number, or, for an unnumbered drop, by the point it drops."""
    return number or f"dropped point {point_id}"


def assign(obj, values: dict) -> bool:
    """Set attributes; True when any of them differs from what the object held."""
    changed = False
    for name, value in values.items():
        field = obj._meta.get_field(name)
        if field.many_to_one:
            differs = getattr(obj, field.attname) != (value.pk if value is not None else None)
        else:
            differs = getattr(obj, name) != value
        if differs:
            setattr(obj, name, value)
            changed = True
    return changed


def set_m2m(manager, objects: list) -> bool:
    """Replace a many-to-many set only when it differs, so a re-import writes no history."""
    wanted = {o.pk for o in objects}
    if set(manager.values_list("pk", flat=True)) == wanted:
        return False
    manager.set(objects)
    return True


def _title_from(text: str, limit: int = 60) -> str:
    """A provisional title for a new point: its first words, cut at a word boundary."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text.rstrip(".")
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:.") + "…"
