"""
The words of the public texts (`peaceplans_search_word`, migration 0017) and "Did you mean".

The table lists each word that a visible object's searchable text holds (lower case, as
written, 3 to 40 characters, not only digits), on both databases: on SQLite as `of` reads them
(letters and digits), on PostgreSQL as its parser does (which keeps "example.org" whole), since
PostgreSQL's search also expands prefixes into them. It grows in step with the
index: every refresh of visible objects adds their words, inside the writing transaction; a
full reindex (`rebuild_search_index`, `migrate`, `flush`) writes it afresh. It may hold a word
no public text holds any more (a text since unpublished or edited): such a word is never
offered, because every suggestion is checked against the search itself before it is shown. So
only public words can come out of it, and drafts never go in.

When a search finds nothing, each of its words that finds nothing on its own (stems and
aliases included) is compared with the closest words of the table (trigrams: an FTS5 trigram
index on SQLite, pg_trgm's GiST index on PostgreSQL) and with the aliases' spellings; the
nearest by edit distance (transpositions count one) that make the whole search find something
in the same scope are offered. Two queries, whatever the size of the archive: the look-up,
and the check of at most MAX_TRIES corrected searches.
"""

# ruff: noqa: S608 -- the SQL below is assembled from this module's constants only; every
# value (the words, ids) travels as a parameter.

import itertools
import re
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from peaceplans.search.query import Term

TABLE = "peaceplans_search_word"
TRIGRAMS = "peaceplans_search_word_trigrams"  # SQLite: FTS5 trigram index of TABLE
MIN_CHARS, MAX_CHARS = 3, 40
PG_WORDS = "peaceplans_search"  # PostgreSQL: the words as the unstemmed configuration reads them
TOKEN = re.compile(r"[^\W_]+")
MAX_WORDS = 4  # words of one search that may be corrected
CANDIDATES = 20  # closest words read per word
PER_WORD = 3  # kept per word after the edit distance
MAX_TRIES = 6  # corrected searches checked


def of(texts) -> set[str]:
    """The words of some texts as the table keeps them."""
    found = set()
    for text in texts:
        for token in TOKEN.findall((text or "").lower()):
            if MIN_CHARS <= len(token) <= MAX_CHARS and not token.isdigit():
                found.add(token)
    return found


def add(backend, select: str, params: list) -> None:
    """
    Add the words of the texts that `select` returns (one column, `text`). PostgreSQL takes
    them as its own parser reads them (the `simple` configuration the exact search uses), so
    that the prefixes it expands into these words name exactly the index's words.
    """
    with backend.conn.cursor() as cursor:
        if backend.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {TABLE} (word) SELECT DISTINCT w FROM (SELECT unnest(tsvector_to_array("
                f"to_tsvector('{PG_WORDS}', t.text))) AS w FROM ({select}) AS t) AS found "
                f"WHERE length(w) BETWEEN {MIN_CHARS} AND {MAX_CHARS} AND w !~ '^[-0-9.,]+$' "
                "ORDER BY w ON CONFLICT DO NOTHING",  # in order: two writers adding the same words cannot deadlock
                params,
            )
            return
        cursor.execute(select, params)
        found = sorted(of(row[0] for row in cursor.fetchall()))
        cursor.executemany(f"INSERT OR IGNORE INTO {TABLE} (word) VALUES (%s)", [[word] for word in found])


def clear(backend) -> None:
    with backend.conn.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")


def _closest_sql(backend, word: str) -> tuple[str, list]:
    """The CANDIDATES words of the table closest to `word` by trigrams."""
    if backend.vendor == "postgresql":  # KNN on the GiST index: reads about CANDIDATES entries
        return (
            f'SELECT word COLLATE "default" AS word FROM (SELECT word FROM {TABLE} ORDER BY word <-> %s '
            f"LIMIT {CANDIDATES}) AS k",
            [word],
        )
    # Every trigram of the word double-quoted (the word holds letters and digits only): any of them.
    trigrams = " OR ".join(dict.fromkeys(f'"{word[i : i + 3]}"' for i in range(len(word) - 2)))
    return (
        f"SELECT word FROM {TABLE} WHERE id IN (SELECT rowid FROM {TRIGRAMS} WHERE {TRIGRAMS} MATCH %s "
        f"ORDER BY rank LIMIT {CANDIDATES})",
        [trigrams],
    )


@dataclass
class Suggestion:
    """A search to offer instead: its text, and which typed words it changes into which."""

    text: str
    changes: list[tuple[str, str]]


def _allowed(word: str) -> int:
    """The largest edit distance still taken for a misspelling of `word`."""
    return 1 if len(word) <= 4 else 2 if len(word) <= 8 else 3


def _cased(typed: str, word: str) -> str:
    """`word` written as `typed` was: ZELENKSYY -> ZELENSKYY, Zelenksyy -> Zelenskyy."""
    if len(typed) > 1 and typed.isupper():
        return word.upper()
    return word[:1].upper() + word[1:] if typed[:1].isupper() else word


def suggest(backend, asked: list[Term], terms: list[Term], text: str, *, plan_id, aliases, widen) -> Suggestion | None:
    """
    For a search that found nothing: the closest search that finds something, or None. `asked`
    are its terms as typed (aliases added), `terms` the same as searched (prefixes expanded), `text`
    the cleaned text typed; `aliases` the table of search.aliases, and `widen(word)` the term a
    corrected word is searched as (its aliases included).
    """
    words = {i: t[0].words[0] for i, t in enumerate(asked) if len(t[0].words) == 1 and len(t[0].words[0]) >= MIN_CHARS}
    words = {i: w for i, w in list(words.items())[:MAX_WORDS] if not w.isdigit()}
    if not words:
        return None
    parts, params = [], []
    for i in words:  # whether each finds anything on its own (stems and aliases included), and its closest words
        expression, values = backend.any_sql([terms[i]], plan_id)
        parts.append(f"SELECT 'term' AS tag, {i} AS i, {expression} AS found, '' AS word")
        params += values
    for i, word in words.items():
        sql, values = _closest_sql(backend, word)
        parts.append(f"SELECT 'word' AS tag, {i} AS i, 0 AS found, c.word FROM ({sql}) AS c")
        params += values
    failing: set[int] = set()
    closest: dict[int, list[str]] = {i: [] for i in words}
    with backend.conn.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for tag, i, found, word in cursor.fetchall():
            if tag == "term" and not found:
                failing.add(i)
            elif tag == "word":
                closest[i].append(word)
    failing &= set(words)
    if not failing:
        return None
    spellings = {w[0] for w in aliases if len(w) == 1}
    options = {}
    for i in sorted(failing):
        word = words[i]
        scored = sorted((OSA.distance(word, c), c) for c in {*closest[i], *spellings} if c != word)
        options[i] = [(d, c) for d, c in scored if d <= _allowed(word)][:PER_WORD]
        if not options[i]:
            return None
    tries = sorted(itertools.product(*options.values()), key=lambda combo: (sum(d for d, _ in combo), combo))
    tries = tries[:MAX_TRIES]
    checks, params = [], []
    for combo in tries:
        corrected = list(terms)
        for i, (_, word) in zip(options, combo, strict=True):
            corrected[i] = widen(word)
        expression, values = backend.any_sql(corrected, plan_id)
        checks.append(expression)
        params += values
    with backend.conn.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(checks), params)
        flags = cursor.fetchone()
    combo = next((combo for combo, found in zip(tries, flags, strict=True) if found), None)
    if combo is None:
        return None
    replace = {words[i]: word for i, (_, word) in zip(options, combo, strict=True)}
    changes: list[tuple[str, str]] = []

    def swap(match: re.Match) -> str:
        typed = match.group()
        word = replace.get(typed.lower())
        if word is None:
            return typed
        changes.append((typed, _cased(typed, word)))
        return changes[-1][1]

    return Suggestion(text=TOKEN.sub(swap, text), changes=changes)
