"""
Word-level comparison of two clause texts: text in, data out.

Pure standard library: no Django, no ORM, no HTML. The ops carry the exact slices of
both texts, unescaped; templates render them under autoescape.

A text is split into tokens (words, numbers, punctuation marks, whitespace runs). The
non-whitespace tokens, casefolded, are aligned (by difflib for clause-sized texts; see
blocks.py for long ones), and the alignment is mapped back to exact slices of both
texts, so the ops always rebuild them character for character. The verdict is separate:
whether the words are the same once whitespace, quotes, punctuation and case are set aside.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from itertools import accumulate, chain, starmap, zip_longest
from operator import eq

from peaceplans.compare.blocks import CHUNK_CHARS, chunks, matching_blocks

__all__ = ["COSMETIC_KINDS", "Change", "ClauseDiff", "Op", "compare", "diff_ops", "similarity", "tokenize", "trivial"]


class Change(StrEnum):
    """How the two texts of a clause pair differ."""

    UNCHANGED = "unchanged"
    COSMETIC = "cosmetic"
    CHANGED = "changed"
    ADDED = "added"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class Op:
    """One step of a diff: `kind` is "equal", "insert", "delete" or "replace"; `a` and `b`
    are the exact slices of each text it covers ("" for the side it does not touch)."""

    kind: str
    a: str
    b: str


@dataclass(frozen=True, slots=True)
class ClauseDiff:
    """The comparison of two texts: verdict, ops, word-level similarity, and for a
    cosmetic change which kinds of difference occur ("whitespace", "punctuation",
    "quotes", "letter case")."""

    change: Change
    ops: tuple[Op, ...]
    similarity: float
    cosmetic: tuple[str, ...] = ()


# --- Tokens ---------------------------------------------------------------------------
# \w misses combining marks (Mn/Mc/Me). A full table costs a second to build from
# unicodedata, so these are the blocks our texts meet: Latin, Greek and Cyrillic
# diacritics, Hebrew and Arabic points, emoji variation selectors and the keycap.
# Indic vowel signs are not listed: such words split at them, which still rebuilds exactly.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
    "\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f\U000e0100-\U000e01ef"
)
_CURRENCY = r"$\u00a2-\u00a5\u20a0-\u20cf"
_HYPHENS = r"\-\u2010\u2011"
_APOSTROPHES = r"'\u2018\u2019"
# What may continue a word after its first run of \w: a hyphen or apostrophe between word
# characters (Witkoff-Dmitriev, Ukraine's); "." or "," between digits (600,000, 2.5); a
# no-break or thin space before a group of three digits (600 000); combining marks.
# Then a percent, per-mille or currency sign straight after a digit (50%, 90€).
_WORD_REST = (
    rf"(?:(?:[{_HYPHENS}{_APOSTROPHES}]|(?<=\d)[.,](?=\d)|(?<=\d)[\u00a0\u2009\u202f](?=\d{{3}}(?!\d)))\w+"
    rf"|[{_MARKS}\u200c\u200d]+\w*)*"
    rf"(?:(?<=\d)[%\u2030\u2031{_CURRENCY}])?"
)
# Anything else is one character with what attaches to it: combining marks, emoji
# modifiers, tag characters, zero-width-joined emoji; a flag is a pair of regional indicators.
_OTHER = (
    r"[\U0001f1e6-\U0001f1ff]{2}"
    rf"|\S(?:[{_MARKS}\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]|\u200d[^\w\s])*"
)
# Every non-whitespace character belongs to a token, so splitting on tokens leaves
# [whitespace, token, whitespace, ..., token, whitespace], each whitespace possibly "".
# (Shaped for speed: an optional prefix such as the currency sign costs a third more when
# it leads the word alternative.)
_TOKEN = re.compile(rf"(\w+{_WORD_REST}|[{_CURRENCY}](?=\d)\w+{_WORD_REST}|{_OTHER})")


def tokenize(text: str) -> list[str]:
    """Split `text` into word-level tokens; `"".join(tokenize(text)) == text` always.

    Whitespace runs are tokens of their own, and so is each punctuation mark. A number
    with separators (600,000, 1,000,000.50, or 600 000 grouped by no-break spaces), a
    percentage (50%), an amount ($100bn, 90bn), a hyphenated or apostrophised word
    (Witkoff-Dmitriev, Ukraine's), a word in any script and an emoji (with its modifiers)
    are one token each. Trailing punctuation is not part of a number: "600,000." is
    "600,000" then ".".
    """
    return [token for token in _TOKEN.split(text) if token]


@dataclass(slots=True)
class _Text:
    """A text split for comparison.

    `pieces` alternates whitespace and token, starting and ending with whitespace (either
    may be ""), and is taken from the casefolded text when casefolding keeps every
    character's length, so its lengths locate each token in the text; `keys` are the
    tokens casefolded, which is what the alignment compares.
    """

    pieces: list[str]
    keys: list[str]


def _split(text: str) -> _Text:
    folded = text.casefold()
    if len(folded) == len(text):
        pieces = _TOKEN.split(folded)
        return _Text(pieces, pieces[1::2])
    pieces = _TOKEN.split(text)  # "ß" -> "ss" and the like: fold token by token instead
    return _Text(pieces, [token.casefold() for token in pieces[1::2]])


# --- Ops ------------------------------------------------------------------------------
_EQUAL, _CHANGE = 0, 1


class _Ops:
    """Ops under construction, as spans [kind, a0, a1, b0, b1] of both texts. Spans come
    in order and adjacent; spans of one kind merge, so equal and change alternate."""

    __slots__ = ("spans",)

    def __init__(self) -> None:
        self.spans: list[list[int]] = []

    def push(self, kind: int, a0: int, a1: int, b0: int, b1: int) -> None:
        if a0 == a1 and b0 == b1:
            return
        if self.spans and self.spans[-1][0] == kind:
            self.spans[-1][2], self.spans[-1][4] = a1, b1
        else:
            self.spans.append([kind, a0, a1, b0, b1])

    def finish(self, a: str, b: str, *, mirrored: bool = False) -> tuple[Op, ...]:
        """The ops, a to b (mirrored: b to a)."""
        # Whitespace alone between two changes joins them: one readable replacement, not
        # "800,000" and "in peacetime" as separate fragments around an unchanged space.
        merged: list[list[int]] = []
        for span in self.spans:
            if span[0] == _CHANGE and len(merged) >= 2 and a[merged[-1][1] : merged[-1][2]].isspace():
                merged.pop()
                merged[-1][2], merged[-1][4] = span[2], span[4]
            else:
                merged.append(span)
        if mirrored:
            return tuple(_op(kind, b[b0:b1], a[a0:a1]) for kind, a0, a1, b0, b1 in merged)
        return tuple(_op(kind, a[a0:a1], b[b0:b1]) for kind, a0, a1, b0, b1 in merged)


def _op(kind: int, a: str, b: str) -> Op:
    if kind == _EQUAL:
        return Op("equal", a, b)
    return Op("replace" if a and b else "insert" if b else "delete", a, b)


def _align(ops: _Ops, a: str, b: str) -> tuple[int, int]:
    """Push the ops turning a into b; return (matched tokens, tokens on both sides)."""
    if len(a) <= CHUNK_CHARS or len(b) <= CHUNK_CHARS:
        return _align_tokens(ops, a, b, 0, 0)
    chunks_a, chunks_b = chunks(a), chunks(b)
    matched = total = at_a = at_b = ka = kb = 0
    for i, j, n in [*matching_blocks(chunks_a, chunks_b), (len(chunks_a), len(chunks_b), 0)]:
        # Changed chunks between matched ones; as many on each side (the usual case: words
        # changed, not where sentences and clauses break) go pair by pair.
        if i - ka == j - kb:
            runs = list(zip(chunks_a[ka:i], chunks_b[kb:j], strict=True))
        else:
            runs = [("".join(chunks_a[ka:i]), "".join(chunks_b[kb:j]))]
        for run_a, run_b in runs:
            m, t = _align_run(ops, run_a, run_b, at_a, at_b)
            matched, total, at_a, at_b = matched + m, total + t, at_a + len(run_a), at_b + len(run_b)
        if n:
            same = "".join(chunks_a[i : i + n])
            ops.push(_EQUAL, at_a, at_a + len(same), at_b, at_b + len(same))
            count = len(_TOKEN.findall(same))
            matched, total, at_a, at_b = matched + count, total + 2 * count, at_a + len(same), at_b + len(same)
        ka, kb = i + n, j + n
    return matched, total


def _align_run(ops: _Ops, a: str, b: str, at_a: int, at_b: int) -> tuple[int, int]:
    """_align for changed chunks: what they share at either end, cut at a space (so at a
    token boundary), is equal as it stands and only counted; the rest goes token by token."""
    head = _common_start(a, b)
    head = max(a.rfind(" ", 0, head), a.rfind("\n", 0, head), a.rfind("\t", 0, head)) + 1
    cut = len(a) - _common_end(a[head:], b[head:])
    starts = [found for found in (a.find(" ", cut), a.find("\n", cut), a.find("\t", cut)) if found >= 0]
    tail = len(a) - min(starts, default=len(a))
    shared = len(_TOKEN.findall(a, 0, head)) + len(_TOKEN.findall(a, len(a) - tail))
    ops.push(_EQUAL, at_a, at_a + head, at_b, at_b + head)
    m, t = _align_tokens(ops, a[head : len(a) - tail], b[head : len(b) - tail], at_a + head, at_b + head, exact=False)
    ops.push(_EQUAL, at_a + len(a) - tail, at_a + len(a), at_b + len(b) - tail, at_b + len(b))
    return m + shared, t + 2 * shared


def _common_start(a: str, b: str) -> int:
    """The length of the longest common start of a and b (a binary search, in C-speed steps)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_end(a: str, b: str) -> int:
    """The length of the longest common end of a and b."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle :] == b[len(b) - middle :]:
            low = middle
        else:
            high = middle - 1
    return low


def _align_tokens(ops: _Ops, a: str, b: str, at_a: int, at_b: int, *, exact: bool = True) -> tuple[int, int]:
    """_align, token by token, for a and b found at offsets at_a and at_b of the texts."""
    ta, tb = _split(a), _split(b)
    blocks = matching_blocks(ta.keys, tb.keys, exact=exact)
    # Piece k of a spans ea[k]:ea[k + 1]; token k is piece 2k + 1.
    ea, eb = list(accumulate(map(len, ta.pieces), initial=0)), list(accumulate(map(len, tb.pieces), initial=0))
    ka = kb = 0  # the next unaligned token on each side
    for i, j, n in [*blocks, (len(ta.keys), len(tb.keys), 0)]:
        # Unaligned tokens with the whitespace around them: whitespace, token, ..., whitespace.
        _push_gap(ops, a, b, ea[2 * ka : 2 * i + 2], eb[2 * kb : 2 * j + 2], at_a, at_b)
        if n:  # aligned tokens and the whitespace between them: token, whitespace, ..., token
            a0, a1, b0, b1 = ea[2 * i + 1], ea[2 * (i + n)], eb[2 * j + 1], eb[2 * (j + n)]
            if a[a0:a1] == b[b0:b1]:
                ops.push(_EQUAL, at_a + a0, at_a + a1, at_b + b0, at_b + b1)
            else:  # the same words, but letter case or spacing differs somewhere inside
                for k in range(2 * n - 1):
                    a0, a1, b0, b1 = ea[2 * i + 1 + k], ea[2 * i + 2 + k], eb[2 * j + 1 + k], eb[2 * j + 2 + k]
                    kind = _EQUAL if a[a0:a1] == b[b0:b1] else _CHANGE
                    ops.push(kind, at_a + a0, at_a + a1, at_b + b0, at_b + b1)
        ka, kb = i + n, j + n
    return sum(n for _, _, n in blocks), len(ta.keys) + len(tb.keys)


def _push_gap(ops: _Ops, a: str, b: str, ea: list[int], eb: list[int], at_a: int, at_b: int) -> None:
    """Push the ops for unaligned pieces with edges ea in a and eb in b (whitespace,
    token, ..., whitespace). Pieces equal at either edge (whitespace, mostly) stay equal;
    the middle is one change."""
    if a[ea[0] : ea[-1]] == b[eb[0] : eb[-1]]:
        ops.push(_EQUAL, at_a + ea[0], at_a + ea[-1], at_b + eb[0], at_b + eb[-1])
        return
    na, nb = len(ea) - 1, len(eb) - 1
    head = 0
    while head < min(na, nb) and a[ea[head] : ea[head + 1]] == b[eb[head] : eb[head + 1]]:
        head += 1
    tail = 0
    while tail < min(na, nb) - head and a[ea[na - tail - 1] : ea[na - tail]] == b[eb[nb - tail - 1] : eb[nb - tail]]:
        tail += 1
    ops.push(_EQUAL, at_a + ea[0], at_a + ea[head], at_b + eb[0], at_b + eb[head])
    ops.push(_CHANGE, at_a + ea[head], at_a + ea[na - tail], at_b + eb[head], at_b + eb[nb - tail])
    ops.push(_EQUAL, at_a + ea[na - tail], at_a + ea[na], at_b + eb[nb - tail], at_b + eb[nb])


def _aligned(a: str, b: str) -> tuple[tuple[Op, ...], float]:
    """Ops and similarity of two different texts.

    difflib breaks ties by position in its first sequence, so it is always given the
    smaller string first and the result mirrored: comparing b with a gives exactly the
    mirror image of comparing a with b.
    """
    first, second = (b, a) if b < a else (a, b)
    ops = _Ops()
    matched, total = _align(ops, first, second)
    return ops.finish(first, second, mirrored=b < a), 2.0 * matched / total if total else 1.0


def diff_ops(a: str, b: str) -> list[Op]:
    """Word-level ops turning `a` into `b`.

    The `a` slices of the ops join to `a` and the `b` slices to `b`. Adjacent changes
    are one op, and so are changes separated only by whitespace; a word whose letter case
    changed is a replacement.
    """
    if a == b:
        return [Op("equal", a, b)] if a else []
    return list(_aligned(a, b)[0])


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0.0 to 1.0, over their casefolded non-whitespace tokens:
    2 * matched / (tokens of a + tokens of b), as difflib's ratio. For clause-sized texts
    it is difflib's own ratio (autojunk off, the smaller string first); for long ones, that
    of the alignment described under "Alignment". Symmetric; 1.0 for identical texts, and
    for two texts of whitespace only."""
    if a == b:
        return 1.0
    return _aligned(a, b)[1]


# --- Verdict --------------------------------------------------------------------------
# Straight, curly, low-9, angle and prime quotes; apostrophes, including the modifier letter.
_QUOTES = frozenset("'\"\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2039\u203a\u00ab\u00bb")
_QUOTES |= frozenset("\u02bc\u2032\u2033`\u00b4\uff02\uff07")
# Punctuation by Unicode category, but these carry meaning and count as words.
_MEANINGFUL = frozenset("%\u2030\u2031#&*@\u00a7\u00b6\u2020\u2021/\\")
# Hyphens and apostrophes split a word into parts ("non-aggression" reads as "non
# aggression"), except between digits, where they are part of a number (50-50).
# The space grouping digits (600 000) is whitespace like any other.
_INNER = re.compile(rf"((?<!\d)[{_HYPHENS}{_APOSTROPHES}\u02bc]|[{_HYPHENS}{_APOSTROPHES}\u02bc](?!\d)|\s)")
COSMETIC_KINDS = ("whitespace", "punctuation", "quotes", "letter case")


def _mark(ch: str) -> str | None:
    """The class of a mark: q(uote, including apostrophes), p(unctuation), or None."""
    if ch in _QUOTES:
        return "q"
    if ch not in _MEANINGFUL and unicodedata.category(ch).startswith("P"):
        return "p"
    return None


@lru_cache(maxsize=8192)
def _parts(token: str) -> tuple[tuple[str, str], ...]:
    """A non-whitespace token as (class, text) parts: "w" word, "q" quote, "p" punctuation,
    "s" whitespace (inside a number)."""
    mark = _mark(token) if len(token) == 1 else None
    if mark:
        return ((mark, token),)
    parts = []
    for n, piece in enumerate(_INNER.split(token)):
        if n % 2:
            parts.append(("s", piece) if piece.isspace() else (_mark(piece) or "p", piece))
        elif piece:
            parts.append(("w", piece))
    return tuple(parts)


@lru_cache(maxsize=8192)
def _words(key: str) -> tuple[str, ...]:
    return tuple(text for kind, text in _parts(key) if kind == "w")


def _same_words(a: str, b: str) -> bool:
    """Whether two texts have the same words once whitespace, punctuation and quotes are
    dropped and letter case folded. Numbers keep their inner separators. Lazy: stops at
    the first difference, so a changed text usually costs next to nothing here."""
    return all(starmap(eq, zip_longest(_word_stream(a), _word_stream(b))))


def _word_stream(text: str) -> Iterator[str]:
    return chain.from_iterable(map(_words, map(str.casefold, map(re.Match.group, _TOKEN.finditer(text)))))


def _view(text: str, keep: str) -> list[tuple[str, str]]:
    """The text normalised in every respect except `keep`, one of COSMETIC_KINDS."""
    out: list[tuple[str, str]] = []
    for token in tokenize(text):
        for kind, part in (("s", token),) if token.isspace() else _parts(token):
            if kind == "w":
                out.append((kind, part if keep == "letter case" else part.casefold()))
            elif kind == "s" and keep == "whitespace":
                if out and out[-1][0] == "s":
                    out[-1] = ("s", out[-1][1] + part)
                else:
                    out.append(("s", part))
            elif (kind, keep) in (("q", "quotes"), ("p", "punctuation")):
                out.append((kind, part))
    return out


def _cosmetic_kinds(a: str, b: str) -> tuple[str, ...]:
    kinds = tuple(kind for kind in COSMETIC_KINDS if _view(a, kind) != _view(b, kind))
    # Every kind alike but the texts not: whitespace moved across punctuation ("x, y"
    # against "x ,y").
    return kinds or ("whitespace",)


def trivial(a: str | None, b: str | None) -> ClauseDiff | None:
    """compare(a, b) when it needs no alignment (a side missing, or the same text twice), else
    None: the two texts differ, and only an alignment of their words can tell how."""
    return _without_alignment(a, b) if a is None or b is None or a == b else None


def _without_alignment(a: str | None, b: str | None) -> ClauseDiff:
    if a is None or b is None:
        if a is None and b is None:
            return ClauseDiff(Change.UNCHANGED, (), 1.0)
        if a is None:
            return ClauseDiff(Change.ADDED, (Op("insert", "", b),) if b else (), 0.0)
        return ClauseDiff(Change.DROPPED, (Op("delete", a, ""),) if a else (), 0.0)
    return ClauseDiff(Change.UNCHANGED, (Op("equal", a, b),) if a else (), 1.0)  # the same text


def compare(a: str | None, b: str | None) -> ClauseDiff:
    """Compare two versions of a clause; None means that side has no text.

    A missing `a` is ADDED and a missing `b` DROPPED (the one text as a single insert or
    delete, similarity 0.0); both missing is UNCHANGED with no ops. Otherwise identical
    texts are UNCHANGED; texts whose words match once whitespace, quote style,
    punctuation and letter case are set aside are COSMETIC, with `cosmetic` naming which
    of those differ; anything else is CHANGED. Digits keep their separators: 600,000
    against 600.000 is CHANGED.
    """
    if a is None or b is None or a == b:
        return _without_alignment(a, b)
    ops, ratio = _aligned(a, b)
    if not _same_words(a, b):
        return ClauseDiff(Change.CHANGED, ops, ratio)
    return ClauseDiff(Change.COSMETIC, ops, ratio, _cosmetic_kinds(a, b))
