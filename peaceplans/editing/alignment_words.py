"""
The words of a text as the paste page's alignment (alignment.py) weighs them: stems, names,
aliases and initials, each term with the words of the text behind it. Pure.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

Aliases = Mapping[tuple[str, ...], tuple[tuple[str, ...], ...]]  # as search.aliases.table() gives them

# A number grouped by thousands (600,000) is one word; otherwise runs of letters and digits.
_TOKEN = re.compile(r"\d{1,3}(?:[,.'’\u00a0\u202f]\d{3})+(?!\d)|[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_SENTENCE_END = ".:;!?"
# A sub-point's number ("10a", "5c"): a reference to another clause, which drafts renumber, not a word of its own.
_REFERENCE = re.compile(r"\d+[a-z]")
# English function words: they say nothing about what a clause is about.
STOPWORDS = frozenset(
    """a an the and or nor but if then else of to in on at by for with from into onto upon over under
    about as than that this these those there here it its it's is are was were be been being am do does
    did has have had having will would shall should can could may might must not no any all each every
    both either neither some such so too very which who whom whose what when where why how also only
    own same other their them they he she his her we our us you your i my me one s""".split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class Token:
    """A word of a text: where it is, its form in lower case, its stem, and whether it is a number or a name."""

    start: int
    end: int
    word: str
    stem: str
    name: bool


@lru_cache(maxsize=1)
def _stemmers():
    return snowballstemmer.stemmer("english"), snowballstemmer.stemmer("russian")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The word's stem: English Snowball for Latin letters, Russian for Cyrillic; numbers as they are."""
    if word.isdigit():
        return word
    english, russian = _stemmers()
    return (russian if _CYRILLIC.search(word) else english).stemWord(word)


def tokens(text: str) -> list[Token]:
    """
    The words of a text (NFKC, lower case). A word is a name when it is a number, written in
    capitals ("NATO", "IAEA"), or capitalised other than at the start of a sentence ("Donetsk").
    Positions are in the text as given; each word is NFKC-normalised on its own.
    """
    found = []
    for match in _TOKEN.finditer(text):
        raw = unicodedata.normalize("NFKC", match.group())
        word = re.sub(r"\D", "", raw) if raw[0].isdigit() and not raw.isalnum() else raw.casefold()  # 600,000: 600000
        k = match.start() - 1
        while k >= 0 and text[k].isspace():
            k -= 1
        starts_sentence = k < 0 or text[k] in _SENTENCE_END
        name = raw[0].isdigit() or (len(raw) > 1 and raw.isupper()) or (raw[0].isupper() and not starts_sentence)
        found.append(Token(match.start(), match.end(), word, stem(word), name))
    return found


@dataclass
class Text:
    """A text as weighted terms (stems, alias and initials terms), with the words behind each term."""

    words: list[Token]
    terms: Counter[str] = field(default_factory=Counter)  # term -> weight (float)
    where: dict[str, list[int]] = field(default_factory=dict)

    def add(self, term: str, weight: float, indexes) -> None:
        self.terms[term] += weight  # type: ignore[assignment]  # a Counter of floats
        self.where.setdefault(term, []).extend(indexes)


def read(text: str, aliases: Aliases, names: float) -> Text:
    """
    A text's terms: each word's stem, except that the words of an alias's spelling make the
    alias's one term instead; and initials, as a term of their own beside the words.
    """
    words = tokens(text)
    text_read = Text(words)
    in_alias: set[int] = set()
    for start, end, term in _alias_terms([t.word for t in words], aliases):
        text_read.add(term, names, range(start, end))
        in_alias.update(range(start, end))
    for n, token in enumerate(words):
        if token.word in STOPWORDS or _REFERENCE.fullmatch(token.word):
            continue
        if n not in in_alias:
            text_read.add(token.stem, names if token.name else 1.0, [n])
    for start, end, term in _initials(text, words):
        text_read.add(term, 1.0, range(start, end))
    return text_read


def _alias_terms(words: Sequence[str], aliases: Aliases) -> list[tuple[int, int, str]]:
    """
    The spellings of aliases found in `words`, the longest first, without overlaps, as (first
    word, past the last, term). The term is the same for every spelling of an alias, so a clause
    that says "ZNPP" shares it with a point that says "Zaporizhzhia nuclear power plant".
    """
    if not aliases:
        return []
    longest = max(len(spelling) for spelling in aliases)
    found = []
    start = 0
    while start < len(words):
        for size in range(min(longest, len(words) - start), 0, -1):
            spelling = tuple(words[start : start + size])
            if spelling in aliases:
                found.append((start, start + size, "=" + " ".join(min(aliases[spelling]))))
                start += size
                break
        else:
            start += 1
    return found


def _initials(text: str, words: Sequence[Token]) -> list[tuple[int, int, str]]:
    """
    Initials as one term with the words they stand for: "US" and "United States" both give
    "=us"; "IAEA", "International Atomic Energy Agency" "=iaea". A run is two or more
    capitalised words in a row (separated by spaces only), a word in capitals of 2 to 6 letters
    stands for its own.
    """
    found = []
    run: list[int] = []

    def close():
        if len(run) > 1:
            found.append((run[0], run[-1] + 1, "=" + "".join(words[n].word[0] for n in run)))
        run.clear()

    for n, token in enumerate(words):
        raw = text[token.start : token.end]
        if raw.isalpha() and raw.isupper() and 2 <= len(raw) <= 6:
            close()
            found.append((n, n + 1, "=" + token.word))
            continue
        joined = run and text[words[run[-1]].end : token.start] == " "
        if raw[0].isupper() and raw.isalpha() and token.word not in STOPWORDS:
            if run and not joined:
                close()
            run.append(n)
        else:
            close()
    close()
    return found
