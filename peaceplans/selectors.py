"""
Reads that more than one surface uses: the pages (web/), and the API, embeds, feeds and CSV
exports (publish/). Each returns plain model instances or tuples of them, in a fixed number of
queries; a page and its CSV take their rows from the same function, so they never disagree.
Nothing here knows about requests, templates or formats.
"""

import re
from typing import cast

from django.http import Http404

from peaceplans.compare import memo
from peaceplans.models import Party, Plan, Point, Source, Stance, key_validator

KEY_MAX_LENGTH = cast(int, Point._meta.get_field("key").max_length)  # a CharField's, always set


def get_plan(slug: str) -> Plan:
    """The plan of that slug; a 404 naming it when there is none (one query)."""
    plan = Plan.objects.filter(slug=slug).first()
    if plan is None:
        raise Http404(f"There is no plan called “{slug}”.")
    return plan


def get_party(slug: str) -> Party:
    """The party of that slug; a 404 when there is none (one query)."""
    party = Party.objects.filter(slug=slug).first()
    if party is None:
        raise Http404("There is no party with that name.")
    return party


def is_point_key(key: str) -> bool:
    """Whether a value could be a point's key ("6", "10a", "21d"); anything else never reaches the database."""
    # RegexValidator compiles its regex in __init__; django-stubs types the attribute str | Pattern.
    pattern = cast(re.Pattern[str], key_validator.regex)
    return len(key) <= KEY_MAX_LENGTH and pattern.fullmatch(key) is not None


def point_by_key(plan: Plan, key: str, *, related: tuple[str, ...] = ("plan",), queryset=None) -> Point | None:
    """
    The plan's public point with that key, or None (one query, none for a value that cannot be a
    key). `related` names what to join; `queryset` replaces the plan's public points (the API
    annotates its own). Each surface words its own 404: pages speak of numbers, the API of keys.
    """
    if not is_point_key(key):
        return None
    points = (plan.points.public() if queryset is None else queryset).filter(key=key)
    return (points.select_related(*related) if related else points).first()


def point_wording(point: Point, revisions: list, against) -> list[tuple]:
    """
    The point page's wording list, shared with its CSV and embed: (revision, its clause or None,
    the word-level diff against the revision `against` or None) for each revision: two queries,
    and a third for the stored diffs when it is read against a revision whose text differs.
    """
    clauses = {c.revision_id: c for c in point.clauses.public().prefetch_related("sources")}
    texts = {pk: clause.text for pk, clause in clauses.items() if not clause.dropped}
    base_text = texts.get(against.pk) if against else None
    diffed = {revision.pk for revision in revisions if against and revision != against and revision.pk in texts}
    memo.preload((base_text, texts[pk]) for pk in diffed)  # one query
    wording = []
    for revision in revisions:
        changes = memo.compare(base_text, texts[revision.pk]) if revision.pk in diffed else None
        wording.append((revision, clauses.get(revision.pk), changes))
    return wording


def stances_by_party(point: Point) -> list[tuple]:
    """The point page's stances, shared with its CSV: (party, its stances oldest first) for every party, two queries."""
    stances = list(point.stances.public().with_sources().chronological())
    return [(party, [s for s in stances if s.party_id == party.pk]) for party in Party.objects.all()]


def party_history(point: Point, party: Party) -> list[Stance]:
    """One party's stances on a point, newest first, with texts and sources: the matrix's '+2 earlier' (one query)."""
    stances = point.stances.public().filter(party=party).with_sources()
    return list(stances.order_by("-stated_on", "-pk"))


def party_positions(plan: Plan, party: Party, *, with_sources: bool = False) -> list[tuple]:
    """
    The party page's table, shared with its CSV: (point, the party's latest stance on it or
    None) in plan order, two queries; the CSV wants each stance's source joined.
    """
    stances = Stance.objects.filter(plan=plan).public().select_related("revision")  # the text it answers
    if with_sources:
        stances = stances.select_related("source")
    latest = stances.latest_per_point(party=party)
    return [(point, latest.get((point.pk, party.pk))) for point in plan.points.public().for_matrix()]


def sources_in_order():
    """Every source readers may see, newest first: the sources page and its CSV."""
    return Source.objects.public().in_order()
