"""
diff.compare, remembered per process: the diff of a pair of clause texts is worked out once
and reused by every page that shows it (the comparison, the point page against a revision,
their CSVs and embeds), until it falls out of the cache.

Keyed on the two texts themselves, so an edited clause is a new pair and can never get a stale
diff, and nothing needs invalidating. diff.py stays pure; this is the only state.
"""

from functools import lru_cache

from peaceplans.compare import diff

# A full comparison of two 120-point texts is 120 pairs; a diff of two clause-sized texts is a
# few kilobytes, so this bounds the cache at a few megabytes per worker.
MAX_PAIRS = 4096


@lru_cache(maxsize=MAX_PAIRS)
def compare(a: str | None, b: str | None) -> diff.ClauseDiff:
    """diff.compare(a, b), computed once per pair of texts. The result is immutable, so it is shared safely."""
    return diff.compare(a, b)


def clear() -> None:
    """Forget every remembered diff (benchmarks use it to measure cold pages)."""
    compare.cache_clear()


def stats():
    """Hits, misses and size, as functools reports them."""
    return compare.cache_info()
