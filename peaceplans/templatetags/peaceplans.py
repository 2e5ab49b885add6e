from datetime import datetime

from django import template
from django.template.defaultfilters import date as date_filter

from peaceplans.compare.rows import compare_index as compare_index_html
from peaceplans.compare.rows import compare_rows as compare_rows_html
from peaceplans.compare.rows import material_items as material_items_html
from peaceplans.compare.rows import options as options_html
from peaceplans.compare.rows import redline as redline_html
from peaceplans.compare.rows import source_items as source_items_html
from peaceplans.editing.editor_links import editor_links
from peaceplans.markup import SafeHtml, isolate, render_markdown, strip_bidi
from peaceplans.models import Wording
from peaceplans.web.tables import POSITION_ICONS, short_date

register = template.Library()


@register.filter
def position_icon(position: str) -> str:
    """The text symbol shown beside a position's word (never instead of it)."""
    return POSITION_ICONS.get(position, "")


@register.filter
def markdown(text: str) -> SafeHtml:
    """An editor's Markdown as sanitized HTML: markup.render_markdown, the one sanitizer."""
    return render_markdown(text)


@register.filter
def bidi(text) -> SafeHtml:
    """An editor's plain text (a title, a summary, a quote) in element content: escaped, bidi overrides
    and unbalanced controls dropped, inside <bdi>, so Arabic or Hebrew in it cannot reorder the page around it."""
    return isolate("" if text is None else text)


@register.filter
def bidi_text(text) -> str:
    """An editor's plain text where no element can isolate it (<title>, an attribute): every bidi
    embedding, override and isolate dropped (markup.strip_bidi); autoescaped as usual."""
    return strip_bidi("" if text is None else str(text))


@register.filter
def redline(ops, side: str) -> SafeHtml:
    """A diff's ops as HTML for one side ("a", "b" or "inline"): compare.rows.redline escapes every slice."""
    return redline_html(ops, side)


@register.simple_tag(takes_context=True)
def compare_rows(context, rows, *, view: str, a_label: str, b_label: str, change_note: bool) -> SafeHtml:
    """
    Rows of the compare page (a part of them): compare/rows.py's compare_rows, each row's editors'
    notes rendered by their component as {% include %} would (with the page's context, so the same output).
    """
    engine = context.template.engine

    def notes_of(row) -> SafeHtml:
        with context.push(notes=row.notes, point=row.point):
            return engine.get_template("peaceplans/components/notes.html").render(context)

    editor = editor_links(context.get("request"))
    revision = context.get("b")  # the text in view: a stance added from a row answers B

    def links_of(row) -> list:
        return editor.for_point(row.point, revision) if editor is not None else []

    return compare_rows_html(
        rows,
        view=view,
        a_label=a_label,
        b_label=b_label,
        change_note=change_note,
        notes_of=notes_of,
        links_of=links_of if editor is not None else None,
    )


@register.simple_tag(takes_context=True)
def revision_options(context, revisions, chosen) -> SafeHtml:
    """A revision picker's options, `chosen` selected: each text's label and date, worked out once a page."""
    texts = context.render_context.get("revision_option_texts")
    if texts is None:
        texts = context.render_context["revision_option_texts"] = [
            f"{r.label} · {day(r.published_on)}" for r in revisions
        ]
    return options_html((r.slug, text, r == chosen) for r, text in zip(revisions, texts, strict=True))


@register.simple_tag
def topic_options(topics, chosen) -> SafeHtml:
    """The topic picker's options, those in `chosen` selected."""
    return options_html((topic.slug, topic.name, topic in chosen) for topic in topics)


@register.simple_tag
def source_items(sources) -> SafeHtml:
    """<li>s of sources as components/source_link.html cites each (compare/rows.py builds them)."""
    return source_items_html(sources, day=day)


@register.simple_tag
def material_items(rows) -> SafeHtml:
    """The compare page's "What changed most" entries: compare/rows.py's material_items."""
    return material_items_html(rows)


@register.simple_tag
def compare_index(rows, uncovered: int = 0) -> SafeHtml:
    """The compare page's index entries: compare/rows.py's compare_index."""
    return compare_index_html(rows, uncovered=uncovered)


@register.filter
def day(value) -> str:
    """
    A date as '20 Nov 2025': date:"j M Y", remembered per day (the date filter costs 35 µs a
    call). A datetime goes through the date filter itself, which first moves it to local time.
    """
    if isinstance(value, datetime):
        return date_filter(value, "j M Y")
    return short_date(value) if value else ""


@register.filter
def iso(value) -> str:
    """A date as '2025-11-20', for <time datetime>: date:"Y-m-d" without the formatter (datetimes as day)."""
    if isinstance(value, datetime):
        return date_filter(value, "Y-m-d")
    return value.isoformat() if value else ""


@register.filter
def wording_line(revisions) -> str:
    """
    What the texts shown are: "Texts are our paraphrase." when every one is, else each text's
    label with its kind ("US draft: our paraphrase; Berlin: verbatim."). Plain text, escaped where shown.
    """
    revisions = [r for r in revisions if r is not None]
    kinds = {r.wording for r in revisions}
    if kinds == {Wording.PARAPHRASE}:
        return "Texts are our paraphrase of each version." if len(revisions) > 1 else "Text is our paraphrase."
    return "; ".join(f"{r.label}: {r.get_wording_display()}" for r in revisions) + "."
