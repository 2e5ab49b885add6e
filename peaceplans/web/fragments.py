"""
Page fragments as HTML: the lists that repeat an item per row of data (the time strip, the
timeline, search hits, stance cards, a point's wording, a revision's clauses) and the citation
inside them, each built without a template node per value: a few string joins per item. As in
web/cells.py (the matrix), every value is escaped where it is put in (escape_text, as {{ value }}
would be), the tags are literals, only SafeStrings made by the sanitizer or a builder (the search's
highlighted fields, compare/rows.py's redline) pass as they are, and each fragment is marked safe
once. Where a component still serves other pages (components/source_link.html, stance.html),
tests/web/test_builders.py keeps the two the same.
"""

from html import escape as escape_text

from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.timezone import localtime

from peaceplans.compare.rows import redline
from peaceplans.models.choices import POSITION_LABELS
from peaceplans.web.cells import POSITION_ICONS
from peaceplans.web.dates import short_date


def _assembled(html: str) -> SafeString:
    """HTML that the functions below assembled from escaped values and their own literal tags."""
    return mark_safe(html)  # noqa: S308 (callers escape every value they put in)


def _safe(value) -> str:
    """A value as {{ value }} would print it: SafeStrings as they are, anything else escaped."""
    return value if isinstance(value, SafeString) else escape_text(str(value)) if value is not None else ""


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
            f'\n        <p class="search-hit__text">{_safe(fields.get("text", ""))}</p>'
            f'\n        <ul class="search-hit__links">{links}'
            f'\n          <li><a href="{full}">In the full text</a></li>\n        </ul>'
        )
    if hit.kind == "change":
        return _change_hit(hit, path)
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
            who = f"<footer>— {_safe(speaker)}</footer>" if speaker else ""
            said = f'\n        <blockquote class="search-hit__quote"><p>“{_safe(quote)}”</p>{who}</blockquote>'
        elif speaker:
            said = f'\n        <p class="search-hit__meta">Speaker: {_safe(speaker)}</p>'
        return (
            f'\n        <h3 class="search-hit__title"><a href="{escape_text(url)}">{escape_text(obj.party.name)} on '
            f"{about}</a></h3>"
            f'\n        <p class="search-hit__meta"><span class="position position--{position}">'
            f'<span aria-hidden="true">{icon}</span> {word}</span> · {_hit_day(obj.stated_on)}</p>'
            f'\n        <p class="search-hit__text">{_safe(fields.get("summary", ""))}</p>{said}'
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
            f'\n        <p class="search-hit__text">{_safe(fields.get("body", ""))}</p>'
        )
    url = f"{path.page('timeline', obj.plan.slug)}#event-{obj.pk}"
    summary = fields.get("summary")
    text = f'\n        <p class="search-hit__text">{_safe(summary)}</p>' if summary else ""
    source = f'\n        <p class="search-hit__source">Source: {_citation(obj.source)}</p>' if obj.source else ""
    title = _safe(fields.get("title", ""))
    return (
        f'\n        <h3 class="search-hit__title"><a href="{escape_text(url)}">{title}</a></h3>'
        f'\n        <p class="search-hit__meta">Event on the timeline · {_hit_day(obj.date)}</p>{text}{source}'
    )


def _change_hit(hit, path: _Paths) -> str:
    """
    A clause's change note and wording note: to the comparison with the plan's first text, which
    change notes are written against (the compare page shows them there), or to the point page.
    """
    obj, fields = hit.obj, hit.fields
    point, revision = obj.point, obj.revision
    plan = revision.plan.slug
    if hit.previous is not None:
        query = escape_text(urlencode({"a": hit.previous.slug, "b": revision.slug}))
        url = f"{path.page('compare', plan)}?{query}#point-{escape_text(point.key)}"
        where = f"Our note on {escape_text(revision.title)}, against {escape_text(hit.previous.title)}"
    else:
        url = escape_text(path.item("point_detail", plan, point.key) + f"#clause-{revision.slug}")
        where = f"{escape_text(revision.title)}, the plan's first text"
    number = f" · {escape_text(obj.number_label)}" + (" · dropped in this text" if obj.dropped and obj.number else "")
    change, wording = fields.get("change_note"), fields.get("wording_note")
    notes = f'\n        <p class="search-hit__text">{_safe(change)}</p>' if change else ""
    if wording:
        notes += f'\n        <p class="search-hit__meta">On the wording: {_safe(wording)}</p>'
    return (
        f'\n        <h3 class="search-hit__title"><a href="{url}"><span class="point-key">'
        f"{escape_text(point.number)}</span> {escape_text(point.title)}</a></h3>"
        f'\n        <p class="search-hit__meta">{where} · {_hit_day(revision.published_on)}{number}</p>{notes}'
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


def _stance_card(stance, path: _Paths, show_target: bool) -> str:
    revision, point = stance.revision, stance.point
    position = escape_text(stance.position)
    on, answering, target = "a text not recorded", "", ""
    if revision is not None:
        url = escape_text(path.item("revision_detail", revision.plan.slug, revision.slug))
        label, title = escape_text(revision.label), escape_text(revision.title)
        anchor = f"#point-{escape_text(point.key)}" if point is not None else ""
        on = f'<a href="{url}{anchor}" title="{title}">{label}</a>'
        if not show_target:
            answering = f'\n  <p class="stance-card__revision">Answering {label}: <a href="{url}">{title}</a></p>'
    if show_target:
        if point is not None:
            url = escape_text(path.item("point_detail", point.plan.slug, point.key))
            what = f'<a href="{url}">point {escape_text(point.number)}: {escape_text(point.title)}</a>'
        else:
            url = escape_text(path.item("revision_detail", revision.plan.slug, revision.slug))
            what = f'<a href="{url}">{escape_text(revision.title)}</a> as a whole'
        target = f'<span class="stance-card__target">on {what}</span>'
    said = ""
    if stance.quote:
        who = f"<footer>— {escape_text(stance.speaker)}</footer>" if stance.speaker else ""
        said = f'<blockquote class="stance-card__quote"><p>“{escape_text(stance.quote)}”</p>{who}</blockquote>\n  '
    elif stance.speaker:
        said = f'<p class="stance-card__speaker">Speaker: {escape_text(stance.speaker)}</p>'
    return (
        f'\n<article class="stance-card stance-card--{position}" id="stance-{stance.pk}">'
        '\n  <p class="stance-card__head">'
        f'\n    <span class="position position--{position}"><span aria-hidden="true">'
        f"{escape_text(POSITION_ICONS.get(stance.position, ''))}</span> "
        f"{escape_text(POSITION_LABELS.get(stance.position, stance.position))}</span>"
        f'\n    <span class="stance-card__on">on {on}</span>\n    {_hit_day(stance.stated_on)}\n    {target}\n  </p>'
        f'\n  <p class="stance-card__summary">{escape_text(stance.summary)}</p>\n  {said}'
        f'\n  <p class="stance-card__source">Source: {_citation(stance.source)}</p>{answering}\n</article>\n'
    )


def stance_cards(stances, *, show_target: bool = False) -> SafeString:
    """
    Stances as evidence, each as {% include "peaceplans/components/stance.html" %} prints it:
    position, the text it answers (always named: "supports" one wording may mean the opposite of
    "supports" another), date, summary, quote or speaker, source; `show_target` adds what it is about.
    """
    path = _Paths()
    return _assembled("".join(_stance_card(stance, path, show_target) for stance in stances))


def _wording_item(revision, clause, changes, against, path: _Paths) -> str:
    state = "" if clause is None else " wording__item--dropped" if clause.dropped else ""
    if clause is None:
        state = " wording__item--absent"
    base = revision == against
    number = ""
    if clause is not None:
        number = " · " + (
            "dropped (no number of its own)"
            if clause.dropped and not clause.number
            else escape_text(clause.number_label)
        )
    note = ""
    if clause is not None and clause.wording_note:
        note = (
            '\n<p class="wording-note"><span class="wording-note__label">Note on the wording:</span> '
            f"{escape_text(clause.wording_note)}</p>\n"
        )
    if clause is None:
        body = '<p class="absent">Not in this text.</p>'
    elif clause.dropped:
        own = "" if clause.number else " (no number of its own)"
        body = f'<p class="dropped"><strong>Dropped{own}.</strong> {escape_text(clause.change_note)}</p>\n{note}'
    else:
        if changes:
            change = str(changes.change)
            said = {"added": "not in the text compared against"}.get(change, escape_text(change))
            if change == "cosmetic":
                said = f"only {escape_text(', '.join(changes.cosmetic))} differ"
            text = (
                f'<p class="status status--{escape_text(change)}">{said}</p>\n'
                f'<p class="clause-text">{redline(changes.ops, "inline")}</p>'
            )
        else:
            text = f'<p class="clause-text">{escape_text(clause.text)}</p>'
        change_note = (
            f'<p class="change-note">Change: {escape_text(clause.change_note)}</p>' if clause.change_note else ""
        )
        body = f"{note}\n{text}\n{change_note}"
    sources = ""
    listed = clause.sources.all() if clause is not None else ()
    if listed:
        cited = "".join(f"<li>{_citation(source)}</li>" for source in listed)
        sources = f'<details class="sources"><summary>Sources ({len(listed)})</summary>\n<ul>{cited}</ul>\n</details>'
    url = escape_text(path.item("revision_detail", revision.plan.slug, revision.slug))
    state += " wording__item--base" if base else ""
    return (
        f'\n<li class="wording__item{state}" id="clause-{escape_text(revision.slug)}">'
        f'\n<h3><a href="{url}">{escape_text(revision.title)}</a>\n<span class="meta">{_hit_day(revision.published_on)}'
        f"{number}{' · <strong>the text compared against</strong>' if base else ''}</span></h3>"
        f"\n{body}\n{sources}\n</li>"
    )


def wording_list(wording, against=None) -> SafeString:
    """
    The point page's wording in each revision (selectors.point_wording: revision, its clause or
    None, the word diff against `against` or None): number, wording note, the text or its
    redline, change note and sources, or that the text dropped the point or never had it.
    """
    path = _Paths()
    items = "".join(_wording_item(revision, clause, changes, against, path) for revision, clause, changes in wording)
    return _assembled(f'<ol class="wording">{items}\n</ol>')


def clause_list(clauses, plan_slug: str) -> SafeString:
    """
    A revision's text point by point (its clauses, in its order, each with its point joined):
    the number as printed (or that it has none), the point's title linked to its page, the
    wording note, then the text and change note, or that the text dropped the point.
    """
    path = _Paths()
    items = []
    for clause in clauses:
        point = clause.point
        number = escape_text(clause.number)
        head = (
            f'<span class="clause__number">{number}</span>'
            if clause.number
            else '<span class="clause__number clause__number--none">dropped (no number of its own)</span>'
        )
        if clause.number != point.key:
            head_tail = f' <span class="meta">(point {escape_text(point.number)} of the plan)</span>'
        else:
            head_tail = ""
        note = ""
        if clause.wording_note:
            note = (
                '\n<p class="wording-note"><span class="wording-note__label">Note on the wording:</span> '
                f"{escape_text(clause.wording_note)}</p>\n"
            )
        if clause.dropped:
            own = "" if clause.number else " (no number of its own)"
            body = f'<p class="dropped"><strong>Dropped{own}.</strong> {escape_text(clause.change_note)}</p>{note}\n'
        else:
            change = (
                f'<p class="change-note">Change: {escape_text(clause.change_note)}</p>' if clause.change_note else ""
            )
            body = f'\n{note}<p class="clause-text">{escape_text(clause.text)}</p>{change}'
        url = escape_text(path.item("point_detail", plan_slug, point.key))
        items.append(
            f'\n<li id="point-{escape_text(point.key)}" class="clause{" clause--dropped" if clause.dropped else ""}">'
            f'\n<p class="clause__head">{head}\n<a href="{url}">{escape_text(point.title)}</a>{head_tail}</p>'
            f"\n{body}\n</li>"
        )
    return _assembled(f'<ol class="clauses">{"".join(items) or chr(10) + "<li>No points recorded.</li>"}\n</ol>')


def source_list(sources) -> SafeString:
    """A text's sources, each a citation with the report's title under it."""
    items = "".join(
        f"<li>{_citation(source)}"
        + (f'<br><span class="source-title">{escape_text(source.title)}</span>' if source.title else "")
        + "</li>"
        for source in sources
    )
    return _assembled(f'<ul class="source-list">{items or "<li>None recorded.</li>"}</ul>')
