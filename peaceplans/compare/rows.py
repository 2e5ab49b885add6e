"""
Word diffs and the compare page's rows as HTML. One of the three named builders besides the
sanitizer (markup.py) allowed to mark HTML safe: every slice of text is escaped where it is put
in (escape_text, as {{ value }} would), the tags are literals, and the finished HTML is marked
safe once, in `_assembled`.
"""

from html import escape as escape_text

from django.utils.safestring import SafeString, mark_safe

from peaceplans.compare.comparison import ABSENT


def _assembled(html: str) -> SafeString:
    """HTML that the functions below assembled from escaped values and their own literal tags."""
    return mark_safe(html)  # noqa: S308 (callers escape every value they put in)


def _cell(value) -> str:
    """Content as {{ value }} would print it: SafeStrings as they are, anything else escaped."""
    if isinstance(value, SafeString):
        return value
    return escape_text(str(value)) if value is not None else "None"


def redline(ops, side: str) -> SafeString:
    """
    A word diff's ops (diff.Op) as HTML, every slice of text escaped: side "a" is A's text with
    its deletions in <del>, "b" is B's text with its insertions in <ins>, "inline" one redline
    with both. One join per text, where a template loop cost a node per op.
    """
    out = []
    for op in ops:
        if op.kind == "equal":
            out.append(escape_text(op.b if side == "b" else op.a))
            continue
        if side != "b" and op.a:
            out.append(f"<del>{escape_text(op.a)}</del>")
        if side != "a" and op.b:
            out.append(f"<ins>{escape_text(op.b)}</ins>")
    return _assembled("".join(out))  # <del> and <ins> are the only tags


# The compare page's rows (templates/peaceplans/compare.html draws the page around them; its
# `compare_rows` tag builds a part's rows at once; the same goes for its index, its summary's
# "What changed most", its pickers and its sources). They are Python rather than template markup
# for their cost: for the demo's US draft -> E3 comparison (45 rows, side by side) the template
# loop, with some 1,700 variable lookups, took 7 ms on the dev machine, a fifth of the cold page;
# the tag and these functions take 1.4 ms. As in the matrix's builders (web/cells.py), every value is
# escaped where it is put in (escape_text, as {{ value }} would) and the tags are literals; the
# parts are plain strings and the finished row is marked safe once (format_html, with a
# SafeString per part, cost four times as much). tests/compare/test_rendering.py keeps the template loop
# as the reference: the same HTML, but for one newline where it had a newline and indentation.

ABSENT_IN_B = '<p class="absent">Not in B\'s text (the point is neither worded nor dropped there).</p>'
NOT_COVERED_BY_B = '<p class="absent">B\'s text does not cover this point.</p>'


def compare_row(row, *, view: str, a_label: str, b_label: str, change_note: bool, notes: str = "") -> SafeString:
    """
    One point of a comparison (comparison.Row) as the compare page's <li>: its heading and facts,
    both wordings side by side (`view` "side", under the labels `a_label` and `b_label`) or as one
    redline ("inline"), our note on what changed in B when `change_note`, and the editors' notes:
    `notes` is their list as HTML, rendered by components/notes.html (a plain str is escaped).
    """
    return _assembled(_row(row, view, a_label, b_label, change_note, notes))


def compare_rows(
    rows, *, view: str, a_label: str, b_label: str, change_note: bool, notes_of=None, links_of=None
) -> SafeString:
    """
    Rows as compare_row gives each, one after the other: a part of the page in one string.
    `notes_of(row)` renders a row's editors' notes; only rows with notes are asked. `links_of(row)`,
    for a signed-in editor only, gives the row's links into the admin (editing/editor_links.py).
    """
    html = [
        _row(
            row,
            view,
            a_label,
            b_label,
            change_note,
            notes_of(row) if row.notes and notes_of else "",
            editor_links(links_of(row)) if links_of else "",
        )
        for row in rows
    ]
    return _assembled("\n".join(html))


def editor_links(links) -> str:
    """
    (text, address, what it does in words) triples as components/editor_links.html prints them
    ("" for none): the editors' links under a row's heading.
    """
    if not links:
        return ""
    items = " ·".join(
        f' <a href="{escape_text(url)}">{escape_text(text)}'
        f'<span class="visually-hidden"> {escape_text(said)}</span></a>'
        for text, url, said in links
    )
    return f'<p class="editor-links"><span class="editor-links__label">Editors:</span>{items}</p>'


def compare_index(rows, *, uncovered: int = 0) -> SafeString:
    """
    The sticky index's entries: every row both texts speak to (number, title, status), linked by
    its `anchor` (comparison.Row: "#point-6", or with the address of the part that shows the row,
    which rows.js loads in place), then the section of points B's text does not cover.
    """
    entries = []
    for row in rows:
        point, status, anchor = row.point, escape_text(row.status), row.anchor or f"#point-{row.point.key}"
        loads = "" if anchor[0] == "#" else " data-rows-anchor"
        entries.append(
            f'<li><a href="{escape_text(anchor)}"{loads}><span class="point-key">{escape_text(point.number)}</span> '
            f'{escape_text(point.title)} <span class="status status--{status}">{status}</span></a></li>'
        )
    if uncovered:
        entries.append(f'<li><a href="#not-in-b">Not in B\'s text: {uncovered}</a></li>')
    return _assembled("\n".join(entries))


def material_items(rows) -> SafeString:
    """
    "What changed most": each row whose change an editor marked as material, its number, its title
    linked by its `anchor` (as the index links it) and our note on B. A generated plan marks 35.
    """
    items = []
    for row in rows:
        point, anchor = row.point, row.anchor or f"#point-{row.point.key}"
        loads = "" if anchor[0] == "#" else " data-rows-anchor"
        note = f": {escape_text(row.clause_b.change_note)}" if row.clause_b.change_note else ""
        items.append(
            f'<li><span class="point-key">{escape_text(point.number)}</span> '
            f'<a href="{escape_text(anchor)}"{loads}>{escape_text(point.title)}</a>{note}</li>'
        )
    return _assembled("".join(items))


def options(choices) -> SafeString:
    """
    A picker's <option>s from (value, text, selected) triples: the compare page's texts and topics.
    Python for its cost, as the rows: a generated plan's 30 texts and 30 topics made its pickers
    some 400 template lookups.
    """
    out = []
    for value, text, selected in choices:
        chosen = " selected" if selected else ""
        out.append(f'<option value="{escape_text(value)}"{chosen}>{escape_text(text)}</option>')
    return _assembled("".join(out))


def source_items(sources, *, day) -> SafeString:
    """
    The compare page's list of each text's sources: components/source_link.html's citation in an <li>
    for each (outlet, linked when citable; date; kind; a warning for weak sources), built here for
    the demo's 30-odd sources an include each cost. `day(date)` is the `day` filter.
    tests/compare/test_rendering.py keeps the component as the reference.
    """
    items = []
    for source in sources:
        cite = outlet = escape_text(source.outlet)
        if source.citable:
            cite = f'<a href="{escape_text(source.url)}" rel="noopener noreferrer">{outlet}</a>'
        if when := source.published_on:
            cite += f', <time datetime="{when.isoformat()}">{escape_text(day(when))}</time>'
        kind = escape_text(source.get_kind_display()) + (f" via {escape_text(source.via)}" if source.via else "")
        cite += f'\n<span class="kind kind--{escape_text(source.kind)}">{kind}</span>'
        if not source.citable:
            cite += ' <strong class="warning">not citable</strong>'
        elif source.is_weak:
            cite += ' <span class="warning">weak source</span>'
        items.append(f'<li><span class="cite">{cite}</span></li>')
    return _assembled("".join(items))


def _row(row, view: str, a_label: str, b_label: str, change_note: bool, notes, links: str = "") -> str:
    parts = [_row_head(row), _row_inline(row) if view == "inline" else _row_sides(row, a_label, b_label)]
    if links:
        parts.insert(1, links)
    clause_b = row.clause_b
    if change_note and clause_b and clause_b.change_note and not clause_b.dropped:
        parts.append(f'<p class="change-note">Our note on B: {escape_text(clause_b.change_note)}</p>')
    if row.notes:
        summary = f"Editors' notes on this point ({len(row.notes)})"
        parts.append(f'<details class="compare-row__notes"><summary>{summary}</summary>{_cell(notes)}</details>')
    status, key, inner = escape_text(row.status), escape_text(row.point.key), "\n".join(parts)
    return f'<li class="compare-row compare-row--{status}" id="point-{key}">\n{inner}\n</li>'


def _row_head(row) -> str:
    """The row's heading (a link to the point's page) and its facts: status, both numbers, what else is worth a flag."""
    point, clause_b, diff = row.point, row.clause_b, row.diff
    facts = [f'<span class="status status--{escape_text(row.status)}">{escape_text(row.label)}</span>']
    if row.clause_a:
        facts.append(f"<span>A: {escape_text(row.number_a)}</span>")
    if clause_b:
        facts.append(f"<span>B: {escape_text(row.number_b)}</span>")
    if row.renumbered:
        facts.append('<span class="renumbered">renumbered</span>')
    if clause_b and clause_b.material_change:
        facts.append('<span class="material">material change</span>')
    if point.split_from:
        facts.append(f"<span>split from point {escape_text(point.split_from.number)}</span>")
    if diff and diff.cosmetic:
        facts.append(f"<span>only {escape_text(', '.join(diff.cosmetic))} changed</span>")
    key, title, facts_html = escape_text(point.number), escape_text(point.title), "\n".join(facts)
    return (
        f'<div class="compare-row__head">\n<h3><a href="{escape_text(row.url)}"><span class="point-key">{key}</span> '
        f'{title}</a></h3>\n<p class="compare-row__meta">\n{facts_html}\n</p>\n</div>'
    )


def _wording_note(clause, prefix: str = "Note on the wording") -> str:
    """A side's wording note, beside its text and never inside the diff: "" when it has none."""
    if clause is None or clause.dropped or not clause.wording_note:
        return ""
    return f'\n<p class="wording-note">{prefix}: {escape_text(clause.wording_note)}</p>'


def _row_sides(row, a_label: str, b_label: str) -> str:
    """A's wording with its deletions struck beside B's with its insertions marked; or why a side has none."""
    clause_a, clause_b = row.clause_a, row.clause_b
    if clause_a is None or clause_a.dropped:
        side_a = '<p class="absent">Dropped in A.</p>' if clause_a else '<p class="absent">Not in A.</p>'
    elif row.diff:
        side_a = f'<p class="clause-text">{redline(row.diff.ops, "a")}</p>'
    else:
        side_a = f'<p class="clause-text">{escape_text(clause_a.text)}</p>'
    if row.status == ABSENT:
        side_b = ABSENT_IN_B
    elif clause_b.dropped:
        side_b = f'<p class="dropped"><strong>Dropped.</strong> {escape_text(clause_b.change_note)}</p>'
    else:
        side_b = f'<p class="clause-text">{redline(row.diff.ops, "b")}</p>'
    side_a += _wording_note(clause_a)
    side_b += _wording_note(clause_b)
    label_a = f'<p class="side__label"><span class="side-badge side-badge--a">A</span> {escape_text(a_label)}</p>'
    label_b = f'<p class="side__label"><span class="side-badge side-badge--b">B</span> {escape_text(b_label)}</p>'
    return (
        '<div class="compare-row__sides">\n'
        f'<div class="side side--a">{label_a}\n{side_a}\n</div>\n'
        f'<div class="side side--b">{label_b}\n{side_b}\n</div>\n'
        "</div>"
    )


def _row_inline(row) -> str:
    """Both wordings as one redline; a point B's text does not cover shows A's wording and says so."""
    if row.status == ABSENT:
        text = f'<p class="clause-text">{escape_text(row.clause_a.text)}</p>{NOT_COVERED_BY_B}'
    else:
        text = f'<p class="clause-text">{redline(row.diff.ops, "inline")}</p>'
    text += _wording_note(row.clause_a, "Note on A's wording") + _wording_note(row.clause_b, "Note on B's wording")
    return f'<div class="compare-row__inline">\n{text}\n</div>'
