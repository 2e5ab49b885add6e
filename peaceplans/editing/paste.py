"""
A pasted draft, read: its numbered clauses, its list of sources, and which existing point
each clause most likely answers. Pure: text in, data out; no ORM, no HTML.

The editors' "paste a new draft" page (admin) uses these in two steps; the import itself
is services.revision_create_from_paste, the same import as the command's.
"""

import datetime
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from peaceplans.compare.diff import similarity, tokenize

MAX_CHARS = 500_000
MAX_LINES = 10_000
MAX_CLAUSES = 2_000
MAX_CLAUSE_CHARS = 10_000  # as models.MAX_CLAUSE_CHARS; a test keeps the two equal
MAX_SOURCES = 100
# Below this similarity a clause is proposed as a new point. Paraphrases of one point
# score 0.6 to 0.9 against each other; unrelated clauses of the same plan, 0.1 to 0.3.
MATCH_THRESHOLD = 0.35
# Per clause, how many wordings (best word overlap first) get the exact, costlier score.
CANDIDATES_PER_CLAUSE = 12

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


@dataclass(frozen=True, slots=True)
class Proposal:
    """The point proposed for one clause (None: a new point), its similarity, and the
    nearest point found whatever the threshold (for a new point: what it came closest to)."""

    key: str | None
    score: float
    nearest: str | None = None

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def _bag(text: str) -> Counter:
    return Counter(token.casefold() for token in tokenize(text) if not token.isspace())


def _bound(a: Counter, na: int, b: Counter, nb: int) -> float:
    """An upper bound of similarity(): matched tokens cannot outnumber the tokens both texts share."""
    if not na + nb:
        return 1.0
    return 2.0 * sum((a & b).values()) / (na + nb)


def propose_points(
    texts: Sequence[str],
    wordings: Mapping[str, Sequence[str]],
    *,
    threshold: float = MATCH_THRESHOLD,
) -> list[Proposal]:
    """
    For each pasted clause text, the existing point it most likely answers.

    `wordings` maps each point's key, in plan order, to its texts in the plan's revisions;
    a point scores its best wording (diff.similarity). Pairs are taken greedily, best
    score first (ties: earlier clause, then earlier point), so no point is proposed for
    two clauses; a clause whose best remaining score is below `threshold` is a new point.
    Only the CANDIDATES_PER_CLAUSE wordings sharing the most words with a clause are
    scored exactly, which keeps a 2,000-clause paste to seconds.
    """
    order = {key: n for n, key in enumerate(wordings)}
    candidates = []
    for key, texts_of_point in wordings.items():
        for text in dict.fromkeys(texts_of_point):  # one score per distinct wording
            bag = _bag(text)
            candidates.append((key, text, bag, bag.total()))
    pairs: list[tuple[float, int, int, str]] = []
    nearest: list[tuple[float, str | None]] = []
    for i, text in enumerate(texts):
        bag = _bag(text)
        size = bag.total()
        bounds = sorted(
            ((_bound(bag, size, cbag, csize), -n) for n, (_, _, cbag, csize) in enumerate(candidates)), reverse=True
        )
        best: dict[str, float] = {}
        for bound, minus_n in bounds[:CANDIDATES_PER_CLAUSE]:
            if bound < threshold and best:
                break
            key, candidate, _, _ = candidates[-minus_n]
            best[key] = max(best.get(key, 0.0), similarity(text, candidate))
        pairs.extend((-score, i, order[key], key) for key, score in best.items())
        key, score = max(best.items(), key=lambda item: (item[1], -order[item[0]]), default=(None, 0.0))
        nearest.append((score, key if score else None))
    pairs.sort()
    proposals: list[Proposal | None] = [None] * len(texts)
    taken: set[str] = set()
    for minus_score, i, _, key in pairs:
        if -minus_score < threshold:
            break
        if proposals[i] is None and key not in taken:
            proposals[i] = Proposal(key, -minus_score, key)
            taken.add(key)
    return [p or Proposal(None, score, key) for p, (score, key) in zip(proposals, nearest, strict=True)]


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
