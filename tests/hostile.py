"""
The hostile-input corpus kept in tests/data/hostile/ (see its README.md for sources and licences):

- blns.json: the Big List of Naughty Strings, as published (a JSON list of strings);
- owasp.json: XSS filter-evasion payloads in the style of OWASP's cheat sheet, written here;
- htmx.json: payloads that try to smuggle htmx attributes (hx-*, data-hx-*) into a page.

The last two are lists of {"id", "category", "payload"}. `payloads()` is everything, deduplicated
(first occurrence wins), as (id, category, payload) triples; BLNS strings get the id "blns-<line>".
"""

import json
import random
from functools import cache
from pathlib import Path
from typing import NamedTuple

DATA = Path(__file__).resolve().parent / "data" / "hostile"


class Payload(NamedTuple):
    id: str
    category: str
    text: str


@cache
def owasp() -> tuple[Payload, ...]:
    return tuple(Payload(p["id"], p["category"], p["payload"]) for p in json.loads((DATA / "owasp.json").read_text()))


@cache
def htmx() -> tuple[Payload, ...]:
    return tuple(Payload(p["id"], "htmx", p["payload"]) for p in json.loads((DATA / "htmx.json").read_text()))


@cache
def blns() -> tuple[Payload, ...]:
    """The Big List of Naughty Strings, deduplicated; the empty string is kept once."""
    seen, out = set(), []
    for n, text in enumerate(json.loads((DATA / "blns.json").read_text())):
        if text not in seen:
            seen.add(text)
            out.append(Payload(f"blns-{n}", "blns", text))
    return tuple(out)


@cache
def payloads() -> tuple[Payload, ...]:
    """Every string of the corpus once: the written payloads first, then BLNS strings not already among them."""
    seen, out = set(), []
    for p in (*owasp(), *htmx(), *blns()):
        if p.text not in seen:
            seen.add(p.text)
            out.append(p)
    return tuple(out)


def sample(n: int, *, seed: int = 7) -> tuple[Payload, ...]:
    """A deterministic sample of n payloads with at least one of every category (the browser run uses it)."""
    everything = payloads()
    by_category: dict[str, list[Payload]] = {}
    for p in everything:
        by_category.setdefault(p.category, []).append(p)
    chosen = [group[0] for group in by_category.values()]
    rest = [p for p in everything if p not in chosen]
    chosen += random.Random(seed).sample(rest, max(0, n - len(chosen)))
    return tuple(chosen)


def categories() -> set[str]:
    return {p.category for p in payloads()}
