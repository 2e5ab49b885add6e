"""
The stance matrix's cells and rows as HTML (web/tables.py's StanceMatrixTable.body), built
without a template per cell: a few string joins per row. One of the two named builders besides
the sanitizer (markup.py) allowed to mark HTML safe: every value is escaped here, as {{ value }}
would be; only SafeStrings (Django's own escaping, or this module's) pass through as they are.
"""

from html import escape as escape_text

from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.timezone import localtime

from peaceplans.models.choices import POSITION_LABELS, Position
from peaceplans.web.dates import short_date

# A text symbol beside every word, so position never depends on colour alone (tables.py's columns too).
POSITION_ICONS: dict[str, str] = {
    Position.SUPPORTS: "✓",
    Position.OPPOSES: "✗",
    Position.CONDITIONAL: "◐",
    Position.PROPOSES_AMENDMENT: "✎",
    Position.UNCLEAR: "?",
}


def _assembled(html: str) -> SafeString:
    """HTML that the functions below assembled from escaped values and their own literal tags."""
    return mark_safe(html)  # noqa: S308 (callers escape every value they put in)


NO_STANCE = _assembled(
    '<span class="stance stance--none">\u2014\u00a0<span class="stance__word">not recorded</span></span>'
)


def _cell(value) -> str:
    """A cell's content as {{ value }} would print it: SafeStrings as they are, anything else escaped."""
    if isinstance(value, SafeString):
        return value
    return escape_text(str(value)) if value is not None else "None"


def _attrs(attrs: dict) -> str:
    """Attributes as django-tables2 writes them: a None value leaves its attribute out."""
    return "".join(
        f' {escape_text(name)}="{escape_text(str(value))}"' for name, value in attrs.items() if value is not None
    )


def link(href: str, text: str) -> SafeString:
    """<a href="…">text</a>, both escaped."""
    return _assembled(f'<a href="{escape_text(href)}">{escape_text(text)}</a>')


def stance_link(
    *, position: str, word: str, icon: str, href: str, iso_date: str, date: str, speaker: str, on: str | None = None
):
    """
    One party's position in the matrix: icon and word, the text it answers when that is not
    the text in view (`on`, a short label), then date and speaker as visible text inside the
    link (part of its accessible name, so they reach keyboard and touch users). A no-break
    space keeps the icon on the word's line when the column is narrow. A SafeString.
    """
    who = f' <span class="stance__speaker">{escape_text(speaker)}</span>' if speaker else ""
    answers = f' <span class="stance__on">· on\u00a0{escape_text(on)}</span>' if on else ""
    return _assembled(
        f'<a class="stance stance--{escape_text(position)}" href="{escape_text(href)}">'
        f'<span class="stance__icon" aria-hidden="true">{escape_text(icon)}</span>\u00a0'
        f'<span class="stance__word">{escape_text(word)}</span>{answers} <span class="stance__meta">'
        f'<time datetime="{escape_text(iso_date)}">{escape_text(date)}</time>{who}</span></a>'
    )


def party_name(name: str, slug: str) -> SafeString:
    """
    The party's name inside its cell, shown only where the column headings are not (phones,
    styles/app.css); hidden from screen readers, which announce the column's heading.
    """
    return _assembled(
        f'<span class="cell__party cell__party--{escape_text(slug)}" aria-hidden="true">{escape_text(name)}</span>'
    )


def no_stance(text_label: str | None) -> SafeString:
    """No position recorded: on the text in view (`text_label`), or none at all."""
    if text_label is None:
        return NO_STANCE
    return _assembled(
        '<span class="stance stance--none">\u2014\u00a0<span class="stance__word">none on '
        f"{escape_text(text_label)}</span></span>"
    )


def muted_stance(*, label: str, icon: str, word: str, href: str, iso_date: str, date: str) -> SafeString:
    """
    A stance on another text than the one in view: muted, in brackets, its text named first,
    so it never reads as a position on the text in view.
    """
    return _assembled(
        f'<a class="stance-other" href="{escape_text(href)}">(on\u00a0{escape_text(label)}: '
        f'<span aria-hidden="true">{escape_text(icon)}</span>\u00a0{escape_text(word)}, '
        f'<time datetime="{escape_text(iso_date)}">{escape_text(date)}</time>)</a>'
    )


def more_link(*, count: int, word: str, href: str, hx_get: str, about: str) -> SafeString:
    """
    '+2 earlier': a link to the party's history on the point (the point page, at the party),
    which htmx replaces in place with that history.
    """
    return _assembled(
        f'<a class="cell__more" href="{escape_text(href)}" hx-get="{escape_text(hx_get)}" hx-target="this" '
        f'hx-swap="outerHTML">+{count}\u00a0{escape_text(word)}'
        f'<span class="visually-hidden">: {escape_text(about)}</span></a>'
    )


def joined(parts: list) -> SafeString:
    """Cell parts built above (SafeStrings), one after another."""
    return _assembled(" ".join(_cell(part) for part in parts))


def attributes(attrs: dict) -> SafeString:
    """' name="value"…' as django-tables2 writes them, escaped: worked out once per column, not per cell."""
    return _assembled(_attrs(attrs))


def table_row(row_id: str, cells) -> SafeString:
    """
    <tr id> and a <td attrs> for each (attrs, content) in `cells`: `attrs` from attributes(),
    each content escaped unless it is a SafeString already.
    """
    tds = "".join(f"<td{td}>{_cell(content)}</td>" for td, content in cells)
    return _assembled(f'<tr id="{escape_text(row_id)}">{tds}</tr>')


def time_strip(texts, *, compare_path: str) -> SafeString:
    """
    The overview's time strip: the plan's texts in date order as cards (web/summary.py's Text),
    each with its date, heading (the short label, else the whole title, never cut), status and
    authors, and a link comparing it with the first text; the newest marked "Latest" in words.
    """
    if not texts:
        return _assembled('<ol class="time-strip">\n  <li>No revisions yet.</li>\n</ol>')
    first = texts[0]
    against = escape_text(first.short_label or "the first text")
    items = []
    for n, text in enumerate(texts):
        last = n == len(texts) - 1
        heading = escape_text(text.short_label or text.title)
        latest = ' <span class="tag tag--latest">Latest</span>' if last and n else ""
        full = ""
        if text.short_label and text.short_label != text.title:
            full = f'\n    <p class="time-strip__full">{escape_text(text.title)}</p>'
        compare = ""
        if n:
            href = escape_text(f"{compare_path}?a={first.slug}&b={text.slug}")
            compare = (
                f'\n    <a class="time-strip__compare" href="{href}">Compare<span class="visually-hidden"> '
                f"{heading}</span> with {against}</a>"
            )
        items.append(
            f'  <li class="time-strip__item{" time-strip__item--latest" if last else ""}">\n'
            f'    <p class="time-strip__date"><time datetime="{escape_text(text.iso)}">{escape_text(text.day)}</time>'
            f"{latest}</p>\n"
            f'    <h3 class="time-strip__title"><a href="{escape_text(text.url)}">{heading}</a></h3>{full}\n'
            f'    <p class="time-strip__meta"><span class="time-strip__status">{escape_text(text.status)}</span>'
            f" · by {escape_text(text.authors)}</p>{compare}\n  </li>"
        )
    return _assembled('<ol class="time-strip">\n' + "\n".join(items) + "\n</ol>")


def _citation(source) -> str:
    """
    One source as components/source_link.html prints it, newlines included: outlet (linked when
    citable), date, kind, and a warning for weak sources. Escaped parts; callers mark the whole.
    """
    outlet = escape_text(source.outlet)
    cite = f'<a href="{escape_text(source.url)}" rel="noopener noreferrer">{outlet}</a>' if source.citable else outlet
    if source.published_on:
        day = source.published_on
        cite += f', <time datetime="{day.isoformat()}">{escape_text(short_date(day))}</time>'
    via = f" via {escape_text(source.via)}" if source.via else ""
    kind = f'<span class="kind kind--{escape_text(source.kind)}">{escape_text(source.get_kind_display())}{via}</span>'
    if not source.citable:
        kind += ' <strong class="warning">not citable</strong>'
    elif source.is_weak:
        kind += ' <span class="warning">weak source</span>'
    return f'\n<span class="cite">{cite}\n{kind}</span>\n'


def source_link(source) -> SafeString:
    """A citation, exactly as {% include "peaceplans/components/source_link.html" %} prints it."""
    return _assembled(_citation(source))


def _names(parties, separator: str) -> str:
    return separator.join(escape_text(party.name) for party in parties)


def _timeline_item(entry, revision_path: str, compare_path: str) -> str:
    item, kind = entry.item, entry.kind
    day = f'<time datetime="{entry.date.isoformat()}">{escape_text(short_date(entry.date))}</time>'
    summary = f"\n      <p>{escape_text(item.summary)}</p>" if item.summary else ""
    if kind == "revision":
        authors = f" by {_names(item.author_list, ' and ')}" if item.author_list else ""
        status = escape_text(capfirst(item.get_status_display()))
        previous = entry.previous
        if previous is not None:
            href = escape_text(f"{compare_path}?a={previous.slug}&b={item.slug}")
            compare = (
                f'<a href="{href}">Compare with the text before it</a> '
                f'<span class="meta">({escape_text(previous.title)})</span>'
            )
        else:
            compare = '<span class="meta">First text: nothing earlier to compare with.</span>'
        sources = ""
        if item.source_list:
            listed = "".join(f"<li>{_citation(source)}</li>" for source in item.source_list)
            sources = (
                f'\n      <details class="sources"><summary>Sources ({len(item.source_list)})</summary>'
                f"\n        <ul>{listed}</ul>\n      </details>"
            )
        body = (
            f'\n      <h2 class="timeline__title"><a href="{escape_text(revision_path + item.slug)}/">'
            f"{escape_text(item.title)}</a></h2>"
            f'\n      <p class="meta">{status}{authors}</p>{summary}'
            f'\n      <p class="timeline__compare">{compare}</p>{sources}'
        )
        day += ' <span class="timeline__kind">New text</span>'
    else:
        parties = f'\n      <p class="meta">Involving {_names(item.party_list, ", ")}</p>' if item.party_list else ""
        source = ""
        if item.source is not None:
            source = f'\n      <p class="timeline__source">Source: {_citation(item.source)}</p>'
        body = f'\n      <h2 class="timeline__title">{escape_text(item.title)}</h2>{parties}{summary}{source}'
    return (
        f'\n    <li class="timeline__item timeline__item--{kind}" id="{escape_text(entry.anchor)}">'
        f'\n      <p class="timeline__date">{day}</p>{body}\n    </li>'
    )


def timeline(entries, *, revision_path: str, compare_path: str, party_name: str | None = None) -> SafeString:
    """
    The timeline's list (timeline.timeline_entries' entries, in date order): each event with
    the parties it involves and its source, each revision with its authors, sources and a
    comparison with the text before it. `revision_path` is a revision's address without its slug;
    `party_name`, the party the list is narrowed to, words the empty list.
    """
    items = "".join(_timeline_item(entry, revision_path, compare_path) for entry in entries)
    if not entries:
        whom = f" for {escape_text(party_name)}" if party_name else ""
        items = f'\n    <li class="timeline__item">Nothing recorded{whom} yet.</li>'
    return _assembled(f'<ol class="timeline">{items}\n  </ol>')


class _Paths(dict):
    """
    Addresses of a render's objects, each plan's part reversed once per kind of page rather than
    once per object: `page("timeline", plan)` is the plan's page; `item("point_detail", plan, key)`
    an object's, the part before its key reversed once (keys and slugs are letters, digits and
    hyphens, which reverse() leaves as they are).
    """

    def page(self, name: str, plan_slug: str) -> str:
        path = self.get((name, plan_slug))
        if path is None:
            path = self[name, plan_slug] = reverse(name, args=[plan_slug])
        return path

    def item(self, name: str, plan_slug: str, key: str) -> str:
        prefix = self.get((name, plan_slug, None))
        if prefix is None:
            prefix = self[name, plan_slug, None] = reverse(name, args=[plan_slug, "0"]).removesuffix("0/")
        return f"{prefix}{key}/"


def _hit_day(day) -> str:
    return f'<time datetime="{day.isoformat()}">{escape_text(short_date(day))}</time>'


def _search_hit(hit, path: _Paths) -> str:
    obj, fields = hit.obj, hit.fields
    if hit.kind == "clause":
        point, revision = obj.point, obj.revision
        plan = revision.plan.slug
        links = ""
        if hit.previous is not None:
            query = escape_text(urlencode({"a": hit.previous.slug, "b": revision.slug}))
            href = f"{path.page('compare', plan)}?{query}#point-{escape_text(point.key)}"
            links = f'\n          <li><a href="{href}">What changed from {escape_text(hit.previous.title)}</a></li>'
        full = escape_text(path.item("revision_detail", plan, revision.slug) + f"#point-{point.key}")
        url = escape_text(path.item("point_detail", point.plan.slug, point.key) + f"#clause-{revision.slug}")
        return (
            f'\n        <h3 class="search-hit__title"><a href="{url}"><span class="point-key">'
            f"{escape_text(point.number)}</span> {escape_text(point.title)}</a></h3>"
            f'\n        <p class="search-hit__meta">{escape_text(revision.title)} · {_hit_day(revision.published_on)}'
            f" · {escape_text(obj.number_label)}</p>"
            f'\n        <p class="search-hit__text">{_cell(fields.get("text", ""))}</p>'
            f'\n        <ul class="search-hit__links">{links}'
            f'\n          <li><a href="{full}">In the full text</a></li>\n        </ul>'
        )
    if hit.kind == "stance":
        if obj.point_id is not None:
            url = path.item("point_detail", obj.point.plan.slug, obj.point.key) + f"#stance-{obj.pk}"
            about = f"point {escape_text(obj.point.number)}: {escape_text(obj.point.title)}"
        else:
            url = path.item("revision_detail", obj.revision.plan.slug, obj.revision.slug) + f"#stance-{obj.pk}"
            about = f"{escape_text(obj.revision.title)} as a whole"
        position = escape_text(obj.position)
        icon, word = (
            escape_text(POSITION_ICONS.get(obj.position, "")),
            escape_text(POSITION_LABELS.get(obj.position, "")),
        )
        quote, speaker = fields.get("quote"), fields.get("speaker")
        said = ""
        if quote:
            who = f"<footer>— {_cell(speaker)}</footer>" if speaker else ""
            said = f'\n        <blockquote class="search-hit__quote"><p>“{_cell(quote)}”</p>{who}</blockquote>'
        elif speaker:
            said = f'\n        <p class="search-hit__meta">Speaker: {_cell(speaker)}</p>'
        return (
            f'\n        <h3 class="search-hit__title"><a href="{escape_text(url)}">{escape_text(obj.party.name)} on '
            f"{about}</a></h3>"
            f'\n        <p class="search-hit__meta"><span class="position position--{position}">'
            f'<span aria-hidden="true">{icon}</span> {word}</span> · {_hit_day(obj.stated_on)}</p>'
            f'\n        <p class="search-hit__text">{_cell(fields.get("summary", ""))}</p>{said}'
            f'\n        <p class="search-hit__source">Source: {_citation(obj.source)}</p>'
        )
    if hit.kind == "note":
        when = localtime(obj.published_at or obj.updated_at)  # as {{ when|date }} shows it: in the site's time zone
        url = path.item("point_detail", obj.point.plan.slug, obj.point.key) + f"#note-{obj.pk}"
        return (
            f'\n        <h3 class="search-hit__title"><a href="{escape_text(url)}">Editors’ note on point '
            f"{escape_text(obj.point.number)}: {escape_text(obj.point.title)}</a></h3>"
            f'\n        <p class="search-hit__meta">Published <time datetime="{date_filter(when, "Y-m-d")}">'
            f"{escape_text(date_filter(when, 'j M Y'))}</time></p>"
            f'\n        <p class="search-hit__text">{_cell(fields.get("body", ""))}</p>'
        )
    url = f"{path.page('timeline', obj.plan.slug)}#event-{obj.pk}"
    summary = fields.get("summary")
    text = f'\n        <p class="search-hit__text">{_cell(summary)}</p>' if summary else ""
    source = f'\n        <p class="search-hit__source">Source: {_citation(obj.source)}</p>' if obj.source else ""
    title = _cell(fields.get("title", ""))
    return (
        f'\n        <h3 class="search-hit__title"><a href="{escape_text(url)}">{title}</a></h3>'
        f'\n        <p class="search-hit__meta">Event on the timeline · {_hit_day(obj.date)}</p>{text}{source}'
    )


def search_hits(hits) -> SafeString:
    """
    One kind's hits on the search page (search.Hit: the object, its highlighted fields, for a
    clause the text before its revision's), each with the addresses that show it in place.
    The highlighted fields are the sanitizer's SafeStrings (markup.highlight) and pass as they are.
    """
    path = _Paths()
    items = "".join(f'\n      <li class="search-hit">{_search_hit(hit, path)}\n      </li>' for hit in hits)
    return _assembled(f'<ol class="search-hits">{items}\n    </ol>')
