"""
The word diff of a pair of clause texts, as pages read it: computed once, when a text is saved,
stored in the database, and remembered per process. No page request diffs.

Three levels, cheapest first:
1. Memory: an LRU of MAX_PAIRS diffs per worker, keyed on the two texts themselves: a row read
   once is not decoded again, and a true miss (3) is computed once.
2. The database: a StoredDiff row (models/diffs.py) per pair of different texts of a point,
   written in the same transaction as the texts by editing/diffs.py (every save of a clause, every
   import, restore, revert, load_demo, generate_synthetic) and by migration 0014 for the texts
   already there. A page names every pair it will show to `preload()` first: one query, whatever
   the number of rows (and whatever this worker remembers, so that a page's query count is fixed).
3. A true miss (a row written before the backfill, a DIFF_VERSION that changed since, a caller
   that did not preload) computes diff.compare in memory, correctly, and says so once in the log.
Pairs needing no alignment (a side missing, the same text twice) are answered by diff.trivial and
are neither stored nor remembered.

Keys. A text's hash is the first 128 bits of its SHA-256; a pair's key is the two hashes, smaller
first, and its row holds the diff in that direction. The other direction is the mirror image
(diff.compare guarantees it: the alignment always starts from the smaller text), so one row serves
both, and an edited text is a new key: nothing is ever invalidated.

Versions. DIFF_VERSION fingerprints the code a diff comes from (diff.py, blocks.py, the Python
version behind difflib, and FORMAT, the layout of `ops` below). A row computed by other code is
ignored, so a change to diff.py can never show a stale mark; `manage.py store_diffs` (or the next
`migrate`, which runs it when it finds such rows) computes them again.

Stored ops hold kinds and lengths, not text, "=12 ~5,7 +4 -3" (equal, replace, insert, delete):
the page already has both texts, and cuts the slices from them. Lengths that do not add up to the
texts, or an "equal" run that is not equal, mean a row that is not this pair's: it is ignored.
"""

import hashlib
import logging
import sys
import threading
from collections import OrderedDict, namedtuple
from collections.abc import Iterable
from pathlib import Path

from peaceplans.compare import blocks, diff
from peaceplans.models import StoredDiff
from peaceplans.models.diffs import STORED_CHANGES

logger = logging.getLogger("peaceplans.diffs")

# A full comparison of two 120-point texts is 120 pairs; a diff of two clause-sized texts is a
# few kilobytes, so this bounds the memory at a few megabytes per worker.
MAX_PAIRS = 4096
HASH_CHARS = 32  # hex digits of SHA-256 kept per text: 128 bits
FORMAT = 1  # of the stored ops; raise it when encode() changes


def _fingerprint() -> str:
    digest = hashlib.sha256(f"python {sys.version_info[0]}.{sys.version_info[1]}\0".encode())
    for module in (diff, blocks):
        digest.update(Path(str(module.__file__)).read_bytes())
    return f"{FORMAT}-{digest.hexdigest()[:16]}"


DIFF_VERSION = _fingerprint()


# ---- Keys and the stored form ----------------------------------------------------------------


def text_hash(text: str) -> str:
    """The hash a text is known by in pair keys."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]


def pair_key(a: str, b: str) -> tuple[str, bool]:
    """The key of the pair (a, b), and whether its row holds the diff from b to a (then it is mirrored)."""
    ha, hb = text_hash(a), text_hash(b)
    return (ha + hb, False) if ha <= hb else (hb + ha, True)


_CODES = {"equal": "=", "replace": "~", "insert": "+", "delete": "-"}


def encode(result: diff.ClauseDiff) -> dict:
    """A diff of two different texts as StoredDiff's fields."""
    ops = []
    for op in result.ops:
        code = _CODES[op.kind]
        if code in "=-":
            ops.append(f"{code}{len(op.a)}")
        elif code == "+":
            ops.append(f"+{len(op.b)}")
        else:
            ops.append(f"~{len(op.a)},{len(op.b)}")
    return {
        "version": DIFF_VERSION,
        "change": str(result.change),
        "similarity": result.similarity,
        "cosmetic": ",".join(result.cosmetic),
        "ops": " ".join(ops),
    }


def decode(
    change: str, similarity: float, cosmetic: str, ops: str, a: str, b: str, flipped: bool
) -> diff.ClauseDiff | None:
    """The diff of a to b from a stored row (the row holds b to a when `flipped`); None if it does not fit them."""
    x, y = (b, a) if flipped else (a, b)  # the row's direction
    op, i, j = diff.Op, 0, 0
    insert, delete = ("delete", "insert") if flipped else ("insert", "delete")
    built = []
    try:
        for token in ops.split():
            code = token[0]
            if code == "=":
                n = int(token[1:])
                sx = x[i : i + n]
                if n <= 0 or sx != y[j : j + n]:
                    return None
                built.append(op("equal", sx, sx))
                i, j = i + n, j + n
                continue
            if code == "~":
                da, db = map(int, token[1:].split(","))
                kind = "replace"
            elif code == "+":
                kind, da, db = insert, 0, int(token[1:])
            elif code == "-":
                kind, da, db = delete, int(token[1:]), 0
            else:
                return None
            sx, sy = x[i : i + da], y[j : j + db]
            built.append(op(kind, sy, sx) if flipped else op(kind, sx, sy))
            i, j = i + da, j + db
    except ValueError:
        return None
    if i != len(x) or j != len(y) or change not in STORED_CHANGES:
        return None
    kinds = tuple(cosmetic.split(",")) if cosmetic else ()
    return diff.ClauseDiff(diff.Change(change), tuple(built), similarity, kinds)


def stored_form(a: str, b: str) -> tuple[str, dict]:
    """What to store for two different texts: the pair's key and the row's fields, in the row's direction."""
    key, flipped = pair_key(a, b)
    return key, encode(diff.compare(b, a) if flipped else diff.compare(a, b))


# ---- Memory ------------------------------------------------------------------------------------

CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])


class _Memory:
    """
    The diffs this process holds, least recently used dropped first. It answers cache_info() and
    cache_clear() as functools' lru_cache does, so the benchmarks empty it as they empty those
    (tests/bench/bench_pages.py, clear_caches: set on the instance, which is what it finds).
    """

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self.items: OrderedDict[tuple[str, str], diff.ClauseDiff] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0
        self.cache_info, self.cache_clear = self.info, self.clear

    def __contains__(self, pair: tuple[str, str]) -> bool:
        return pair in self.items

    def get(self, pair: tuple[str, str]) -> diff.ClauseDiff | None:
        with self.lock:
            result = self.items.get(pair)
            if result is None:
                self.misses += 1
            else:
                self.hits += 1
                self.items.move_to_end(pair)
            return result

    def put(self, pair: tuple[str, str], result: diff.ClauseDiff) -> None:
        with self.lock:
            self.items[pair] = result
            self.items.move_to_end(pair)
            while len(self.items) > self.maxsize:
                self.items.popitem(last=False)

    def info(self) -> CacheInfo:
        return CacheInfo(self.hits, self.misses, self.maxsize, len(self.items))

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.hits = self.misses = 0


_memory = _Memory(MAX_PAIRS)
_computed = 0  # true misses in this process (level 3)


# ---- Reading -----------------------------------------------------------------------------------


def preload(pairs: Iterable[tuple[str | None, str | None]]) -> None:
    """
    Bring the stored diffs of these (a, b) pairs into memory, so that compare() answers each without
    diffing: one query whenever one of them needs a diff. A page calls it once with every pair it shows.
    The query reads every pair's row, even those memory holds (it decodes only the others): a page's
    query count must not depend on what this worker happens to remember.
    """
    wanted: dict[str, list[tuple[str, str, bool]]] = {}
    for a, b in pairs:
        if a is None or b is None or a == b:
            continue
        key, flipped = pair_key(a, b)
        wanted.setdefault(key, [])
        if (a, b) not in _memory:
            wanted[key].append((a, b, flipped))
    if not wanted:
        return
    rows = StoredDiff.objects.for_keys(list(wanted), DIFF_VERSION)
    for key, change, similarity, cosmetic, ops in rows.values_list("key", "change", "similarity", "cosmetic", "ops"):
        for a, b, flipped in wanted[key]:
            result = decode(change, similarity, cosmetic, ops, a, b, flipped)
            if result is not None:
                _memory.put((a, b), result)


def compare(a: str | None, b: str | None) -> diff.ClauseDiff:
    """
    diff.compare(a, b), from memory (filled by preload() from the stored diffs). Only a true miss
    computes it here, once per process until memory drops it. The result is immutable, so it is shared safely.
    """
    known = diff.trivial(a, b)
    if known is not None:
        return known
    assert a is not None and b is not None  # diff.trivial answers whenever a side is missing
    result = _memory.get((a, b))
    if result is None:
        result = diff.compare(a, b)
        _memory.put((a, b), result)
        _missed()
    return result


def _missed() -> None:
    global _computed
    _computed += 1
    if _computed == 1:
        logger.info(
            "A page computed a word diff that was not stored (stored before migration 0014, or by other "
            "diff code than DIFF_VERSION %s): `manage.py store_diffs` stores every missing one.",
            DIFF_VERSION,
        )


def clear() -> None:
    """Forget every remembered diff (benchmarks use it to measure cold pages); stored ones stay."""
    _memory.cache_clear()


def stats() -> CacheInfo:
    """Hits, misses and size of the memory, as functools reports an lru_cache's."""
    return _memory.cache_info()


def computed() -> int:
    """How many diffs this process computed because they were not stored (true misses)."""
    return _computed
