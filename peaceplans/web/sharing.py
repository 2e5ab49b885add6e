"""
What a page says about itself when it is shared, cited or embedded: the canonical URL
with the whole state in its query, the Open Graph / Twitter card title and description,
the plain-text "Cite this" block and the <iframe> snippet.

Plain text in, plain text out: templates escape it, nothing here is marked safe. No query
runs here; callers pass what their page already loaded.
"""

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from peaceplans.models import Party, Plan, Point, Revision, Source
from peaceplans.ops.staticfiles import EMBED_HOST_SCRIPT

SITE_NAME = "peaceplans"
MAX_DESCRIPTION_CHARS = 300
# The <iframe> heights the snippets and oEmbed offer: the frame's height until the embed says how
# tall it is (static/peaceplans/embed.js), and what a page that runs neither our host script nor
# pym.js keeps, scrolling inside it.
EMBED_HEIGHTS = {"point": 640, "compare": 720}
# What marks an <iframe> as one of our embeds for the host script (static/peaceplans/embed-host.js).
EMBED_MARK = "data-peaceplans-embed"
EMBED_WIDTH = 640


@dataclass(frozen=True)
class Share:
    """A page as link previews and citations see it. `url` is absolute and canonical."""

    title: str
    description: str
    url: str
    type: str = "website"
    oembed_url: str = ""  # this page's oEmbed description, for the discovery <link>

    def __post_init__(self):
        description = " ".join(self.description.split())
        object.__setattr__(self, "description", Truncator(description).chars(MAX_DESCRIPTION_CHARS))


@dataclass(frozen=True)
class Embed:
    """The embeddable version of a page: its absolute URL, and the snippet a journalist pastes."""

    url: str
    title: str
    height: int
    host_script: str  # the absolute address of static/peaceplans/embed-host.js

    def snippet(self) -> str:
        """The <iframe> and the host script as plain text (the template escapes it again for display)."""
        return iframe_html(self.url, self.title, width="100%", height=self.height, host_script=self.host_script)


def iframe_html(src: str, title: str, *, width: int | str, height: int, host_script: str) -> str:
    """
    The <iframe> of an embed, marked for the host script, then the <script> that loads that
    script: pasted into an article, the frame grows to its content's height. Without the script
    (a CMS that strips it) the frame keeps `height` and scrolls inside it.
    """
    attrs = {"src": src, "title": title, "width": width, "height": height, "loading": "lazy"}
    iframe = " ".join(f'{name}="{html.escape(str(value))}"' for name, value in attrs.items())
    script = f'<script src="{html.escape(host_script)}" async></script>'
    return f"<iframe {iframe} {EMBED_MARK}></iframe>\n{script}"


def host_script_url(request) -> str:
    """
    The host script by its plain name, not the hashed one whitenoise's manifest gives it: a
    snippet stays in an article for years, across releases that would drop an old hashed name
    (ops/staticfiles.py keeps the plain name's cache short and lets other sites load it).
    """
    return request.build_absolute_uri(settings.STATIC_URL + EMBED_HOST_SCRIPT)


def absolute(request, path: str, query: dict | list[tuple[str, str]] | None = None) -> str:
    """An absolute URL on this site; `query` (a dict, or pairs to repeat a name) keeps its order, drops empty values."""
    pairs = [(k, v) for k, v in (query.items() if isinstance(query, dict) else query or []) if v]
    return request.build_absolute_uri(path + ("?" + urlencode(pairs) if pairs else ""))


def query_string(request) -> str:
    """The request's own query ("?party=us"), kept where it is the page's state; "" without one."""
    return "?" + request.GET.urlencode() if request.GET else ""


def oembed_url(request, page_url: str) -> str:
    return absolute(request, reverse("oembed"), {"url": page_url, "format": "json"})


def long_date(value: date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else "undated"


def short_date(value: date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else "undated"


def names(parties: Iterable[Party]) -> str:
    """'US, Ukraine and Europe'."""
    labels = [party.short_name for party in parties]
    return ", ".join(labels[:-1]) + " and " + labels[-1] if len(labels) > 1 else "".join(labels)


# Canonical URLs with the whole state: the same view always has the same address.


def compare_query(a: Revision, b: Revision, view="side", changes="all", focus=None) -> list[tuple[str, str]]:
    """The compare page's whole state as query pairs: the texts, the view, then the focus (params.Focus)."""
    pairs = [("a", a.slug), ("b", b.slug), ("view", view), ("changes", changes)]
    return pairs + (focus.query() if focus else [])


def compare_url(
    request, plan: Plan, a: Revision, b: Revision, view: str = "side", changes: str = "all", focus=None
) -> str:
    return absolute(request, reverse("compare", args=[plan.slug]), compare_query(a, b, view, changes, focus))


def compare_links(plan: Plan, a: Revision, b: Revision, view: str, changes: str, focus) -> dict:
    """
    The compare page's own links, relative: its CSV with the same filters, every point again, and
    one link per chosen topic that leaves that topic out (the chips above the rows).
    """
    page, csv = reverse("compare", args=[plan.slug]), reverse("compare_csv", args=[plan.slug])
    state = compare_query(a, b, view, changes, focus)
    chips = []
    for topic in focus.topics:
        others = type(focus)(topics=tuple(t for t in focus.topics if t != topic), points=focus.points)
        chips.append((topic, page + "?" + urlencode(compare_query(a, b, view, changes, others))))
    defaults = {("view", view), ("changes", "all")}  # the CSV has no view; all points is its default
    return {
        "csv_url": csv + "?" + urlencode([pair for pair in state if pair not in defaults]),
        "all_points_url": page + "?" + urlencode(compare_query(a, b, view, "all")),
        "topic_chips": chips,
    }


def point_url(request, point: Point, against: Revision | None = None) -> str:
    return absolute(request, point.get_absolute_url(), {"against": against.slug if against else ""})


# Each page's share, citation and embed, as one dict for the view's context


def for_plan(request, plan: Plan, revisions: list[Revision]) -> dict:
    """
    The overview (also at "/", whose canonical address is the plan's own). Its filters and
    sort are part of the state, so they stay in the canonical URL; the citation is the plan's.
    """
    description = plan.summary or f"The texts of {plan.title}, compared point by point."
    if revisions:
        span = f"{short_date(revisions[0].published_on)} to {short_date(revisions[-1].published_on)}"
        description = f"{len(revisions)} texts, {span}, and where each party stands on each point. {description}"
    url = absolute(request, plan.get_absolute_url())
    share = Share(title=plan.title, description=description, url=url + query_string(request))
    details = [f"Texts compared: {'; '.join(revision_label(r) for r in revisions)}" if revisions else ""]
    details.append(f"Every source, with outlet, date and kind: {absolute(request, reverse('source_list'))}")
    what = f"{plan.title}: the texts and each party's positions"
    return {"share": share, "citation": citation(what, plan, url, details=details)}


def comparison_counts(comparison) -> str:
    """'9 changed, 2 added, 1 dropped' from a comparison.Comparison: the counts that are not zero."""
    parts = [f"{n} {label.split(' (')[0]}" for _, label, n in comparison.count_items() if n]
    if comparison.absent:
        parts.append(f"{comparison.absent} not in B's text")
    return ", ".join(parts) or "no points"


def for_comparison(
    request, plan: Plan, a: Revision, b: Revision, view: str, changes: str, comparison, focus=None
) -> dict:
    """The compare page in one state; `comparison` is None when both sides are the same text."""
    url = compare_url(request, plan, a, b, view, changes, focus)
    details = [f"From {revision_label(a)} to {revision_label(b)}"]
    if comparison is None:
        title = f"{a.title}, compared with itself"
        description = f"Both sides are the same text: {a.title} ({short_date(a.published_on)})."
    else:
        counts = comparison_counts(comparison)
        title = f"{a.title} → {b.title}: {counts}"
        description = (
            f"Word-level changes, point by point, from {a.title} ({short_date(a.published_on)}) "
            f"to {b.title} ({short_date(b.published_on)}): {counts}. {plan.title}."
        )
        if focus and focus.topics:
            details.append("Topics: " + ", ".join(topic.name for topic in focus.topics))
        if focus and focus.points:
            details.append("Points asked for: " + ", ".join(focus.points))
        details.append(f"Points: {counts}" + (", changed points only" if changes == "only" else ""))
    share = Share(title=title, description=description, url=url, type="article", oembed_url=oembed_url(request, url))
    sources = [*a.sources.all(), *b.sources.all()]
    text = citation(f"Comparison: {a.title} → {b.title}", plan, url, details=details, sources=sources)
    context = {"share": share, "citation": text}
    if comparison is not None:
        context["embed"] = compare_embed(request, plan, a, b, view, changes, focus.points if focus else (), focus)
    return context


def for_point(request, plan: Plan, point: Point, against, wording, by_party) -> dict:
    """`wording` and `by_party` as views.point_detail builds them."""
    worded = [revision_label(revision) for revision, clause, _ in wording if clause and not clause.dropped]
    latest = [f"{party.short_name} {stances[-1].get_position_display()}" for party, stances in by_party if stances]
    description = f"The wording of point {point.number} in {len(worded)} of {len(wording)} texts of {plan.title}"
    description += f"; latest positions: {', '.join(latest)}." if latest else "; no positions recorded yet."
    url = point_url(request, point, against)
    share = Share(
        title=f"Point {point.number}: {point.title}",
        description=description,
        url=url,
        type="article",
        oembed_url=oembed_url(request, url),
    )
    sources = [s for _, clause, _ in wording if clause for s in clause.sources.all()]
    sources += [stance.source for _, stances in by_party for stance in stances]
    details = [f"Wording in {'; '.join(worded)}" if worded else "", f"Positions of {names(p for p, _ in by_party)}"]
    what = f"“{point.title}” (point {point.number})"
    text = citation(what, plan, point_url(request, point), details=details, sources=sources)
    return {"share": share, "citation": text, "embed": point_embed(request, point)}


def for_revision(request, plan: Plan, revision: Revision) -> dict:
    """Expects the revision's authors, clauses and sources prefetched."""
    authors = names(revision.authors.all())
    worded = sum(1 for clause in revision.clauses.all() if not clause.dropped)
    status = revision.get_status_display().capitalize() + (f" by {authors}" if authors else "")
    share = Share(
        title=revision.title,
        description=f"{status}, {short_date(revision.published_on)}: {worded} points. {revision.summary}",
        url=absolute(request, revision.get_absolute_url()),
        type="article",
    )
    details = [f"{status}, {long_date(revision.published_on)}"]
    text = citation(f"{revision.title} (full text)", plan, share.url, details=details, sources=revision.sources.all())
    return {"share": share, "citation": text}


def for_party(request, plan: Plan, party: Party, rows, on_revisions) -> dict:
    """`rows` are (point, latest stance or None) with each stance's source joined."""
    counts: dict[str, int] = {}
    for _, stance in rows:
        if stance:
            counts[stance.get_position_display()] = counts.get(stance.get_position_display(), 0) + 1
    tally = ", ".join(f"{label} {n}" for label, n in sorted(counts.items(), key=lambda item: -item[1]))
    description = f"{party.name}'s latest recorded position on {sum(counts.values())} of {len(rows)} points"
    description += f" of {plan.title}" + (f": {tally}." if tally else ".")
    url = absolute(request, reverse("party_detail", args=[plan.slug, party.slug]))
    share = Share(title=f"{party.name}: positions on every point", description=description, url=url)
    sources = [stance.source for _, stance in rows if stance] + [stance.source for stance in on_revisions]
    return {"share": share, "citation": citation(share.title, plan, url, sources=sources)}


def for_timeline(request, plan: Plan, entries) -> dict:
    """`entries` as timeline.timeline_entries gives them (date order, each with `date` and `kind`)."""
    events = sum(1 for entry in entries if entry.kind == "event")
    description = f"{events} events and {len(entries) - events} texts of {plan.title} by date"
    if entries:
        description += f", {short_date(entries[0].date)} to {short_date(entries[-1].date)}"
    url = absolute(request, reverse("timeline", args=[plan.slug])) + query_string(request)  # the party filter
    return {"share": Share(title=f"Timeline: {plan.title}", description=description + ".", url=url)}


def for_sources(request, count: int) -> dict:
    description = (
        f"The {count} reports, official pages and agency stories the data rests on, with outlet, date and kind."
    )
    return {"share": Share(title="Sources", description=description, url=absolute(request, reverse("source_list")))}


def for_search(request, text: str, plan: Plan | None, found: str | None) -> dict:
    """
    A search's own address (q and plan) and what it found ("12 matches", "More than 3,257
    matches": search.Results.found); an empty search describes the page.
    """
    url = absolute(request, reverse("search"), {"q": text, "plan": plan.slug if plan else ""})
    if not text:
        description = "Full-text search over the wording of every text, the parties' positions, notes and events."
        return {"share": Share(title="Search", description=description, url=url)}
    where = f" in {plan.title}" if plan else ""
    description = f"{found} for “{text}”{where}: wording, positions, notes and events, each linked to its source."
    return {"share": Share(title=f"Search: {text}", description=description, url=url)}


def for_api_docs(request) -> dict:
    description = (
        "The same data as the site, as read-only JSON: plans, revisions with their clauses, points, "
        "stances with sources, events; paginated, with ETags, an OpenAPI description and a whole-dataset download."
    )
    return {"share": Share(title="Data and API", description=description, url=absolute(request, reverse("api_docs")))}


def for_change_log(request, plan: Plan, count: int) -> dict:
    description = f"The latest {count} edits to the texts, points, positions and published notes of {plan.title}."
    url = absolute(request, reverse("change_log", args=[plan.slug]))
    return {"share": Share(title=f"Recent changes: {plan.title}", description=description, url=url)}


# "Cite this": plain text ready to paste


def revision_label(revision: Revision) -> str:
    return f"{revision.title} ({long_date(revision.published_on)})"


def source_line(source: Source) -> str:
    """One source as a citation: outlet, title, date and URL; a source that must not be cited has no URL."""
    title = f", “{source.title}”" if source.title else ""
    line = f"{source.outlet}{title}, {long_date(source.published_on)} ({source.get_kind_display()})"
    return f"{line}. {source.url}" if source.citable else f"{line}; not citable, so named without its address."


def unique_sources(sources: Iterable[Source]) -> list[Source]:
    """Each source once, oldest first."""
    seen = {source.pk: source for source in sources if source is not None}
    return sorted(seen.values(), key=lambda s: (s.published_on or date.max, s.outlet.lower(), s.pk))


def citation(what: str, plan: Plan, url: str, *, details: Iterable[str] = (), sources: Iterable[Source] = ()) -> str:
    """
    A reference a journalist can paste: what it is, in which plan, the texts or point it
    covers, the day it was accessed (today, in the site's time zone) and the permalink,
    then the sources behind it.
    """
    lines = [f"{what}. In: {plan.title}. {SITE_NAME}."]
    lines += [f"{detail}." for detail in details if detail]
    lines.append(f"Accessed {long_date(timezone.localdate())}. {url}")
    listed = unique_sources(sources)
    if listed:
        lines += ["", "Sources:"] + [f"- {source_line(source)}" for source in listed]
    return "\n".join(lines)


# Embeds


def point_embed(request, point: Point, revisions: Iterable[Revision] = ()) -> Embed:
    slugs = ",".join(revision.slug for revision in revisions)
    url = absolute(request, reverse("embed_point", args=[point.plan.slug, point.key]), {"revisions": slugs})
    title = f"Point {point.number}: {point.title} (peaceplans)"
    return Embed(url=url, title=title, height=EMBED_HEIGHTS["point"], host_script=host_script_url(request))


def compare_embed(
    request, plan: Plan, a: Revision, b: Revision, view="side", changes="all", points: Iterable[str] = (), focus=None
) -> Embed:
    """The comparison's embed; `focus` (params.Focus) carries the page's topics, `points` the points shown."""
    query = [("a", a.slug), ("b", b.slug), ("view", view), ("changes", changes)]
    query += [("topic", topic.slug) for topic in (focus.topics if focus else ())] + [("points", ",".join(points))]
    url = absolute(request, reverse("embed_compare", args=[plan.slug]), query)
    title = f"{a.title} → {b.title} (peaceplans)"
    return Embed(url=url, title=title, height=EMBED_HEIGHTS["compare"], host_script=host_script_url(request))
