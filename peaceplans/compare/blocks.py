"""
Aligning two token lists for diff.py: pure standard library, like diff.py itself.

Two token lists whose lengths multiply to at most _EXACT_PAIRS are aligned by difflib as
they are: for clause-sized texts the alignment, and the ratio, are difflib's own. Longer
ones are aligned as in patience diff: common prefix and suffix, then tokens occurring
once on each side as anchors, then the same again between anchors, difflib finishing
ranges of at most _SMALL pairs. Texts of over CHUNK_CHARS characters each are first
aligned by chunks (the text up to a stop, comma or newline), so unchanged chunks cost
almost nothing. difflib alone takes about 0.7 s on two 5,000-word texts; this, a few ms.
"""

import difflib
import re
from bisect import bisect_left
from collections import Counter

_EXACT_PAIRS = 20_000
_SMALL = 2_000
CHUNK_CHARS = 2_000
# Text up to the next stop, comma, colon, semicolon, ! or ? or newline (with the
# whitespace after it); a chunk ends where such a piece ends with whitespace, so it also
# ends a token ("2.5" does not end one).
_CHUNK_PIECE = re.compile(r"[^.,;:!?\n]*(?:[.,;:!?\n]\s*)?")


def matching_blocks(a: list, b: list, *, exact: bool = True) -> list[tuple[int, int, int]]:
    """Blocks (i, j, n) with a[i:i + n] == b[j:j + n], increasing, adjacent ones merged.

    `exact`: lists short enough go to difflib untouched, so the blocks are difflib's own
    (else common ends are matched first, which is cheaper).
    """
    if exact and len(a) * len(b) <= _EXACT_PAIRS:
        return _difflib_blocks(a, b, autojunk=False)
    found: list[tuple[int, int, int]] = []
    todo = [(0, len(a), 0, len(b))]
    while todo:
        alo, ahi, blo, bhi = todo.pop()
        if a[alo:ahi] == b[blo:bhi]:
            found.append((alo, blo, ahi - alo))
            continue
        head = 0
        while alo + head < ahi and blo + head < bhi and a[alo + head] == b[blo + head]:
            head += 1
        if head:
            found.append((alo, blo, head))
            alo, blo = alo + head, blo + head
        tail = 0
        while alo < ahi - tail and blo < bhi - tail and a[ahi - tail - 1] == b[bhi - tail - 1]:
            tail += 1
        if tail:
            found.append((ahi - tail, bhi - tail, tail))
            ahi, bhi = ahi - tail, bhi - tail
        sa, sb = a[alo:ahi], b[blo:bhi]
        if not sa or not sb or set(sa).isdisjoint(sb):
            continue
        anchors = _unique_anchors(sa, sb) if len(sa) * len(sb) > _SMALL else []
        if anchors:
            start_a, start_b = alo, blo
            for i, j in anchors:
                if alo + i > start_a or blo + j > start_b:
                    todo.append((start_a, alo + i, start_b, blo + j))
                found.append((alo + i, blo + j, 1))
                start_a, start_b = alo + i + 1, blo + j + 1
            todo.append((start_a, ahi, start_b, bhi))
        elif len(sa) * len(sb) <= _EXACT_PAIRS:
            found.extend((alo + i, blo + j, n) for i, j, n in _difflib_blocks(sa, sb, autojunk=False))
        # Long, and no token occurs once on each side: repetitive or hostile text. difflib
        # with autojunk drops the frequent tokens of its second sequence and stays fast.
        elif len(sa) <= len(sb):
            found.extend((alo + i, blo + j, n) for i, j, n in _difflib_blocks(sa, sb, autojunk=True))
        else:
            found.extend((alo + i, blo + j, n) for j, i, n in _difflib_blocks(sb, sa, autojunk=True))
    found.sort()
    merged: list[tuple[int, int, int]] = []
    for i, j, n in found:
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
            pi, pj, pn = merged[-1]
            merged[-1] = (pi, pj, pn + n)
        elif n:
            merged.append((i, j, n))
    return merged


def _difflib_blocks(sa: list, sb: list, *, autojunk: bool) -> list[tuple[int, int, int]]:
    blocks = difflib.SequenceMatcher(None, sa, sb, autojunk=autojunk).get_matching_blocks()
    return [(i, j, n) for i, j, n in blocks if n]


def _unique_anchors(sa: list, sb: list) -> list[tuple[int, int]]:
    """Pairs (i, j) where an item occurring once in each of sa and sb sits, the longest
    chain of them in order on both sides. Failing any, the same with runs of three items
    (i and j then mark where a run starts): a text with a small vocabulary still has those."""
    keys_a, keys_b = sa, sb
    for size in (1, 3):
        if size == 3:
            keys_a, keys_b = _runs_of_three(sa), _runs_of_three(sb)
        ca, cb = Counter(keys_a), Counter(keys_b)
        unique = {k for k, n in ca.items() if n == 1 and cb.get(k) == 1}
        if unique:
            where = {k: j for j, k in enumerate(keys_b) if k in unique}
            return _increasing([(i, where[k]) for i, k in enumerate(keys_a) if k in unique])
    return []


def _runs_of_three(seq: list) -> list[tuple]:
    return list(zip(seq, seq[1:], seq[2:], strict=False))


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of `pairs` (sorted by i) whose j also increases."""
    tails: list[int] = []  # tails[k]: the smallest last j of an increasing run of length k + 1
    tail_at: list[int] = []
    before = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k:
            before[n] = tail_at[k - 1]
        if k == len(tails):
            tails.append(j)
            tail_at.append(n)
        else:
            tails[k] = j
            tail_at[k] = n
    out = []
    n = tail_at[-1]
    while n >= 0:
        out.append(pairs[n])
        n = before[n]
    out.reverse()
    return out


def chunks(text: str) -> list[str]:
    chunks, pending = [], ""
    for piece in _CHUNK_PIECE.findall(text):
        if piece[-1:].isspace():
            chunks.append(pending + piece)
            pending = ""
        else:
            pending += piece
    return [*chunks, pending] if pending else chunks
