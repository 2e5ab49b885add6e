"""
Long pages in parts (issue 18): the compare and party pages show ROWS_PER_PART rows, and the rest
load as the reader scrolls (htmx's `revealed` on a "Next rows" link), or through that same link,
a plain address, without JavaScript.

`?part=k` (params.part_param) on a whole page shows every row through part k, so that an anchor
to a row past the first part resolves without JavaScript; asked for by htmx, it is part k's rows
alone, ending with the link to part k + 1. Counts, the index and the exports are never paged.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import Http404

ROWS_PER_PART = 30


@dataclass(frozen=True)
class Paged:
    """
    One list of a page's rows in parts of `size`, the part asked for being `number`. A page with two
    lists (the comparison: the rows both texts speak to, then those B's text does not cover) numbers
    its parts on from one list to the next: the second list's `first` is the part after the first's `last`.
    """

    rows: Sequence[Any]
    number: int = 1
    first: int = 1  # the number of this list's first part
    size: int = ROWS_PER_PART

    @property
    def count(self) -> int:
        """How many parts the list has: none when it is empty."""
        return -(-len(self.rows) // self.size)

    @property
    def last(self) -> int:
        """The list's last part: an empty list still takes one (for its notice); a next list starts after it."""
        return self.first + max(self.count, 1) - 1

    def start(self, number: int) -> int:
        """Where part `number` starts in the list (0-based), clamped to it."""
        return min(max(number - self.first, 0) * self.size, len(self.rows))

    def through(self) -> Sequence[Any]:
        """Every row up to the end of the part asked for: what a whole page shows."""
        return self.rows[: self.start(self.number + 1)]

    def only(self) -> Sequence[Any]:
        """The rows of the part asked for alone: what htmx appends."""
        if not self.first <= self.number <= self.last:
            return self.rows[:0]
        return self.rows[self.start(self.number) : self.start(self.number + 1)]

    def next_rows(self, url: str, anchor: Callable[[Any], str]) -> "NextRows | None":
        """
        The link to the part after the one asked for, while this list has one. `url` is the page's
        address with its state and a query ("...?a=x&b=y&" or "...?"); `anchor(row)` names a row's
        element ("point-6"): the link's no-JS address lands on the part's first row.
        """
        after = max(self.number + 1, self.first)
        if after > self.last or not self.rows:
            return None
        start = self.start(after)
        address = f"{url}part={after}"
        stop = min(start + self.size, len(self.rows))
        return NextRows(after, start + 1, stop, len(self.rows), address, f"{address}#{anchor(self.rows[start])}")

    def anchors(self, url: str, anchor: Callable[[Any], str]) -> list[str]:
        """
        How the page links to each row (its index, its summary): "#point-6" for a row on the page,
        the address of the page through the row's part, with the anchor, for a row further on.
        """
        links = []
        for n, row in enumerate(self.rows):
            part = self.first + n // self.size
            links.append(f"#{anchor(row)}" if part <= self.number else f"{url}part={part}#{anchor(row)}")
        return links


@dataclass(frozen=True)
class NextRows:
    """The "Next rows (31–60 of 126)" link: the part it loads, that part's rows as 1-based positions, its addresses."""

    part: int
    start: int
    stop: int
    total: int
    get: str  # what htmx asks for: the part's rows alone
    href: str  # the no-JS link: the page through the part, at its first row

    @property
    def range(self) -> str:
        return f"{self.start}–{self.stop} of {self.total}"


def check_part(number: int, last: int) -> None:
    """404 for a part past the page's last (a whole number from 1 is all params.part_param lets through)."""
    if number > last:
        parts = "has one part" if last == 1 else f"has parts 1 to {last}"
        raise Http404(f"There is no part {number}: this page {parts}.")


def point_anchor(row) -> str:
    """A comparison row's element: "point-6"."""
    return f"point-{row.point.key}"


@dataclass(frozen=True)
class ComparisonParts:
    """
    The compare page's two lists in parts: the rows both texts speak to (parts 1 to n, the first
    part shown even when empty, for its notice), then the rows B's text does not cover, in a closed
    section of their own (the parts after). That section's rows load when it is opened.
    """

    covered: Paged
    uncovered: Paged
    url: str

    def page(self) -> dict:
        """A whole page's context: every row through the part asked for, the links to the next parts."""
        for row, anchor in zip(self.covered.rows, self.covered.anchors(self.url, point_anchor), strict=True):
            row.anchor = anchor
        return {
            "covered_rows": self.covered.through(),
            "covered_next": self.covered.next_rows(self.url, point_anchor),
            "uncovered_rows": self.uncovered.through(),
            "uncovered_next": self.uncovered.next_rows(self.url, point_anchor),
        }

    def part(self) -> dict:
        """What htmx appends: the part's rows and the link to the next part of the same list."""
        paged = self.covered if self.covered.number <= self.covered.last else self.uncovered
        # In a closed <details>, htmx's `revealed` would fire at once (a hidden element's box is
        # empty, which it reads as on screen): the section's links wait until it is opened and they show.
        trigger = "revealed, click" if paged is self.covered else "intersect once, click"
        return {"part_rows": paged.only(), "part_next": paged.next_rows(self.url, point_anchor), "trigger": trigger}


def compare_parts(comparison, number: int, url: str) -> ComparisonParts:
    """
    A comparison (compare.comparison.Comparison, or None when both sides are the same text) in
    parts, `number` the part asked for: a 404 past the last. `url` is the page's address with its
    whole state and a trailing "&", to which the links add the part.
    """
    covered = Paged(comparison.covered if comparison else [], number)
    uncovered = Paged(comparison.uncovered if comparison else [], number, first=covered.last + 1)
    check_part(number, uncovered.last if uncovered.rows else covered.last)
    return ComparisonParts(covered, uncovered, url)
