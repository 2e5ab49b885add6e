"""The query: what the reader typed, reduced to words of letters and digits, and the snippets that show it."""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from peaceplans.markup import SafeHtml, highlight

MAX_QUERY_CHARS = 200
RESULTS_PER_KIND = 20
MIN_PREFIX_CHARS = 2  # a final word of one character is a whole word: as a prefix, it would match most words
COUNT_LIMIT = 1000  # per kind: counted exactly and ranked up to this; beyond, "more than" and unranked
SNIPPET_CHARS = 280

# The kinds of objects found. The position in KINDS is part of the SQLite row id (new kinds go at
# the end); GROUPS is the order the page shows them in.
KINDS = ("clause", "stance", "note", "event", "change")
GROUPS = ("clause", "change", "stance", "note", "event")
KIND_LABELS = {"clause": "Wording", "change": "Changes", "stance": "Stances", "note": "Notes", "event": "Events"}


# The query: what the reader typed, as words of letters and digits.

TOKEN = re.compile(r"[^\W_]+")  # as FTS5's unicode61: letters and digits, the rest separates
GROUPED_NUMBER = re.compile(r"^\d{1,3}(?:[,.'’]\d{3})+$")  # 600,000 / 600.000 / 600'000
DOTTED_NUMBER = re.compile(r"^\d+(?:\.\d+)+$")  # PostgreSQL keeps 12.5 or 600.000 as one word
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Phrase:
    """Words that must follow each other; with `prefix`, the last one may go on (as you type)."""

    words: tuple[str, ...]
    prefix: bool = False


# A term is satisfied by any of its phrases; a query needs every term.
Term = tuple[Phrase, ...]


def clean(text: str) -> str:
    """The typed text without control characters (NUL included) and outer spaces, NFKC-normalised."""
    return _normalise(text).strip()


def _normalise(text: str) -> str:
    return CONTROL.sub(" ", unicodedata.normalize("NFKC", text or ""))


def parse_query(text: str) -> list[Term]:
    """
    The terms of a search as typed: "double quotes" make a phrase; otherwise each word is a
    term and all must match; a word such as Russia's or 600,000 is a phrase of its parts,
    and a grouped number also matches written without separators (600000) and the other way
    round. The last word is a prefix unless the text ends with a space or a closing quote,
    or it is a single character (the start of a word that could be any word in the archive).
    Operators of FTS5 or tsquery are ordinary words here; punctuation and emoji are dropped.
    """
    terms: list[Term] = []
    parts = _normalise(text).split('"')
    for index, part in enumerate(parts):
        typing = index == len(parts) - 1 and not part[-1:].isspace()  # the reader may still be typing this
        if index % 2:  # inside quotes; an unclosed quote runs to the end
            words = tuple(TOKEN.findall(part.lower()))
            if words:
                terms.append((Phrase(words, prefix=typing and len(words[-1]) >= MIN_PREFIX_CHARS),))
            continue
        words = _join_digit_groups(part.split())
        for position, word in enumerate(words, start=1):
            term = _word_term(word)
            if term and typing and position == len(words):
                term = tuple(Phrase(p.words, prefix=len(p.words[-1]) >= MIN_PREFIX_CHARS) for p in term)
            if term:
                terms.append(term)
    return terms


def _join_digit_groups(words: list[str]) -> list[str]:
    """["600", "000", "troops"] -> ["600,000", "troops"]: a number typed with spaces is one number."""
    joined: list[str] = []
    for word in words:
        if joined and re.fullmatch(r"\d{3}", word) and re.fullmatch(r"\d{1,3}(?:,\d{3})*", joined[-1]):
            joined[-1] += "," + word
        else:
            joined.append(word)
    return joined


def _word_term(word: str) -> Term:
    words = tuple(TOKEN.findall(word.lower()))
    if not words:
        return ()
    phrases = [Phrase(words)]
    if GROUPED_NUMBER.match(word):
        phrases.append(Phrase(("".join(words),)))
    elif len(words) == 1 and words[0].isdigit() and len(words[0]) >= 4 and words[0].isascii():
        digits = words[0]
        head = len(digits) % 3 or 3
        phrases.append(Phrase((digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3)))))
    if DOTTED_NUMBER.match(word):
        phrases.append(Phrase((word,)))  # digits and dots only, safe in both syntaxes
    return tuple(phrases)


# Highlighting: the same words, found again in the text shown, for <mark>.


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[:1] or char
    lower = base.lower()
    return lower if len(lower) == 1 else char


class _FoldTable(dict):
    """{code point: its folded character} for str.translate, filled as characters are met (at most 4,096 kept)."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        if len(self) < 4096:
            self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def _fold(text: str) -> str:
    """
    Lower case without accents, one character for one, so positions carry over to the original.
    ASCII text is only lowered (its characters have no accents to drop); other text is translated
    character by character, in C.
    """
    return text.lower() if text.isascii() else text.translate(_FOLD_TABLE)


@lru_cache(maxsize=65536)
def stem(word: str, algorithm: str) -> str:
    """
    A folded word's stem by a Snowball algorithm ("porter" as SQLite's FTS5, "english" as
    PostgreSQL). FTS5's Porter leaves words of one or two characters as they are ("as", "us") and
    ends "-logy" words in "log" ("technolog"): so here too. (Measured on the demo's 2,183 words:
    the same stems as FTS5 then; PostgreSQL 15's English differs on 3, such as "adding".)
    """
    if algorithm == "porter":
        if len(word) < 3:
            return word
        stemmed = _stemmer(algorithm).stemWord(word)
        return stemmed[:-1] if stemmed.endswith("logi") else stemmed
    return _stemmer(algorithm).stemWord(word)


@lru_cache(maxsize=4)
def _stemmer(algorithm: str):
    return snowballstemmer.stemmer(algorithm)


class Matcher:
    """
    Finds in folded text (`_fold`) the words of the terms as the index matched them, for <mark>:
    a word whose stem is the asked word's stem ("guarantees" for "guaranteeing"), or, for a word
    still being typed, one that starts with it or whose stem starts with its stem; a phrase is
    such words one after the other.
    """

    def __init__(self, terms: list[Term], algorithm: str):
        self.algorithm = algorithm
        phrases = set()
        for term in terms:
            for phrase in term:
                words = tuple((_fold(w), stem(_fold(w), algorithm)) for w in phrase.words if w.isalnum())
                if words:
                    phrases.add((words, phrase.prefix))
        self.phrases = sorted(phrases, key=lambda p: -len(p[0]))  # the longest first

    def __bool__(self) -> bool:
        return bool(self.phrases)

    def _fits(self, token: str, word: tuple[str, str], prefix: bool) -> bool:
        folded, stemmed = word
        if token == folded:
            return True
        token_stem = stem(token, self.algorithm)
        if prefix:
            return token.startswith(folded) or token_stem.startswith(stemmed)
        return token_stem == stemmed

    def _length_at(self, tokens: list[str], i: int) -> int:
        """How many tokens from the i-th the longest phrase that fits there covers (0: none)."""
        for words, prefix in self.phrases:
            n = len(words)
            if i + n <= len(tokens) and all(
                self._fits(tokens[i + k], words[k], prefix and k == n - 1) for k in range(n)
            ):
                return n
        return 0

    def spans(self, folded: str) -> list[tuple[int, int]]:
        """The (start, end) of each match, in order, none overlapping."""
        found = list(TOKEN.finditer(folded))
        tokens = [m.group() for m in found]
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(tokens):
            n = self._length_at(tokens, i)
            if n:
                spans.append((found[i].start(), found[i + n - 1].end()))
            i += n or 1
        return spans


def matcher(terms: list[Term], algorithm: str = "porter") -> Matcher | None:
    """The words of the terms to highlight, stemmed as the database in use stems them."""
    found = Matcher(terms, algorithm)
    return found if found else None


def snippet(text: str, pattern: Matcher | None, *, width: int = SNIPPET_CHARS) -> SafeHtml:
    """The text (cut to about `width` characters around the first match) with each match in <mark>."""
    text = " ".join((text or "").split())
    spans = pattern.spans(_fold(text)) if pattern else []
    if len(text) <= width:
        return highlight(text, spans)
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    if start and (space := text.find(" ", start, first)) != -1:
        start = space + 1  # begin with a whole word
    end = min(len(text), start + width)
    if end < len(text) and text.rfind(" ", start, end) > max(first, start):
        end = text.rfind(" ", start, end)
    lead, tail = ("…" if start else ""), ("…" if end < len(text) else "")
    shift = len(lead) - start
    kept = [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]
    return highlight(lead + text[start:end] + tail, kept)
