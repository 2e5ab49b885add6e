from django import template
from django.utils.safestring import SafeString

from ..markup import render_markdown
from ..tables import POSITION_ICONS

register = template.Library()


@register.filter
def position_icon(position: str) -> str:
    """The text symbol shown beside a position's word (never instead of it)."""
    return POSITION_ICONS.get(position, "")


@register.filter
def markdown(text: str) -> SafeString:
    """An editor's Markdown as sanitized HTML: markup.render_markdown, the one sanitizer."""
    return render_markdown(text)
