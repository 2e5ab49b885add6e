"""
Aliases as search and the paste page's alignment use them: each editor's equivalence line
(models.Alias, "Zelenskyy, Zelensky, Zelenskiy, Зеленський") reduced to the words the index
sees, so that any spelling can stand for every other.

`table()` reads the aliases afresh (one small query): an alias saved in the admin counts from
the next search, with no index to rebuild, and cached pages follow because the save advances
the data version (peaceplans/signals.py).
"""

from django.db import DEFAULT_DB_ALIAS

from peaceplans.models import Alias
from peaceplans.search.query import TOKEN, Phrase, Term, clean

Words = tuple[str, ...]
Table = dict[Words, tuple[Words, ...]]


def words_of(spelling: str) -> Words:
    """A spelling as the index's words: NFKC, lower case, letters and digits ("ZNPP" -> ("znpp",))."""
    return tuple(TOKEN.findall(clean(spelling).lower()))


def build(equivalences: list[tuple[str, ...]]) -> Table:
    """
    {a spelling's words: every spelling's words that it stands for, itself first}. A spelling in
    two lines stands for the spellings of both (the lines are not merged transitively beyond that).
    """
    table: dict[Words, list[Words]] = {}
    for line in equivalences:
        group = [w for w in dict.fromkeys(words_of(s) for s in line) if w]
        for words in group:
            known = table.setdefault(words, [words])
            known.extend(other for other in group if other not in known)
    return {words: tuple(others) for words, others in table.items()}


def table(using: str = DEFAULT_DB_ALIAS) -> Table:
    """The aliases in force now."""
    return build(Alias.objects.using(using).equivalences())


def alternatives(words: Words, aliases: Table) -> tuple[Words, ...]:
    """The spellings `words` stands for in `aliases` (from `table()`), itself first; `(words,)` when it is none."""
    return aliases.get(words, (words,))


def names(equivalences: list[tuple[str, ...]]) -> dict[Words, str]:
    """{a spelling's words: the spelling as the editors wrote it}, for saying what a search also looked for."""
    written: dict[Words, str] = {}
    for line in equivalences:
        for spelling in line:
            written.setdefault(words_of(spelling), spelling)
    return written


def widen(terms: list[Term], aliases: Table) -> tuple[list[Term], list[tuple[Words, tuple[Words, ...]]]]:
    """
    The terms of a search with every spelling of an alias standing for all of its line's, and
    which ones were widened ((the words typed, the other spellings), in order). A quoted phrase
    or a word is looked up as it is; consecutive words that together spell an alias ("Zaporizhzhia
    nuclear plant", "Article 5") are read as that name, a phrase, so the longest spelling wins.
    The typed form keeps its place (and its prefix, while typing); the others are whole words.
    """
    longest = max((len(words) for words in aliases), default=0)
    widened: list[Term] = []
    notes: list[tuple[Words, tuple[Words, ...]]] = []
    i = 0
    while i < len(terms):
        for n in range(min(longest, len(terms) - i), 0, -1):
            group = terms[i : i + n]
            if n > 1 and any(len(term[0].words) != 1 for term in group):
                continue
            words = tuple(w for term in group for w in term[0].words)
            others = alternatives(words, aliases)[1:]
            if others:
                typed = group[0] if n == 1 else (Phrase(words, prefix=group[-1][0].prefix),)
                extra = tuple(Phrase(o) for o in others if Phrase(o) not in typed)
                widened.append((*typed, *extra))
                notes.append((words, others))
                i += n
                break
        else:
            widened.append(terms[i])
            i += 1
    return widened, notes
