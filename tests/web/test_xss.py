"""
Hostile text stays inert on every public page. Each payload of the corpus is stored in a
published note's Markdown, a stance's quote, summary and speaker, a source's title and
outlet and a clause's wording; the pages are parsed (html.parser), not just searched, and
compared with the same page before the payload went in: no new script, embed or style
element, no event handler or style attribute, no javascript:/vbscript:/data: URL, no htmx
attribute the page did not already have. The sanitizer (peaceplans/markup.py) is also tested
on its own, Markdown and raw HTML, and against input that would make Markdown slow.
"""

import re
import time
from collections import Counter
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils.html import escape

from peaceplans.markup import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    highlight,
    render_markdown,
    sanitize_html,
    too_intricate,
)
from peaceplans.models import Annotation, Clause, Party, Revision, Source, Stance
from tests import hostile

PLAN = "russia-ukraine-2025"
ROOT = Path(__file__).resolve().parents[2]

B64_SCRIPT = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="  # <script>alert(1)</script>

# (id, payload): the corpus's written payloads (tests/data/hostile/owasp.json and htmx.json, loaded by
# tests/hostile.py), each at most 200 characters, the shortest field they are stored in. The three with
# a NUL character are left out of what is stored (PostgreSQL refuses NUL; tests/editing/test_hostile_input.py
# checks the admin refuses it), but the sanitizer is tested on them too (ALL_WRITTEN).
ALL_WRITTEN = [(p.id, p.text) for p in (*hostile.owasp(), *hostile.htmx())]
PAYLOADS = [(i, text) for i, text in ALL_WRITTEN if "\x00" not in text]
# The page test stores this many payloads at once, then reads every page: a quarter of the requests.
PER_TEST = 4
PAGE_BATCHES = [PAYLOADS[n : n + PER_TEST] for n in range(0, len(PAYLOADS), PER_TEST)]

DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset", "ping"}
FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "style",
    "link",
    "meta",
    "base",
    "img",
    "image",
    "audio",
    "video",
    "source",
    "form",
    "input",
    "button",
    "textarea",
    "template",
    "noscript",
    "animate",
    "set",
    "foreignobject",
}

COMPARE = f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal"
PAGES = [
    f"/plans/{PLAN}/points/6/",
    COMPARE,
    f"/plans/{PLAN}/revisions/e3-counter-proposal/",
    f"/plans/{PLAN}/parties/russia/",
    f"/plans/{PLAN}/",
    f"/plans/{PLAN}/?on=us-28-point-draft",  # stances on other texts, muted with their (hostile) label
    "/sources/",
    # Built by web/fragments.py since issue 18: the timeline's entries and the search hits (the
    # payload clause starts "The army is capped"; its stances carry the payload as speaker and summary).
    f"/plans/{PLAN}/timeline/",
    "/search/?q=army",
    f"/embed/plans/{PLAN}/points/6/",
    f"/embed/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal&points=6",
]
# The regions HTMX swaps in, as it asks for them.
HTMX_PAGES = [
    COMPARE + "&view=inline",
    f"/plans/{PLAN}/points/6/?against=us-28-point-draft",
    f"/plans/{PLAN}/points/6/stances/russia/",  # the matrix's "+N earlier" history, with the payload stances
]


class Parsed(HTMLParser):
    """Every start tag with its attributes (entities decoded, as a browser would see them)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str]]]] = []
        self.comments = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, [(name, value or "") for name, value in attrs]))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data):
        self.comments += 1

    def count(self) -> Counter:
        return Counter(tag for tag, _ in self.tags)

    def attributes(self):
        for tag, attrs in self.tags:
            for name, value in attrs:
                yield tag, name, value

    def htmx(self) -> set[tuple[str, str, str]]:
        return {(t, n, v) for t, n, v in self.attributes() if n.startswith(("hx-", "data-hx-"))}


def url_scheme(value: str) -> str | None:
    """
    The scheme a browser reads in a URL, or None for a relative one. As the URL standard
    parses: leading and trailing controls and spaces dropped, tabs and newlines dropped
    anywhere ("java\tscript:" is "javascript:"); a space inside leaves no valid scheme.
    """
    value = re.sub(r"[\t\n\r]", "", re.sub(r"^[\x00-\x20]+|[\x00-\x20]+$", "", value))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", value)
    return match.group(1).lower() if match else None


def dangerous_url(value: str) -> bool:
    return url_scheme(value) in {scheme.rstrip(":") for scheme in DANGEROUS_SCHEMES}


HISTORY_LINK = re.compile(r"/plans/[a-z0-9-]+/points/[a-z0-9-]+/stances/[a-z0-9-]+/")


def assert_inert(html: str, baseline: Parsed, where: str):
    page = Parsed(html)
    after, before = page.count(), baseline.count()
    for tag in FORBIDDEN_TAGS:
        assert after[tag] <= before[tag], f"{where}: a <{tag}> came from the data"
    for tag, name, value in page.attributes():
        assert not re.fullmatch(r"on\w+", name), f"{where}: <{tag} {name}=...>"
        assert name != "style", f"{where}: <{tag} style=...>"
        assert name != "srcdoc", f"{where}: <{tag} srcdoc=...>"
        if name in URL_ATTRIBUTES:
            assert not dangerous_url(value), f"{where}: <{tag} {name}={value!r}>"
    for tag, attrs in page.tags:
        if tag == "script":
            assert dict(attrs).get("src", "").startswith("/static/"), f"{where}: an inline or foreign script"
    # A stance added to a pair gives its matrix cell a "+N earlier" link: built from a point key and a party
    # slug (both validated), never from what the data says; anything else new is the data's doing.
    from_data = {(t, n, v) for t, n, v in page.htmx() - baseline.htmx() if not HISTORY_LINK.fullmatch(v)}
    assert not from_data, f"{where}: htmx attributes from the data: {from_data}"
    assert page.comments <= baseline.comments, f"{where}: a comment came from the data"


def get(client, url, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


_baselines: dict[tuple[str, bool], Parsed] = {}


def baseline(client, url: str, htmx: bool = False) -> Parsed:
    """The page as the demo data renders it; each test rolls back, so it is the same every time."""
    if (url, htmx) not in _baselines:
        _baselines[url, htmx] = Parsed(get(client, url, **({"HX-Request": "true"} if htmx else {})))
    return _baselines[url, htmx]


def store_everywhere(plan, payloads: list[str]) -> list[Annotation]:
    """Each payload in every field a journalist's page shows from the database."""
    point = plan.points.get(key="6")
    e3 = Revision.objects.get(plan=plan, slug="e3-counter-proposal")
    russia = Party.objects.get(slug="russia")
    notes = []
    for n, payload in enumerate(payloads):
        source = Source.objects.create(
            url=f"https://example.org/hostile-source/{n}",
            outlet=payload,
            title=payload,
            kind=Source.Kind.ORIGINAL_REPORT,
            published_on=date(2026, 1, 1),
        )
        e3.sources.add(source)
        Stance.objects.create(
            plan=plan,
            party=russia,
            point=point,
            revision=e3,
            position=Stance.Position.OPPOSES,
            stated_on=date(2026, 1, 1 + n),  # the latest: the matrix and the party page show it
            summary=payload,
            quote=payload,
            speaker=payload,
            source=source,
        )
        notes.append(
            Annotation.objects.create(
                point=point, body=f"**bold** marker\n\n{payload}", status=Annotation.Status.PUBLISHED
            )
        )
    clause = Clause.objects.get(revision=e3, point=point)
    clause.text = "The army is capped at 800,000. " + " ".join(payloads)
    # The fields issue 21 added, each shown on pages by its own template code or cell builder: the
    # text's short label (pickers, headings, "on E3" in cells), a point's reader number and the
    # clause's wording note (beside the text, never in the diff).
    clause.wording_note = " ".join(payloads)[:500]
    clause.save()
    e3.short_label = payloads[0][:20]
    e3.save()
    point.label = payloads[-1][:40]
    point.save()
    return notes


@pytest.mark.django_db
@pytest.mark.parametrize("batch", PAGE_BATCHES, ids=[f"{b[0][0]}..{b[-1][0]}" for b in PAGE_BATCHES])
def test_payload_is_inert_on_every_public_page(client, plan, batch):
    baselines = {url: baseline(client, url) for url in PAGES}
    htmx_baselines = {url: baseline(client, url, htmx=True) for url in HTMX_PAGES}
    ids = ", ".join(i for i, _ in batch)
    notes = store_everywhere(plan, [payload for _, payload in batch])
    for url in PAGES:
        html = get(client, url)
        assert_inert(html, baselines[url], f"{url} [{ids}]")
        if "/points/6/" in url or "/compare/" in url:
            for note in notes:
                shown = html.split(f'id="note-{note.pk}"')[1].split("</li>")[0]
                assert "<strong>bold</strong> marker" in shown, f"{url}: Markdown formatting lost"
    for url in HTMX_PAGES:
        assert_inert(get(client, url, **{"HX-Request": "true"}), htmx_baselines[url], f"{url} (HTMX) [{ids}]")


@pytest.mark.django_db
def test_template_syntax_in_data_is_shown_as_typed(client, plan):
    store_everywhere(plan, ["{{ 7|add:7 }} {% now 'Y' %}"])
    # The first three pages, and the two whose items web/fragments.py builds: the data reaches them.
    for url in [*PAGES[:3], f"/plans/{PLAN}/timeline/", "/search/?q=army"]:
        html = get(client, url)
        assert "{{ 7|add:7 }} {% now &#x27;Y&#x27; %}" in html or "{{ 7|add:7 }} {% now 'Y' %}" in html, url


def test_the_corpus_is_large_and_fits_every_field():
    assert len(PAYLOADS) >= 180 and len(ALL_WRITTEN) - len(PAYLOADS) == 3
    assert len({i for i, _ in ALL_WRITTEN}) == len(ALL_WRITTEN)
    assert all(len(p) <= 200 for _, p in ALL_WRITTEN)


# The sanitizer on its own


def assert_allow_listed(html: str):
    for tag, attrs in Parsed(html).tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set()), (tag, name)
            scheme = url_scheme(value) if name == "href" else None
            assert scheme is None or scheme in ALLOWED_URL_SCHEMES, value
            if name == "rel":
                assert value == "noopener nofollow"


@pytest.mark.parametrize("payload", [p for _, p in ALL_WRITTEN], ids=[i for i, _ in ALL_WRITTEN])
def test_markdown_output_keeps_to_the_allow_list(payload):
    assert_allow_listed(render_markdown(payload))


@pytest.mark.parametrize("payload", [p for _, p in ALL_WRITTEN], ids=[i for i, _ in ALL_WRITTEN])
def test_raw_html_is_cut_to_the_allow_list_by_nh3_alone(payload):
    """Markdown escapes HTML, but the safety must not rest on that: nh3 alone keeps to the list."""
    assert_allow_listed(sanitize_html(payload))


@pytest.mark.parametrize(
    "markdown,html",
    [
        ("**bold** and *italic*", "<p><strong>bold</strong> and <em>italic</em></p>"),
        ("[site](https://example.org)", '<p><a href="https://example.org" rel="noopener nofollow">site</a></p>'),
        ('[t](https://example.org "Title")', '<a href="https://example.org" title="Title" rel="noopener nofollow">'),
        ("<https://example.org/a>", '<a href="https://example.org/a" rel="noopener nofollow">'),
        ("[mail](mailto:desk@example.org)", '<a href="mailto:desk@example.org" rel="noopener nofollow">mail</a>'),
        ("[point](/plans/x/points/6/)", '<a href="/plans/x/points/6/" rel="noopener nofollow">point</a>'),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("`code` here", "<p><code>code</code> here</p>"),
        ("    indented code", "<pre><code>indented code\n</code></pre>"),
        ("# Heading", "<h3>Heading</h3>"),
        ("## Subheading", "<h4>Subheading</h4>"),
        ("a\n\n---\n\nb", "<hr>"),
        ("line one  \nline two", "line one<br>"),
        ("<b>not bold</b> & co", "<p>&lt;b&gt;not bold&lt;/b&gt; &amp; co</p>"),
        ("[x](javascript:alert(1))", '<p><a rel="noopener nofollow">x</a></p>'),
        ("![photo](https://example.org/a.png)", "<p></p>"),
    ],
)
def test_markdown_renders_the_allowed_formatting(markdown, html):
    assert html in render_markdown(markdown)


def test_rendered_markdown_is_marked_safe_and_survives_autoescape():
    from django.template import Context, Template

    out = Template("{% load peaceplans %}{{ body|markdown }}").render(Context({"body": "**x** <i>"}))
    assert out == "<p><strong>x</strong> &lt;i&gt;</p>"


def test_input_past_the_cap_is_cut():
    html = render_markdown("a" * 25_000)
    assert html.count("a") == 20_000


def test_empty_and_missing_text_render_as_nothing():
    assert render_markdown("") == "" and render_markdown(None) == ""


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000 + "]" * 10_000,
        "[a](" * 5_000,
        "![" * 10_000,
        "[" * 20_000,
        "1. " * 6_000,
        "- " * 10_000,
        "> " * 10_000,
        "\n".join(" " * (4 * i) + "- x" for i in range(300)),
        "*a" * 10_000,
        "`a" * 10_000,
        "<a " * 6_000,
    ],
    ids=["nested", "links", "images", "open", "ordered", "unordered", "quotes", "indent", "emphasis", "ticks", "lt"],
)
def test_hostile_markdown_renders_quickly_without_errors(text):
    """Python-Markdown needed 54 s for the first and overflowed the stack on the 'ordered' one."""
    start = time.perf_counter()
    html = render_markdown(text)
    assert time.perf_counter() - start < 3, "far slower than the ~0.3 s worst case measured"
    assert_allow_listed(html)


def test_ordinary_long_notes_are_still_markdown():
    text = "\n\n".join(
        f"Paragraph {n} cites [a report](https://example.org/{n}) and (AFP), **600,000**." for n in range(200)
    )
    assert not too_intricate(text)
    assert render_markdown(text).count("<strong>600,000</strong>") == 200


# Defence in depth around the sanitizer


@pytest.mark.parametrize("url", ["javascript:alert(1)", f"data:text/html;base64,{B64_SCRIPT}", "vbscript:msgbox(1)"])
def test_a_source_url_must_be_http(url):
    """Source URLs are printed as links: validation (admin and import) refuses other schemes."""
    source = Source(url=url, outlet="x", kind=Source.Kind.OFFICIAL)
    with pytest.raises(ValidationError) as refused:
        source.full_clean(validate_unique=False, validate_constraints=False)
    assert "url" in refused.value.message_dict


# Whatever makes text count as HTML, in Python or in a template: Django's own markers, the
# `__html__` protocol conditional_escape trusts, and filters that keep or confer safeness.
MARKS_SAFE = re.compile(
    r"mark_safe|format_html|SafeString|SafeText|SafeData|html_safe|__html__|django\.utils\.safestring"
    r"|\|\s*safe(?:seq)?\b|autoescape\s+off|is_safe\s*=\s*True"
)


@pytest.mark.parametrize(
    "line",
    [
        "return mark_safe(text)",
        'format_html("<p>{}</p>", x)',
        "format_html_join('', '<li>{}</li>', rows)",
        "from django.utils.safestring import SafeString",
        "SafeString(html)",
        "{{ body|safe }}",
        "{{ rows | safeseq }}",
        "{% autoescape off %}{{ x }}{% endautoescape %}",
        "@register.filter(is_safe=True)",
        "def __html__(self):",
    ],
)
def test_the_audit_sees_every_way_to_mark_text_safe(line):
    assert MARKS_SAFE.search(line)


# The sanitizer and the named builders, with how many mark_safe calls each may hold:
# markup.py: render_markdown (nh3's output), highlight (search snippets: escaped text and <mark>
# only), note_preview (the sanitizer's output under an escaped warning), note_html (a note's stored
# HTML, cleaned again by nh3 on the way out), isolate (an editor's plain text escaped inside <bdi>, the
# `bidi` filter); web/cells.py, web/fragments.py and compare/rows.py:
# one `_assembled` each (the matrix rows; the pages' repeated items: time strip, timeline, search
# hits, stance cards, wording, clauses; word diffs and compare rows), built from values they escape first.
MAY_MARK_SAFE = {
    "peaceplans/markup.py": 5,
    "peaceplans/web/cells.py": 1,
    "peaceplans/web/fragments.py": 1,
    "peaceplans/compare/rows.py": 1,
}


def test_mark_safe_is_called_only_in_the_sanitizer_and_the_named_builders():
    """
    Nothing is marked safe unless it went through the one sanitizer (markup.py) or one of the two
    named builders that escape every value they put in (web/cells.py, web/fragments.py, compare/rows.py).
    format_html, format_html_join, mark_safe, SafeString, |safe and {% autoescape off %} appear
    nowhere else (Django's own code aside); other modules annotate with markup.SafeHtml.
    """
    offenders = []
    for path in [*(ROOT / "peaceplans").rglob("*.py"), *(ROOT / "templates").rglob("*"), ROOT / "manage.py"]:
        if str(path.relative_to(ROOT)) in MAY_MARK_SAFE or not path.is_file():
            continue
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if MARKS_SAFE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
    for name, calls in MAY_MARK_SAFE.items():
        source = (ROOT / name).read_text()
        assert source.count("mark_safe(") == calls, name
        assert "format_html(" not in source  # escape_text and f-strings: cheaper, and one way of doing it


def test_safe_html_cannot_mark_text_safe():
    """Other modules annotate with markup.SafeHtml, a type alias: it cannot be called to make a SafeString."""
    from peaceplans.markup import SafeHtml

    with pytest.raises(TypeError):
        SafeHtml("<script>alert(1)</script>")


@pytest.mark.parametrize("payload", [text for _i, text in ALL_WRITTEN], ids=[i for i, _t in ALL_WRITTEN])
def test_search_highlight_keeps_only_its_own_mark_tags(payload):
    """highlight() marks text safe: every payload, with spans over and across its markup, comes out as text."""
    spans = [(0, len(payload) // 2), (len(payload) // 2, len(payload))]
    html = highlight(payload, spans)
    assert re.sub(r"</?mark>", "", html) == escape(payload)
    assert html.count("<mark>") == html.count("</mark>") <= 2
    assert "<" not in re.sub(r"</?mark>", "", html)
