"""
Editors' Markdown as HTML: the one sanitizer of the project.

Markdown turns the text into HTML, with any HTML typed into it escaped as text (the notes
are "Markdown, no HTML"), then nh3 keeps only the tags, attributes and URL schemes listed
below and drops everything else: it does not rely on Markdown having escaped anything.
Every page that shows an editor's Markdown goes through `render_markdown` (the `markdown`
filter), or shows a note's HTML stored from it, cleaned by nh3 again on the way out
(`note_html`, through Annotation.html); nothing else in the project is marked safe, except search snippets,
which `highlight` builds from plain text escaped first, with <mark> as the only tag, the
admin's note preview (`note_preview`), the rendered note under an escaped warning, and `isolate`,
an editor's plain text escaped inside <bdi> (the `bidi` template filter).

Bidi controls (issue 19, docs/security.md): `neutralise_bidi` drops overrides and unbalanced
embeddings and isolates. It runs on every text the app's models save (a pre_save receiver below),
in the sanitizer, and in `isolate`; `strip_bidi` drops them all where text cannot be isolated (feeds).

Three named builders also mark HTML safe, each in one function, from values they escape
themselves: web/cells.py (the stance matrix's rows), web/fragments.py (the pages' repeated items:
time strip, timeline, search hits, stance cards, wording, clauses) and compare/rows.py (word diffs
and the compare page's rows), so that a table or a list costs a few string joins rather than a
template node per cell or per changed word. `format_html`, `mark_safe`, `SafeString` and `|safe`
appear nowhere else in the project (tests/web/test_xss.py checks): other modules annotate what they
pass on as `SafeHtml`.
"""

import functools
import hashlib
import re
from html import escape as escape_text
from html import unescape

import markdown
import nh3
from django.db.models import CharField, TextField
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension

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
    schemes are removed, as are bidi overrides and unbalanced bidi controls (`neutralise_bidi`).
    Input past MAX_MARKDOWN_CHARS is cut; text Markdown cannot handle in good time (see
    `too_intricate`) is shown as plain paragraphs.
    """
    text = neutralise_bidi((text or "")[:MAX_MARKDOWN_CHARS])
    try:
        html = _plain_html(text) if too_intricate(text) else _to_html(text)
    except RecursionError:  # a nesting the checks above did not foresee
        html = _plain_html(text)
    # Safe because every byte of the result comes out of nh3 with the allow-list above:
    # no script, style, event or hx-* attribute, and no URL scheme but http(s) and mailto
    # can survive it. This, note_html, highlight, note_preview and the three named builders (web/cells.py,
    # web/fragments.py, compare/rows.py), which escape every value first, are the only calls to mark_safe.
    return mark_safe(sanitize_html(html))  # noqa: S308


# Notes rendered once (issue 18): the HTML is stored with the note, under the version below

# Markdown is the slow half of render_markdown (a quarter of a millisecond for a short note, every
# note on every request); nh3 takes a few microseconds. So a note's sanitized HTML is stored when
# it is saved (Annotation.save), with this version, and a page shows the stored HTML after one more
# pass through the cleaner, so every byte marked safe still leaves this module through nh3. The
# version names everything the output depends on: the two libraries' versions, the allow-lists and
# limits above, and RULES (raise it when render_markdown's own code changes what it produces). A
# stored version that differs is never shown: the note is rendered afresh, and
# `services.refresh_note_html` (run after every migrate) stores the new rendering.
RULES = 2  # 2: bidi overrides and unbalanced controls neutralised (issue 19)


def _sanitizer_version() -> str:
    from importlib.metadata import version

    settings = repr(
        (
            RULES,
            sorted(ALLOWED_TAGS),
            sorted((tag, sorted(names)) for tag, names in ALLOWED_ATTRIBUTES.items()),
            sorted(ALLOWED_URL_SCHEMES),
            sorted(DROPPED_WITH_CONTENT),
            LINK_REL,
            HEADING_BASE_LEVEL,
            MAX_MARKDOWN_CHARS,
            MAX_SCAN_WORK,
            MAX_LINE_PREFIX,
        )
    )
    rules = hashlib.sha256(settings.encode()).hexdigest()[:12]
    return f"{RULES}:{rules}:markdown {markdown.__version__}:nh3 {version('nh3')}"


SANITIZER_VERSION = _sanitizer_version()


def stored_note_html(body: str) -> tuple[str, str]:
    """What Annotation stores for a note's Markdown: its sanitized HTML and SANITIZER_VERSION."""
    return str(render_markdown(body)), SANITIZER_VERSION


def note_html(body: str, stored_html: str, stored_version: str) -> SafeString:
    """
    A note as HTML for a page: the HTML stored with it, cleaned again by nh3 (microseconds), when it
    was rendered by this sanitizer version; else rendered afresh from its Markdown (render_markdown).
    """
    if stored_version != SANITIZER_VERSION:
        return render_markdown(body)
    # Safe: the stored HTML passes through the same nh3 allow-list as render_markdown's output.
    return mark_safe(neutralise_bidi(sanitize_html(stored_html)))  # noqa: S308


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
        warning = ""
    notice = f'<p class="errornote">{escape_text(warning)}</p>' if warning else ""
    # Safe: the sanitizer's own output (or a literal paragraph), after an escaped warning.
    return mark_safe(notice + html)  # noqa: S308


def markdown_to_text(text: str) -> str:
    """An editor's Markdown as the plain text a reader sees (for search snippets): no markup, no link targets."""
    html = render_markdown(text)
    # nh3's output is well-formed, so every tag is a whole "<...>": inline tags go, block tags part words.
    html = re.sub(r"</?(?:a|em|strong|code)\b[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]*>", " ", html)).split())


# Bidirectional-text controls (issue 19): "RTL\u202egnp.exe" must not read as "RTLexe.png"

# Explicit formatting characters (Unicode's UAX #9): an override (LRO, RLO) shows the letters after it
# in the order it dictates, whatever their own direction; an embedding (LRE, RLE) or an isolate (LRI,
# RLI, FSI) left open runs on into whatever the page shows after the text. Editors' prose never needs an
# override; a balanced embedding or isolate may set off a phrase in another script, and is kept.
# The marks (U+200E LRM, U+200F RLM, U+061C ALM) are kept everywhere: they are strong characters of
# no width, set no embedding level, and so cannot reverse letters; within an isolated element they only
# place punctuation, as they do in real Arabic and Hebrew text.
OVERRIDES = "\u202d\u202e"  # LRO, RLO
EMBEDDINGS = "\u202a\u202b"  # LRE, RLE: closed by PDF
PDF = "\u202c"
ISOLATES = "\u2066\u2067\u2068"  # LRI, RLI, FSI: closed by PDI
PDI = "\u2069"
BIDI_CONTROLS = OVERRIDES + EMBEDDINGS + PDF + ISOLATES + PDI
_BIDI_CONTROL = re.compile(f"[{BIDI_CONTROLS}]")
# Paragraph separators (bidi class B): every embedding and isolate ends at one.
_PARAGRAPH_ENDS = frozenset("\n\r\x1c\x1d\x1e\x85\u2029")
_STRIP_BIDI = str.maketrans(dict.fromkeys(map(ord, BIDI_CONTROLS)))


def neutralise_bidi(text: str) -> str:
    """
    `text` without bidi overrides, and without embeddings and isolates that are not closed (or closers
    that close nothing) within their paragraph: what is left cannot reorder letters or leak past the
    text's end. Balanced embeddings and isolates stay, as do the marks. Text without any control is
    returned as it is (one regex search). Idempotent.
    """
    if not text or not _BIDI_CONTROL.search(text):
        return text
    out: list[str] = []
    opened: list[int] = []  # positions in `out` of the embeddings and isolates still open
    for char in text:
        if char in OVERRIDES:
            continue  # its PDF then closes nothing and goes too
        if char in EMBEDDINGS or char in ISOLATES:
            opened.append(len(out))
        elif char == PDF:
            if not opened or out[opened[-1]] not in EMBEDDINGS:  # a PDF cannot close past an isolate
                continue
            opened.pop()
        elif char == PDI:
            isolates = [i for i in opened if out[i] in ISOLATES]
            if not isolates:
                continue
            while opened[-1] != isolates[-1]:  # embeddings left open inside the isolate: dropped
                out[opened.pop()] = ""
            opened.pop()
        elif char in _PARAGRAPH_ENDS:
            while opened:
                out[opened.pop()] = ""
        out.append(char)
    for i in opened:
        out[i] = ""
    return "".join(out)


def strip_bidi(text: str) -> str:
    """`text` without any embedding, override or isolate: for plain text shown where nothing can isolate
    it (feeds, a page's <title>, attribute values), so that it cannot reorder what is shown around it."""
    return text.translate(_STRIP_BIDI) if text and _BIDI_CONTROL.search(text) else text


def isolate(text) -> SafeString:
    """An editor's plain text (a title, a summary, a quote) as an HTML <bdi> element: escaped, neutralised,
    and isolated, so that Arabic or Hebrew in it reads correctly and never moves what follows it."""
    # Safe: the only characters not produced by escape() are the literal <bdi> and </bdi>.
    return mark_safe(f"<bdi>{escape(neutralise_bidi(str(text)))}</bdi>")  # noqa: S308


@functools.cache
def _text_fields(model) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if isinstance(f, CharField | TextField))


@receiver(pre_save, dispatch_uid="peaceplans.markup.neutralise_bidi_on_save")
def _neutralise_bidi_on_save(sender, instance, **kwargs):
    """Every text the app's models store is neutralised on save (admin, services, imports, loaddata), so
    every place that shows it (pages, the admin's lists, the API, CSV, feeds, embeds) gets it so. Connected
    when the models import this module; migration 0015 neutralised the rows stored before."""
    if sender._meta.app_label != "peaceplans":
        return
    for name in _text_fields(sender):
        value = getattr(instance, name)
        if isinstance(value, str) and _BIDI_CONTROL.search(value):
            setattr(instance, name, neutralise_bidi(value))


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
