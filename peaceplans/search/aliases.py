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
from peaceplans.search.query import TOKEN, clean

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
