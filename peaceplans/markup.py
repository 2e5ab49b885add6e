"""
Editors' Markdown as HTML: the one sanitizer of the project.

Markdown turns the text into HTML, with any HTML typed into it escaped as text (the notes
are "Markdown, no HTML"), then nh3 keeps only the tags, attributes and URL schemes listed
below and drops everything else: it does not rely on Markdown having escaped anything.
Every template that shows an editor's Markdown goes through `render_markdown` (the
`markdown` filter); nothing else in the project is marked safe, except search snippets,
which `highlight` builds from plain text escaped first, with <mark> as the only tag, and the
stance matrix's rows (`table_row`, `stance_link`, `link`), word diffs (`redline`) and the
compare page's rows (`compare_row`), built from values escaped first, so that a table or a
comparison costs a few string joins rather than a template node per cell or per changed word,
and the admin's note preview (`note_preview`), the rendered note under an escaped warning.

`format_html`, `mark_safe`, `SafeString` and `|safe` appear nowhere else in the project
(tests/test_xss.py checks): other modules annotate what they pass on from here as `SafeHtml`.
"""

import re
from html import escape as escape_text
from html import unescape

import markdown
import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension

from peaceplans.compare.comparison import ABSENT

# The type of the HTML this module returns, for other modules' annotations. A type alias, not
# a class: SafeHtml("<b>") is a TypeError, so nothing outside this module can mark text safe.
type SafeHtml = SafeString

# The model caps a note at 20,000 characters; anything longer (the admin preview is sent
# whatever was typed) is cut here, so no request can make Markdown work on megabytes.
MAX_MARKDOWN_CHARS = 20_000

ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre", "h3", "h4", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
# Anything else (javascript:, vbscript:, data:, file:) loses its href; relative links stay.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# Tags removed together with their content: the text inside them is code or layout, never prose.
DROPPED_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "noscript",
    "noembed",
    "noframes",
    "object",
    "embed",
    "template",
    "textarea",
    "select",
    "svg",
    "math",
    "title",
    "xmp",
}
LINK_REL = "noopener nofollow"
# A note sits under the page's h2 "Notes": '#' becomes h3 and '##' h4, so notes never
# compete with the page's own headings (deeper levels are cut to plain text by nh3).
HEADING_BASE_LEVEL = 3

# Python-Markdown is slow on some hostile input: at each "[" or "(" it may scan to the end
# of the paragraph ("[a](" 5,000 times took 17 s, 10,000 nested "[" 54 s), and deep list
# nesting overflows the stack. Text past these limits is shown as plain paragraphs instead;
# real notes stay far below them (a 2,000-character paragraph with 100 links costs 400,000).
MAX_SCAN_WORK = 1_000_000  # per paragraph: its count of "[" and "(" times its length, summed
MAX_LINE_PREFIX = 40  # leading spaces, ">" and list markers ("- ", "1. "): about ten levels of nesting
_SCAN_STARTS = re.compile(r"[\[(]")
_LINE_PREFIX = re.compile(rf"^(?:[ \t]|>|[*+-][ \t]|\d{{1,9}}[.)][ \t]){{{MAX_LINE_PREFIX + 1}}}", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n[ \t]*\n")

_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=ALLOWED_URL_SCHEMES,
    link_rel=LINK_REL,
    strip_comments=True,
)


def too_intricate(text: str) -> str:
    """Why Markdown would take too long or recurse too deep on this text; "" when it would not."""
    if _LINE_PREFIX.search(text):
        return f"a line starts with more than {MAX_LINE_PREFIX} spaces, quote or list markers (nesting too deep)"
    work = sum(len(p) * len(_SCAN_STARTS.findall(p)) for p in _BLANK_LINES.split(text))
    if work > MAX_SCAN_WORK:
        return 'a paragraph has too many "[" and "(" for its length: split it, or remove stray brackets'
    return ""


def _plain_html(text: str) -> str:
    """The text as escaped paragraphs and line breaks, with no Markdown at all."""
    paragraphs = (escape(p.strip()).replace("\n", "<br>") for p in _BLANK_LINES.split(text) if p.strip())
    return "".join(f"<p>{p}</p>" for p in paragraphs)


class _NoRawHtml(Extension):
    """HTML typed into a note is shown as text; it also spares Markdown's quadratic HTML scan."""

    def extendMarkdown(self, md):  # noqa: N802 (Markdown's name)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def _to_html(text: str) -> str:
    # A new Markdown instance per call: instances keep state and are not thread-safe.
    return markdown.markdown(
        text,
        extensions=[_NoRawHtml(), "markdown.extensions.toc"],
        extension_configs={"markdown.extensions.toc": {"baselevel": HEADING_BASE_LEVEL, "marker": ""}},
        output_format="html",
    )


def sanitize_html(html: str) -> str:
    """HTML reduced to the allow-list: the tags, attributes and URL schemes above, nothing else."""
    return _cleaner.clean(html)


def render_markdown(text: str) -> SafeString:
    """
    An editor's Markdown as HTML that is safe to insert into a page: paragraphs, emphasis,
    lists, quotes, code, h3/h4 headings and http(s)/mailto links with rel="noopener nofollow".
    Scripts, styles, event attributes, embeds, images, htmx attributes and other URL
    schemes are removed. Input past MAX_MARKDOWN_CHARS is cut; text Markdown cannot handle
    in good time (see `too_intricate`) is shown as plain paragraphs.
    """
    text = (text or "")[:MAX_MARKDOWN_CHARS]
    try:
        html = _plain_html(text) if too_intricate(text) else _to_html(text)
    except RecursionError:  # a nesting the checks above did not foresee
        html = _plain_html(text)
    # Safe because every byte of the result comes out of nh3 with the allow-list above:
    # no script, style, event or hx-* attribute, and no URL scheme but http(s) and mailto
    # can survive it. This and the builders below, which escape every value first, are the
    # project's only calls to mark_safe (STYLE.md, principle 2).
    return mark_safe(sanitize_html(html))  # noqa: S308


# The admin's live preview of a note (AnnotationAdmin.preview_view)

PREVIEW_EMPTY = "Nothing yet."


def note_preview(body: str) -> SafeString:
    """
    A note's Markdown as the public pages will show it (render_markdown), for the admin's live
    preview: "Nothing yet." when it renders to nothing, and above it a warning, escaped, when the
    text is cut at MAX_MARKDOWN_CHARS or shown as plain text because Markdown would take too long.
    """
    html = render_markdown(body) or f'<p class="annotation-preview__empty">{PREVIEW_EMPTY}</p>'
    if len(body) > MAX_MARKDOWN_CHARS:
        warning = f"Only the first {MAX_MARKDOWN_CHARS:,} characters fit in a note."
    elif reason := too_intricate(body):
        warning = f"Shown as plain text, because {reason}."
    else:
        return _assembled(html)
    return _assembled(f'<p class="errornote">{escape_text(warning)}</p>{html}')


def markdown_to_text(text: str) -> str:
    """An editor's Markdown as the plain text a reader sees (for search snippets): no markup, no link targets."""
    html = render_markdown(text)
    # nh3's output is well-formed, so every tag is a whole "<...>": inline tags go, block tags part words.
    html = re.sub(r"</?(?:a|em|strong|code)\b[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]*>", " ", html)).split())


def highlight(text: str, spans) -> SafeString:
    """
    Plain text as HTML with the character ranges `spans` ((start, end) pairs) wrapped in
    <mark>: every character of the text is escaped first, so <mark> is the only tag in the
    result. Overlapping or out-of-range spans are skipped.
    """
    parts, position = [], 0
    for start, end in sorted(spans):
        if start < position or end <= start or end > len(text):
            continue
        parts += [escape(text[position:start]), "<mark>", escape(text[start:end]), "</mark>"]
        position = end
    parts.append(escape(text[position:]))
    # Safe: the only characters not produced by escape() are the literal <mark> and </mark>.
    return mark_safe("".join(parts))  # noqa: S308


# The stance matrix, rendered without a template per cell (tables.StanceMatrixTable.body).
# Every value is escaped here, as {{ value }} would be; only SafeStrings made by this module
# (or by Django's own escaping) pass through as they are.


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


def stance_link(*, position: str, word: str, icon: str, href: str, iso_date: str, date: str, speaker: str):
    """
    One party's latest position in the matrix: icon and word, then date and speaker as visible
    text inside the link (part of its accessible name, so they reach keyboard and touch users).
    A no-break space keeps the icon on the word's line when the column is narrow. A SafeString.
    """
    who = f' <span class="stance__speaker">{escape_text(speaker)}</span>' if speaker else ""
    return _assembled(
        f'<a class="stance stance--{escape_text(position)}" href="{escape_text(href)}">'
        f'<span class="stance__icon" aria-hidden="true">{escape_text(icon)}</span>\u00a0'
        f'<span class="stance__word">{escape_text(word)}</span> <span class="stance__meta">'
        f'<time datetime="{escape_text(iso_date)}">{escape_text(date)}</time>{who}</span></a>'
    )


def table_row(attrs: dict, cells) -> SafeString:
    """<tr attrs> and a <td attrs> for each (attrs, content) in `cells`; attribute values and contents escaped."""
    tds = "".join(f"<td{_attrs(td)}>{_cell(content)}</td>" for td, content in cells)
    return _assembled(f"<tr{_attrs(attrs)}>{tds}</tr>")


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
# `compare_row` tag calls compare_row once per row). They are Python rather than template markup
# for their cost: for the demo's US draft -> E3 comparison (45 rows, side by side) the template
# loop, with some 1,700 variable lookups, took 7 ms on the dev machine, a fifth of the cold page;
# the tag and these functions take 1.4 ms. As in the matrix's functions above, every value is
# escaped where it is put in (escape_text, as {{ value }} would) and the tags are literals; the
# parts are plain strings and the finished row is marked safe once (format_html, with a
# SafeString per part, cost four times as much). tests/test_rendering.py keeps the template loop
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
    parts = [_row_head(row), _row_inline(row) if view == "inline" else _row_sides(row, a_label, b_label)]
    clause_b = row.clause_b
    if change_note and clause_b and clause_b.change_note and not clause_b.dropped:
        parts.append(f'<p class="change-note">Our note on B: {escape_text(clause_b.change_note)}</p>')
    if row.notes:
        summary = f"Editors' notes on this point ({len(row.notes)})"
        parts.append(f'<details class="compare-row__notes"><summary>{summary}</summary>{_cell(notes)}</details>')
    status, key, inner = escape_text(row.status), escape_text(row.point.key), "\n".join(parts)
    return _assembled(f'<li class="compare-row compare-row--{status}" id="point-{key}">\n{inner}\n</li>')


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
        facts.append(f"<span>split from point {escape_text(point.split_from.key)}</span>")
    if diff and diff.cosmetic:
        facts.append(f"<span>only {escape_text(', '.join(diff.cosmetic))} changed</span>")
    key, title, facts_html = escape_text(point.key), escape_text(point.title), "\n".join(facts)
    return (
        f'<div class="compare-row__head">\n<h3><a href="{escape_text(row.url)}"><span class="point-key">{key}</span> '
        f'{title}</a></h3>\n<p class="compare-row__meta">\n{facts_html}\n</p>\n</div>'
    )


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
    return f'<div class="compare-row__inline">\n{text}\n</div>'
