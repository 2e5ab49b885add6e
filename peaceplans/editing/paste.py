"""
A pasted draft, read: its numbered clauses, its list of sources, and the point the editor
typed for each clause. Pure: text in, data out; no ORM, no HTML. Which point each clause
most likely answers is alignment.py's job.

The editors' "paste a new draft" page (admin) uses these in two steps; the import itself
is services.revision_create_from_paste, the same import as the command's.
"""

import datetime
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

MAX_CHARS = 500_000
MAX_LINES = 10_000
MAX_CLAUSES = 2_000
MAX_CLAUSE_CHARS = 10_000  # as models.MAX_CLAUSE_CHARS; a test keeps the two equal
MAX_SOURCES = 100

NUMBER_EXAMPLES = "“1.”, “1)”, “10a)”, “(3)”, “Point 3:”, “3 -”, “§3” or “Article 3.”"


class PasteError(ValueError):
    """Input the page cannot use, with a message for the editor."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class PastedClause:
    """One numbered clause of a pasted draft: its number as printed, its text, the line it starts on."""

    number: str
    text: str
    line: int


# A clause number as drafts print it: 6, 10a, 21.1; a letter is folded to lower case.
_NUMBER = r"(\d{1,3}[a-z]?(?:\.\d{1,3}[a-z]?){0,3})"  # at most 19 characters
_DASH = r"[-\u2010-\u2015\u2212]"
_END = r"(?=\s|$)"  # the marker stands alone: "3.5 million" or "2025-11-20" is not a number
_WORD = r"(?:point|article|art\.|clause|section|item|paragraph|para\.|пункт|стаття|статья)"
_MARKERS = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # Point 3:  Article 3.  Point 3 -  or "Point 3" alone on its line; never "Article 5 guarantees".
        rf"^\s*{_WORD}\s*{_NUMBER}(?:\s*(?:[.:)]|{_DASH}){_END}|\s*$)",
        rf"^\s*§\s*{_NUMBER}[.:)]?{_END}",  # §3
        rf"^\s*\({_NUMBER}\){_END}",  # (3)
        rf"^\s*{_NUMBER}[.:)]{_END}",  # 1.  1)  10a)  10a.
        rf"^\s*{_NUMBER}\s+{_DASH}{_END}",  # 3 -
    )
]


def _numbered(line: str) -> tuple[str, str] | None:
    """(number, rest of the line) when the line starts a clause, else None."""
    for marker in _MARKERS:
        found = marker.match(line)
        if found:
            return found.group(1).lower(), line[found.end() :]
    return None


def _excerpt(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def parse_clauses(text: str) -> list[PastedClause]:
    """
    The clauses of a pasted draft, in order. A clause starts at a line that begins with a
    number ("1.", "1)", "10a)", "(3)", "Point 3:", "Point 3 -", "3 -", "§3", "Article 3.");
    the number is kept as printed, in lower case ("10A" is "10a"). Lines that follow join
    the clause, with a space; a blank line inside a clause is kept as a paragraph break.

    Raises PasteError, with a message for the editor, for an empty text, a NUL character,
    text before the first numbered line, no numbered line at all, a number used twice, a
    clause without text, and for more than MAX_CHARS characters, MAX_LINES lines,
    MAX_CLAUSES clauses or a clause of over MAX_CLAUSE_CHARS characters.
    """
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise PasteError(
            f"The text contains a NUL character (line {line:,}), which is not text. "
            "Copy it again from the original document."
        )
    if len(text) > MAX_CHARS:
        raise PasteError(f"The text has {len(text):,} characters; at most {MAX_CHARS:,} can be pasted at once.")
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise PasteError(f"The text has {len(lines):,} lines; at most {MAX_LINES:,} can be pasted at once.")
    if not text.strip():
        raise PasteError("The text is empty: paste the draft, one numbered clause after another.")

    starts: list[tuple[int, str, list[str]]] = []  # (line number, clause number, its lines)
    leading: tuple[int, str] | None = None
    for n, line in enumerate(lines, start=1):
        numbered = _numbered(line)
        if numbered:
            starts.append((n, numbered[0], [numbered[1]]))
        elif starts:
            starts[-1][2].append(line)
        elif line.strip() and leading is None:
            leading = (n, line)
    if not starts:
        raise PasteError(
            f"No numbered lines found. Start each clause on a new line with its number, for example {NUMBER_EXAMPLES}."
        )
    if leading:
        n, line = leading
        raise PasteError(
            f"Line {n:,} comes before the first numbered line and belongs to no clause: “{_excerpt(line)}”. "
            "Delete it, or start it with a number."
        )
    seen: dict[str, list[int]] = {}
    for n, number, _ in starts:
        seen.setdefault(number, []).append(n)
    twice = {number: at for number, at in seen.items() if len(at) > 1}
    if twice:
        listed = "; ".join(f"{number} (lines {', '.join(f'{n:,}' for n in at)})" for number, at in twice.items())
        raise PasteError(f"These numbers appear more than once: {listed}. Each clause needs its own number.")
    if len(starts) > MAX_CLAUSES:
        raise PasteError(
            f"The text has {len(starts):,} numbered clauses; at most {MAX_CLAUSES:,} can be pasted at once."
        )
    clauses = []
    for n, number, body in starts:
        clause_text = _join(body)
        if not clause_text:
            raise PasteError(f"Clause {number} (line {n:,}) has no text.")
        if len(clause_text) > MAX_CLAUSE_CHARS:
            raise PasteError(
                f"Clause {number} (line {n:,}) has {len(clause_text):,} characters; "
                f"a clause may have at most {MAX_CLAUSE_CHARS:,}."
            )
        clauses.append(PastedClause(number, clause_text, n))
    return clauses


def _join(lines: list[str]) -> str:
    """A clause's lines as its text: lines of a paragraph joined by a space, paragraphs by a blank line."""
    paragraphs, current = [], []
    for line in lines:
        words = line.split()
        if words:
            current.extend(words)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


# --- Sources --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PastedSource:
    """One line of the sources box: a URL with its outlet, date and kind, or a URL alone (already known)."""

    line: int
    url: str
    outlet: str = ""
    date: datetime.date | None = None
    kind: str = ""

    @property
    def bare(self) -> bool:
        return not self.kind

    def as_import(self) -> str | dict:
        """The source as the import format gives it."""
        if self.bare:
            return self.url
        return {
            "url": self.url,
            "outlet": self.outlet,
            "date": self.date.isoformat() if self.date else None,
            "kind": self.kind,
        }


_is_url = URLValidator(schemes=["http", "https"])


def parse_sources(text: str, kinds: Collection[str]) -> list[PastedSource]:
    """
    The sources box, one source a line: "URL | outlet | YYYY-MM-DD | kind" (the date may be
    left empty; kind is one of `kinds`, or its label with spaces), or a URL alone for a
    source already known. Raises PasteError naming the line of the first fault.
    """
    sources: list[PastedSource] = []
    urls: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        url = parts[0]
        try:
            if len(url) > 2000:
                raise ValidationError("too long")
            _is_url(url)
        except ValidationError:
            raise PasteError(
                f"Sources, line {n}: “{_excerpt(url)}” is not a web address (http:// or https://)."
            ) from None
        if url in urls:
            raise PasteError(f"Sources, line {n}: the same address is already on line {urls[url]}.")
        urls[url] = n
        if len(parts) == 1:
            sources.append(PastedSource(n, url))
            continue
        if len(parts) != 4:
            raise PasteError(
                f"Sources, line {n}: expected “URL | outlet | YYYY-MM-DD | kind” (four parts), found {len(parts)}."
            )
        _, outlet, date, kind = parts
        if not outlet or len(outlet) > 200:
            raise PasteError(f"Sources, line {n}: give the outlet, in at most 200 characters.")
        try:
            day = datetime.date.fromisoformat(date) if date else None
            if date and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
                raise ValueError
        except ValueError:
            raise PasteError(
                f"Sources, line {n}: “{_excerpt(date, 20)}” is not a date in the form YYYY-MM-DD."
            ) from None
        kind = kind.lower().replace(" ", "-")
        if kind not in kinds:
            raise PasteError(
                f"Sources, line {n}: unknown kind “{_excerpt(parts[3], 30)}” (expected one of: {', '.join(kinds)})."
            )
        sources.append(PastedSource(n, url, outlet, day, kind))
        if len(sources) > MAX_SOURCES:
            raise PasteError(f"More than {MAX_SOURCES} sources; list the most important ones.")
    return sources


# --- Matching -------------------------------------------------------------------------
# The proposals themselves are alignment.propose(); here, what the editor types to choose.

NEW_POINT = "new point"


@dataclass(frozen=True, slots=True)
class Named:
    """A point as the editor may name it: its key, the number readers see, its title."""

    key: str
    number: str
    title: str

    @property
    def label(self) -> str:
        return f"{self.number} · {self.title}"


@dataclass(frozen=True, slots=True)
class Chosen:
    """What a clause was matched to: a point's key (None: a new point); `split`: a new point split from it."""

    key: str | None
    split: bool = False


def choice_label(chosen: Chosen, points: Mapping[str, Named]) -> str:
    """How the page writes a choice in the clause's box, and reads it back with read_choice()."""
    if chosen.key is None:
        return NEW_POINT
    label = points[chosen.key].label
    return f"split from {label}" if chosen.split else label


def read_choice(typed: str, points: Sequence[Named]) -> Chosen:
    """
    The point an editor typed for a clause: "new" (or "new point"); a point's number or key
    ("21d"), alone or as the autocomplete writes it ("21d · Donetsk demilitarised buffer
    zone"); "split from 21d" (or "split 21d"); or words of a point's title ("buffer zone"),
    when they name one point only. Raises PasteError saying what to type instead.
    """
    text = " ".join(typed.split())
    if not text:
        raise PasteError(f"Type a point's number, words of its title, or “{NEW_POINT}”.")
    if text.casefold() in ("new", NEW_POINT, "+new", "new point (no match)"):
        return Chosen(None)
    split = re.match(r"(?i)split(?:\s+from)?(?:\s+|$)", text)
    name = text[split.end() :] if split else text
    if split and not name:
        raise PasteError("Say which point it is split from, for example “split from 12”.")
    number = name.split(" · ", 1)[0].strip().casefold()
    by_number = {p.number.casefold(): p for p in points} | {p.key.casefold(): p for p in points}
    if number in by_number:
        return Chosen(by_number[number].key, bool(split))
    words = name.casefold().split()
    found = [p for p in points if all(word in p.label.casefold() for word in words)]
    if len(found) == 1:
        return Chosen(found[0].key, bool(split))
    if not found:
        raise PasteError(f"No point is numbered or titled “{_excerpt(name, 40)}”. Type its number, or “{NEW_POINT}”.")
    listed = "; ".join(p.label for p in found[:5]) + ("; …" if len(found) > 5 else "")
    raise PasteError(f"“{_excerpt(name, 40)}” fits {len(found)} points ({listed}): type the number.")


# --- The import -----------------------------------------------------------------------


def import_data(
    *,
    slug: str,
    title: str,
    authors: Sequence[str],
    published_on: datetime.date,
    status: str,
    summary: str,
    sources: Sequence[PastedSource],
    clauses: Sequence[PastedClause],
    points: Sequence[tuple[str | None, str]],
) -> dict:
    """
    One revision in the import format (docs/editors.md): `points` gives, per clause, the key
    of the existing point it answers (None: a new point) and the topic slug for a new point.
    """
    return {
        "slug": slug,
        "title": title,
        "author": list(authors),
        "published_on": published_on.isoformat(),
        "status": status,
        "summary": summary,
        "sources": [source.as_import() for source in sources],
        "points": [
            {
                "number": clause.number,
                "topic": topic,
                "text": clause.text,
                "derived_from": key,
                "change_note": "",
                "deleted": False,
                "sources": [],
            }
            for clause, (key, topic) in zip(clauses, points, strict=True)
        ],
    }
