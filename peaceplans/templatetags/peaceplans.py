from django import template

from ..tables import POSITION_ICONS

register = template.Library()


@register.filter
def position_icon(position: str) -> str:
    """The text symbol shown beside a position's word (never instead of it)."""
    return POSITION_ICONS.get(position, "")
