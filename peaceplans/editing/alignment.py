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
- what the parties said of the point (its stances' summaries and quotes): the names and
  numbers several of them use tell what the point is about in reporters' words ("Article
  5-like guarantee", "Congress" for "a US guarantee, subject to 10a-10d"), a bonus, lower than
  the wording's weight;
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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process
from scipy.optimize import linear_sum_assignment

from peaceplans.editing.alignment_words import Aliases, Text
from peaceplans.editing.alignment_words import read as read_text


@dataclass(frozen=True, slots=True)
class Weights:
    """The method's parameters; alignment_eval.py checks that values near them do about as well."""

    threshold: float = 0.2  # under this score for every free point, a clause is a new point
    split: float = 0.35  # ... or split from a point another clause keeps, if it scores this there
    title: float = 1.0  # a point's title counts as this share of one of its wordings
    said: float = 0.5  # what the parties said of a point, as a share of its wording's weight (its length)
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
    the numbers it was printed with, the key of the point it is a sub-point of, and what the
    parties said of it (their stances' summaries and quotes: its substance in reporters' words).
    """

    key: str
    title: str = ""
    topic: str = ""
    wordings: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    parent: str | None = None
    said: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Choice:
    """
    One proposal for a clause: a point's key, or None for a new point; with `split`, a new point
    split from the point `key`, which clause `taken` keeps. A score from 0 to 1, the reason in
    words, and the character ranges of the clause's words that matched the point (`spans`).
    """

    key: str | None
    score: float
    reason: str
    spans: tuple[tuple[int, int], ...] = ()
    split: bool = False
    taken: str = ""  # the number of the clause the point went to, when not this one

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def parent_key(key: str) -> str | None:
    """The key of the point a sub-point belongs to, as drafts number them: 21d -> 21, 12-1 -> 12."""
    found = re.fullmatch(r"(.*\d)(?:[a-z]|[-.]\d+)", key)
    return found.group(1) if found else None


# --- The space of terms -------------------------------------------------------------------


class _Space:
    """
    Terms as columns, weighted by their inverse document frequency over the points' wordings and
    titles; a term only what was said of the points has, by how many points it was said of.
    """

    def __init__(self, documents: Sequence[Counter], said: Sequence[Counter] = ()):
        frequency: Counter = Counter()
        for terms in documents:
            frequency.update(terms.keys())
        self.vocabulary = [term for term in sorted(frequency) if not term.startswith("=")]
        spoken: Counter = Counter()
        for terms in said:
            spoken.update(terms.keys() - frequency.keys())
        frequency.update(spoken)
        count = len(documents)
        self.columns = {term: n for n, term in enumerate(sorted(frequency))}
        self.idf = np.array([math.log((count + 1) / (frequency[term] + 0.5)) for term in self.columns])

    def vector(self, terms: Counter) -> np.ndarray:
        """Terms as a vector: sublinear in how often a term occurs, times its IDF; unknown terms are left out."""
        vector = np.zeros(len(self.columns))
        for term, weight in terms.items():
            column = self.columns.get(term)
            if column is not None:
                vector[column] = _tf(weight) * self.idf[column]
        return vector

    def near_spellings(self, read: Text, cutoff: int) -> None:
        """A word no point uses counts as the nearest one they use, when spelt almost alike, by its likeness."""
        for term in list(read.terms):
            if term in self.columns or term.startswith("=") or term.isdigit() or len(term) < 5:
                continue
            best = process.extractOne(term, self.vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff)
            if best:
                read.add(best[0], read.terms.pop(term) * best[1] / 100, read.where[term])


# Of what was said of a point, the names, numbers and aliases that this many of its stances use:
# what reports agree a point is about ("Article 5", "Congress"), not one reporter's phrasing.
_SAID_BY = 2
# Of a point and its family with the same score, the point itself: a sub-point worded alike is that sub-point.
_TIE = 0.02
# The least share of a clause its point's sub-points must explain beyond the best of them to count.
_EXTRA = 0.1
# ... and the least share, of what the best of them explains alone, that the others add: a clause
# that mostly rewords one sub-point, with a word or two of its siblings, is that sub-point.
_SHARE = 0.5


def _tf(weight: float) -> float:
    """A term's weight in a text, sublinear in how often it occurs."""
    return 1 + math.log(weight) if weight >= 1 else weight


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


class _Aliases(dict):
    """Aliases that can key a cache: the same lines, the same key."""

    def __init__(self, aliases: Aliases):
        super().__init__(aliases)
        self.key = hash(frozenset(self.items()))

    def __hash__(self):  # type: ignore[override]
        return self.key


@lru_cache(maxsize=4096)  # a plan of 100 points in 10 texts, their stances, and then some
def _point_text(text: str, aliases: _Aliases, names: float) -> Text:
    """A point's wording, title or stance, read once for every paste of the same plan (an edit is a new text)."""
    return read_text(text, aliases, names)


# --- Scores ---------------------------------------------------------------------------------


class _Scores:
    """Every clause's score against every point, and what each score rests on."""

    def __init__(self, clauses, candidates: Sequence[Candidate], aliases: Aliases, weights: Weights):
        self.candidates = candidates
        known = _Aliases(aliases)
        wordings = [[_point_text(text, known, weights.names) for text in dict.fromkeys(c.wordings)] for c in candidates]
        titles = [_point_text(c.title, known, weights.names) for c in candidates]
        said = [_said(c.said, known, weights.names) for c in candidates]
        documents = []
        for texts, title in zip(wordings, titles, strict=True):
            terms: Counter = Counter()
            for text in texts:
                terms |= text.terms
            documents.append(terms + title.terms)
        self.space = space = _Space(documents, said)
        self.texts = [text for _, text in clauses]
        self.pasted = [read_text(text, aliases, weights.names) for text in self.texts]
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
        said_vectors = []
        for texts, title, spoken in zip(wordings, titles, said, strict=True):
            with_title = [space.vector(text.terms) + weights.title * space.vector(title.terms) for text in texts]
            self.vectors.append([_unit(v) for v in with_title] or [_unit(space.vector(title.terms))])
            # What was said of the point beyond its wording, on the wording's scale: a bonus (never a
            # penalty) for a clause that uses the names reports use for it, worth more the rarer they are.
            length = max((float(np.linalg.norm(v)) for v in with_title), default=0.0)
            wording = set(title.terms).union(*(text.terms for text in texts))
            said_vectors.append(
                space.vector(Counter({t: w for t, w in spoken.items() if t not in wording})) / (length or 1.0)
            )
        self.said = np.array(said_vectors)
        self.said_likeness = self.clauses @ self.said.T
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
        best += weights.said * self.said_likeness
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
            counts = (extra >= _EXTRA) & (extra >= _SHARE * each)
            family = np.where(counts, best[:, members].max(axis=1) + weights.family * extra - _TIE, 0)
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
        spoken = self._said_words(i, j, words, spans)
        if spoken:
            parts.append(f"said of it: {', '.join(spoken[:4])}")
        if self.with_family[i, j]:
            parts.append("with its sub-points")
        candidate = self.candidates[j]
        if candidate.topic and self.topics[int(np.argmax(self.topic_likeness[i]))] == candidate.topic:
            parts.append(f"topic {candidate.topic}")
        if self.numbered[i, j]:
            parts.append("same number")
        return "; ".join(parts), tuple(sorted(_outer(spans)))

    def _said_words(self, i: int, j: int, shown: list[str], spans: set[tuple[int, int]]) -> list[str]:
        """
        The clause's words (an alias's as one: "Article 5") that the parties' stances on point j
        use, when they added to its score and are not among its wording's `shown`; their spans join `spans`.
        """
        total = float(self.said_likeness[i, j])
        if total <= 0:
            return []
        contributions = self.clauses[i] * self.said[j]
        read = self.pasted[i]
        found: list[str] = []
        for term in sorted(read.where, key=lambda t: -contributions[self.space.columns.get(t, 0)]):
            column = self.space.columns.get(term)
            if column is None or contributions[column] < 0.1 * total:
                continue
            run = read.where[term]
            last = run[0]
            while last + 1 in run:
                last += 1
            start, end = read.words[run[0]].start, read.words[last].end
            spans.add((start, end))
            word = self.texts[i][start:end]
            if word not in found and word not in shown:
                found.append(word)
        return found


def _said(texts: Sequence[str], aliases: _Aliases, names: float) -> Counter:
    """
    What was said of a point (one text per stance) as terms: its names, numbers, aliases and
    initials that `_SAID_BY` stances or more use. A stance's other words are its reporter's
    ("said", "told", "out") and would tie a clause to whichever point was talked about most.
    """
    terms: Counter = Counter()
    stances: Counter = Counter()
    for text in dict.fromkeys(texts):
        read = _point_text(text, aliases, names)
        named = {t: w for t, w in read.terms.items() if t[0] == "=" or any(read.words[n].name for n in read.where[t])}
        terms.update(named)
        stances.update(named.keys())
    return Counter({term: weight for term, weight in terms.items() if stances[term] >= _SAID_BY})


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
            score = min(1.0, float(matrix[i, near]))
            taken = clauses[keeper[near]][0] if near in keeper and keeper[near] != i else ""
            splits = bool(taken) and (near == j or score >= weights.split)  # else a pointer to who has it
            if taken:
                why = (
                    f"split from {candidates[near].key}, which clause {taken} keeps"
                    if splits
                    else f"clause {taken} has it"
                )
                reason = f"{why}; {reason}"
            choices.append(Choice(candidates[near].key, score, reason, spans, split=splits, taken=taken))
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
