"""
Reading a page that comes in parts (peaceplans/web/parts.py) as a reader would: following its
"Next rows" links [data-rows-next] without JavaScript (each the page through one more part), or
asking for each part as htmx does (the part's rows alone, ending with the next part's link).
"""

import html as html_lib
import re

NEXT_LINK = re.compile(r'<a href="([^"]*)" hx-get="([^"]*)"[^>]*data-rows-next>')


def next_links(html: str) -> list[tuple[str, str]]:
    """Each "Next rows" link's (href, hx-get), unescaped, in page order."""
    return [(html_lib.unescape(href), html_lib.unescape(get)) for href, get in NEXT_LINK.findall(html)]


def get_html(client, url: str, status: int = 200, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code, response.content[:300])
    return response.content.decode()


def through_last(client, url: str) -> str:
    """The whole page as a reader without JavaScript ends up with: following the first next link until there is none."""
    html = get_html(client, url)
    for _ in range(100):
        links = next_links(html)
        if not links:
            return html
        html = get_html(client, links[0][0].split("#")[0])
    raise AssertionError("more than 100 parts")


def htmx_parts(client, url: str) -> tuple[str, list[str]]:
    """
    The page, then each part htmx appends, in the order a reader scrolling down meets them: each
    link's part, asked for with HX-Request, then the link that part ends with, then the next link
    of the page (the section of points B's text does not cover has its own).
    """
    page = get_html(client, url)
    parts, queue = [], [get for _, get in next_links(page)]
    while queue:
        get = queue.pop(0)
        part = get_html(client, get, **{"HX-Request": "true"})
        assert "<html" not in part and 'id="comparison"' not in part
        parts.append(part)
        queue[:0] = [g for _, g in next_links(part)]
        assert len(parts) < 100
    return page, parts
