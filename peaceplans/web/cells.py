"""
The stance matrix's cells and rows as HTML (web/tables.py's StanceMatrixTable.body), built
without a template per cell: a few string joins per row. One of the named builders besides the
sanitizer (markup.py) allowed to mark HTML safe (with web/fragments.py and compare/rows.py): every
value is escaped here, as {{ value }} would be; only SafeStrings (Django's own escaping, or this
module's) pass through as they are.
"""

from html import escape as escape_text

from django.utils.safestring import SafeString, mark_safe

from peaceplans.models.choices import Position

# A text symbol beside every word, so position never depends on colour alone (the matrix, fragments.py).
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
