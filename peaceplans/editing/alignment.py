"""
Which existing point each clause of a pasted draft answers. Pure: text in, data out; no ORM.

A new draft is usually an old one reworded: clauses are merged, split, renumbered and
paraphrased ("capped at 600,000" becomes "limited to 800,000 in peacetime"). The proposals
rest on several signals, each weak alone:

- words reduced to their stems (Snowball: "guarantees", "guaranteeing" -> "guarante"), each
  weighted by how rare it is among the plan's points (IDF), numbers and names more than other
  words, so that "Donetsk" or "800,000" count more than "Ukraine" or "the";
- a word the points never use is taken for the nearest one they do use when the two are spelt
  almost alike (rapidfuzz: "Zelenksyy", "demilitarized" for "demilitarised");
- the editors' aliases ("ZNPP" = "Zaporizhzhia nuclear power plant") and initials ("US" =
  "United States"), each as one word;
- the point's title, its sub-points (a clause may reword "21" as a whole, 21a to 21d in one),
  and its topic: a clause about NATO is nearer every point of the NATO topic;
- the clause's own number, when a point was printed with it, as a weak hint;
- one assignment over the whole draft (the Hungarian method, scipy's linear_sum_assignment):
  two clauses never both claim a point, and each point goes to the clause it fits best
  overall, not to whichever comes first. A clause under the threshold for every point left
  is a new point, or "split from" a point another clause keeps when it fits that one well.

The parameters (Weights) were set by hand, as round values, and are checked on held-out demo
texts by peaceplans/editing/alignment_eval.py (docs/editors.md gives the figures).
"""

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import snowballstemmer
from rapidfuzz import fuzz, process
from scipy.optimize import linear_sum_assignment

Aliases = Mapping[tuple[str, ...], tuple[tuple[str, ...], ...]]  # as search.aliases.table() gives them


@dataclass(frozen=True, slots=True)
class Weights:
    """The method's parameters; alignment_eval.py checks that values near them do about as well."""

    threshold: float = 0.2  # under this score for every free point, a clause is a new point
    split: float = 0.35  # ... or split from a point another clause keeps, if it scores this there
    title: float = 1.0  # a point's title counts as this share of one of its wordings
    family: float = 0.25  # weight of what a point's sub-points explain together beyond the best one alone
    topic: float = 0.25  # share of the score that is the clause's likeness to the point's topic as a whole
    unknown: float = 0.5  # how much the words of a clause that no point has count in its length
    number: float = 0.05  # added when the clause's number is one the point was printed with
    names: float = 1.5  # numbers and names weigh this much more than other words
    fuzzy: int = 88  # rapidfuzz ratio (0 to 100) from which two spellings are one word


DEFAULT = Weights()


@dataclass(frozen=True, slots=True)
class Candidate:
    """
    A point a clause may answer: its key, title and topic name, its wordings in the plan's texts,
    the numbers it was printed with, and the key of the point it is a sub-point of.
    """

    key: str
    title: str = ""
    topic: str = ""
    wordings: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """
    One proposal for a clause: a point's key, or None for a new point; with `split`, a new point
    split from the point `key`, which another clause keeps. A score from 0 to 1, the reason in
    words, and the character ranges of the clause's words that matched the point (`spans`).
    """

    key: str | None
    score: float
    reason: str
    spans: tuple[tuple[int, int], ...] = ()
    split: bool = False

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def parent_key(key: str) -> str | None:
    """The key of the point a sub-point belongs to, as drafts number them: 21d -> 21, 12-1 -> 12."""
    found = re.fullmatch(r"(.*\d)(?:[a-z]|[-.]\d+)", key)
    return found.group(1) if found else None


# --- Words ------------------------------------------------------------------------------

# A number grouped by thousands (600,000) is one word; otherwise runs of letters and digits.
_TOKEN = re.compile(r"\d{1,3}(?:[,.'’\u00a0\u202f]\d{3})+(?!\d)|[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_SENTENCE_END = ".:;!?"
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
class _Text:
    """A text as weighted terms (stems, alias and initials terms), with the words behind each term."""

    words: list[Token]
    terms: Counter[str] = field(default_factory=Counter)  # term -> weight (float)
    where: dict[str, list[int]] = field(default_factory=dict)

    def add(self, term: str, weight: float, indexes) -> None:
        self.terms[term] += weight  # type: ignore[assignment]  # a Counter of floats
        self.where.setdefault(term, []).extend(indexes)


def _read(text: str, aliases: Aliases, weights: Weights) -> _Text:
    """
    A text's terms: each word's stem, except that the words of an alias's spelling make the
    alias's one term instead; and initials, as a term of their own beside the words.
    """
    words = tokens(text)
    read = _Text(words)
    in_alias: set[int] = set()
    for start, end, term in _alias_terms([t.word for t in words], aliases):
        read.add(term, weights.names, range(start, end))
        in_alias.update(range(start, end))
    for n, token in enumerate(words):
        if token.word in STOPWORDS:
            continue
        if n not in in_alias:
            read.add(token.stem, weights.names if token.name else 1.0, [n])
    for start, end, term in _initials(text, words):
        read.add(term, 1.0, range(start, end))
    return read


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


# --- The space of terms -------------------------------------------------------------------


class _Space:
    """Terms as columns, weighted by their inverse document frequency over the points."""

    def __init__(self, documents: Sequence[Counter]):
        frequency: Counter = Counter()
        for terms in documents:
            frequency.update(terms.keys())
        count = len(documents)
        self.columns = {term: n for n, term in enumerate(sorted(frequency))}
        self.idf = np.array([math.log((count + 1) / (frequency[term] + 0.5)) for term in self.columns])
        self.vocabulary = [term for term in self.columns if not term.startswith("=")]

    def vector(self, terms: Counter) -> np.ndarray:
        """Terms as a vector: sublinear in how often a term occurs, times its IDF; unknown terms are left out."""
        vector = np.zeros(len(self.columns))
        for term, weight in terms.items():
            column = self.columns.get(term)
            if column is not None:
                vector[column] = _tf(weight) * self.idf[column]
        return vector

    def near_spellings(self, read: _Text, cutoff: int) -> None:
        """A word no point uses counts as the nearest one they use, when spelt almost alike, by its likeness."""
        for term in list(read.terms):
            if term in self.columns or term.startswith("=") or term.isdigit() or len(term) < 5:
                continue
            best = process.extractOne(term, self.vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff)
            if best:
                read.add(best[0], read.terms.pop(term) * best[1] / 100, read.where[term])


# Of a point and its family with the same score, the point itself: a sub-point worded alike is that sub-point.
_TIE = 0.02
# The least share of a clause its point's sub-points must explain beyond the best of them to count.
_EXTRA = 0.1


def _tf(weight: float) -> float:
    """A term's weight in a text, sublinear in how often it occurs."""
    return 1 + math.log(weight) if weight >= 1 else weight


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


# --- Scores ---------------------------------------------------------------------------------


class _Scores:
    """Every clause's score against every point, and what each score rests on."""

    def __init__(self, clauses, candidates: Sequence[Candidate], aliases: Aliases, weights: Weights):
        self.candidates = candidates
        wordings = [[_read(text, aliases, weights) for text in dict.fromkeys(c.wordings)] for c in candidates]
        titles = [_read(c.title, aliases, weights) for c in candidates]
        documents = []
        for texts, title in zip(wordings, titles, strict=True):
            terms: Counter = Counter()
            for text in texts:
                terms |= text.terms
            documents.append(terms + title.terms)
        self.space = space = _Space(documents)
        self.texts = [text for _, text in clauses]
        self.pasted = [_read(text, aliases, weights) for text in self.texts]
        for read in self.pasted:
            space.near_spellings(read, weights.fuzzy)
        # A clause's words that no point has count in its length: a clause that says much more than
        # a point is less like it (and more likely a new point).
        known = np.array([space.vector(read.terms) for read in self.pasted])
        unseen = math.log((len(documents) + 1) / 0.5)
        rest = (
            np.array(
                [sum(_tf(w) ** 2 for t, w in read.terms.items() if t not in space.columns) for read in self.pasted]
            )
            * (weights.unknown * unseen) ** 2
        )
        norms = np.sqrt((known**2).sum(axis=1) + rest)
        self.clauses = known / np.where(norms == 0, 1, norms)[:, None]

        # Each point's vectors: one per wording (its title added), and one for it with its sub-points.
        index = {c.key: j for j, c in enumerate(candidates)}
        self.vectors: list[list[np.ndarray]] = []
        for texts, title in zip(wordings, titles, strict=True):
            with_title = [space.vector(text.terms) + weights.title * space.vector(title.terms) for text in texts]
            self.vectors.append([_unit(v) for v in with_title] or [_unit(space.vector(title.terms))])
        own = [_unit(np.sum(vectors, axis=0)) for vectors in self.vectors]
        self.families: dict[int, np.ndarray] = {}
        children: dict[int, list[int]] = {}
        for j, candidate in enumerate(candidates):
            if candidate.parent in index and index[candidate.parent] != j:
                children.setdefault(index[candidate.parent], []).append(j)
        best = np.zeros((len(self.pasted), len(candidates)))
        for j, vectors in enumerate(self.vectors):
            for vector in vectors:
                best[:, j] = np.maximum(best[:, j], self.clauses @ vector)
        # A point with sub-points: its best member's score (the point or a sub-point), plus the
        # share of the clause the family explains beyond what that member explains: a clause
        # rewording 24a and 24b together answers 24; one rewording 24a alone, 24a.
        support = [np.any([v != 0 for v in vectors], axis=0) for vectors in self.vectors]
        squares = self.clauses**2
        self.with_family = np.zeros_like(best, dtype=bool)
        for j, kids in children.items():
            members = [j, *kids]
            self.families[j] = _unit(own[j] + sum(own[k] for k in kids))
            covered = squares @ np.any([support[k] for k in members], axis=0)
            each = np.max([squares @ support[k] for k in members], axis=0)
            extra = covered - each
            family = np.where(extra >= _EXTRA, best[:, members].max(axis=1) + weights.family * extra - _TIE, 0)
            self.with_family[:, j] = family > best[:, j]
            best[:, j] = np.maximum(best[:, j], family)

        # The topic: the clause's likeness to all the points of a topic together.
        self.topics = sorted({c.topic for c in candidates})
        topic_of = np.array([self.topics.index(c.topic) for c in candidates])
        points = np.array(own)
        centroids = _unit(np.array([points[topic_of == t].sum(axis=0) for t in range(len(self.topics))]))
        self.topic_likeness = self.clauses @ centroids.T
        self.numbered = np.array([[number in c.numbers for c in candidates] for number, _ in clauses], dtype=float)
        # Not capped at 1 here, so that the number still tells two perfect matches apart.
        self.matrix = np.maximum(
            (1 - weights.topic) * best
            + weights.topic * self.topic_likeness[:, topic_of]
            + weights.number * self.numbered,
            0,
        )

    def reason(self, i: int, j: int) -> tuple[str, tuple[tuple[int, int], ...]]:
        """Why clause i scores what it does against point j, and which of its words matched."""
        if self.with_family[i, j]:
            vector = self.families[j]
        else:
            vector = max(self.vectors[j], key=lambda v: float(self.clauses[i] @ v))
        contributions = self.clauses[i] * vector
        total = float(contributions.sum())
        read = self.pasted[i]
        words: list[str] = []
        spans: set[tuple[int, int]] = set()
        ranked = sorted(
            read.where, key=lambda t: -contributions[self.space.columns[t]] if t in self.space.columns else 0
        )
        for term in ranked:
            column = self.space.columns.get(term)
            if column is None or total <= 0 or contributions[column] < 0.03 * total:
                continue
            for n in read.where[term]:
                spans.add((read.words[n].start, read.words[n].end))
            first = read.words[read.where[term][0]]
            word = self.texts[i][first.start : first.end]
            if word not in words:
                words.append(word)
        parts = [f"words: {', '.join(words[:6])}" if words else "no words in common"]
        if self.with_family[i, j]:
            parts.append("with its sub-points")
        candidate = self.candidates[j]
        if candidate.topic and self.topics[int(np.argmax(self.topic_likeness[i]))] == candidate.topic:
            parts.append(f"topic {candidate.topic}")
        if self.numbered[i, j]:
            parts.append("same number")
        return "; ".join(parts), tuple(sorted(_outer(spans)))


def _outer(spans: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Spans without those inside another (an alias's words and each of them)."""
    return {s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)}


# --- Proposals ------------------------------------------------------------------------------


def propose(
    clauses: Sequence[tuple[str, str]],
    candidates: Sequence[Candidate],
    aliases: Aliases | None = None,
    *,
    weights: Weights = DEFAULT,
    top: int = 3,
) -> list[list[Choice]]:
    """
    For each pasted clause, given as (number, text), up to `top` proposals, best first. The first
    is the clause's share of the assignment over the whole draft: a point, a new point (key
    None), or a new point split from a point that an earlier clause keeps. The others are the
    next best points; one another clause is given shows as "split from" it.
    """
    if not clauses:
        return []
    if not candidates:
        return [[Choice(None, 0.0, "the plan has no points yet")] for _ in clauses]
    scores = _Scores(clauses, candidates, aliases or {}, weights)
    matrix = scores.matrix
    firsts = _assign(matrix, weights)
    keeper = {j: i for i, (j, split) in enumerate(firsts) if j is not None and not split}
    results = []
    for i, (j, _) in enumerate(firsts):
        choices: list[Choice] = []
        if j is None:
            near = int(np.argmax(matrix[i]))
            kept = f", which clause {clauses[keeper[near]][0]} answers better" if near in keeper else ""
            choices.append(
                Choice(
                    None,
                    min(1.0, float(matrix[i, near])),
                    f"no point scores {round(weights.threshold * 100)}% or more; nearest: "
                    f"{candidates[near].key} at {round(matrix[i, near] * 100)}%{kept}",
                )
            )
        for near in [*([j] if j is not None else []), *(int(n) for n in np.argsort(-matrix[i], kind="stable"))]:
            if len(choices) >= top:
                break
            if any(c.key == candidates[near].key for c in choices):
                continue
            reason, spans = scores.reason(i, near)
            splits = near in keeper and keeper[near] != i
            if splits:
                reason = f"split from {candidates[near].key}, which clause {clauses[keeper[near]][0]} keeps; {reason}"
            score = min(1.0, float(matrix[i, near]))
            choices.append(Choice(candidates[near].key, score, reason, spans, split=splits))
        results.append(choices)
    return results


def _assign(matrix: np.ndarray, weights: Weights) -> list[tuple[int | None, bool]]:
    """
    Each clause's point, as (index or None, split). First the one-to-one assignment that
    maximises the total score above the threshold (a clause may instead be a new point, worth
    the threshold). Then a clause left without a point that scores `weights.split` or more on
    a point another clause has is split from it; of the clauses answering one point, the first
    in the text keeps it, as the import does.
    """
    count, points = matrix.shape
    new = np.full((count, count), -1.0)
    np.fill_diagonal(new, weights.threshold)
    rows, columns = linear_sum_assignment(np.hstack([matrix, new]), maximize=True)
    firsts: list[tuple[int | None, bool]] = [(None, False)] * count
    for i, j in zip(rows, columns, strict=True):
        if j < points and matrix[i, j] >= weights.threshold:
            firsts[i] = (int(j), False)
    kept = {j for j, _ in firsts if j is not None}
    for i, (j, _) in enumerate(firsts):
        near = int(np.argmax(matrix[i]))
        if j is None and near in kept and matrix[i, near] >= weights.split:
            firsts[i] = (near, True)
    first_of: dict[int, int] = {}
    for i, (j, _) in enumerate(firsts):
        if j is not None:
            first_of.setdefault(j, i)
    return [(j, j is not None and first_of[j] != i) for i, (j, _) in enumerate(firsts)]
