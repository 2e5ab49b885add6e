"""The editors' links on public pages: {% editor_links_for point %} (editing/editor_links.py says who sees them)."""

from django import template

from peaceplans.editing.editor_links import editor_links

register = template.Library()


@register.inclusion_tag("peaceplans/components/editor_links.html", takes_context=True)
def editor_links_for(context, point, revision=None) -> dict:
    """
    "Edit", "Add note" and "Add stance" for `point` (a stance answering `revision`, when the page has
    one in view), for a signed-in editor; nothing at all for a reader. Marks the page private.
    """
    links = editor_links(context.get("request"))
    return {"links": links.for_point(point, revision) if links is not None else []}
