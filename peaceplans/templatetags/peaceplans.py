from datetime import datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.safestring import SafeString

from ..markup import redline as redline_html
from ..markup import render_markdown
from ..tables import POSITION_ICONS, short_date

register = template.Library()


@register.filter
def position_icon(position: str) -> str:
    """The text symbol shown beside a position's word (never instead of it)."""
    return POSITION_ICONS.get(position, "")


@register.filter
def markdown(text: str) -> SafeString:
    """An editor's Markdown as sanitized HTML: markup.render_markdown, the one sanitizer."""
    return render_markdown(text)


@register.filter
def redline(ops, side: str) -> SafeString:
    """A diff's ops as HTML for one side ("a", "b" or "inline"): markup.redline, which escapes every slice."""
    return redline_html(ops, side)


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
