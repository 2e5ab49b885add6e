"""
Benchmark for peaceplans.compare.diff.compare on two long texts; a script, not a test.

    .venv/bin/python tests/bench/bench_diff.py [--words 5000] [--runs 60] [--json PATH]

Builds two texts of --words words from a fixed seed, plan-like prose (Zipf-weighted
vocabulary of about 260 words and names, figures such as 600,000 or $100bn, commas,
sentences, paragraphs), the second with about 5% of the words replaced, deleted or
followed by an inserted word, spread evenly (the hard case: few sentences come through
untouched). Times `compare` with time.perf_counter and prints the median and 95th
percentile against the 20 ms budget. A second pair, from a vocabulary of about 90 words,
is timed for information. Always exits 0: the figures are for people to read.
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from peaceplans.compare.diff import compare  # noqa: E402

BUDGET_MS = 20.0
SEED = 20251120
CHANGE_RATE = 0.05

_FUNCTION_WORDS = """the of and to in a that is for on by with as be will are at from this its or it not
which an all any their shall under such other these into each both within after before than
those no only also would may must can"""
_CONTENT_WORDS = """Ukraine Russia Europe NATO United States Kyiv Moscow Washington Donetsk Luhansk
Zaporizhzhia Kherson Crimea Dnipro Black Sea Azov Zelenskyy Putin Trump Witkoff Dmitriev Kushner
Rubio Driscoll Umerov Yermak Geneva Berlin Miami Abu Dhabi peace plan agreement framework
ceasefire armistice sovereignty security guarantee guarantees armed forces army personnel troops
peacetime cap limit sanctions relief reconstruction fund frozen assets investment elections
amnesty referendum territory territories line contact withdrawal demilitarised buffer zone
monitoring verification mechanism council chaired board parties sides commitment recognition
de facto de jure nuclear power plant grain corridor prisoners exchange civilians children families
humanitarian non-aggression long-term legally binding constitution membership enlargement invade
neighbours ambiguities settled comprehensive full lasting permanent basis recurring arrangements
implementation dialogue negotiations delegation draft revision counter-proposal text clause point
European-led multinational coalition willing deployment airspace navigation shipping ports energy
infrastructure compensation tribunal accountability crimes language church religious minorities
education media tolerance dialogue trade cooperation economy growth markets G8 summit
Ukraine's Russia's Europe's NATO's Kyiv's Moscow's"""
FUNCTION_WORDS, CONTENT_WORDS = _FUNCTION_WORDS.split(), _CONTENT_WORDS.split()
PUNCT_AFTER = [",", ",", ";", ":"]


def figure(rng: random.Random) -> str:
    """A figure as plan texts write them."""
    kind = rng.randrange(7)
    if kind == 0:
        return f"{rng.randrange(100, 1000) * 1000:,}"  # 600,000
    if kind == 1:
        return f"{rng.randrange(1, 100)}%"
    if kind == 2:
        return f"${rng.randrange(10, 400)}bn"
    if kind == 3:
        return f"€{rng.randrange(10, 400)}bn"
    if kind == 4:
        return f"{rng.randrange(1, 400) / 10:.1f}"
    if kind == 5:
        return str(rng.randrange(2025, 2036))
    return str(rng.randrange(1, 366))


def word(rng: random.Random, vocabulary: list[str], weights: list[float]) -> str:
    """One word: a figure now and then, else a Zipf-weighted word of the vocabulary."""
    return figure(rng) if rng.random() < 0.04 else rng.choices(vocabulary, weights)[0]


def words(rng: random.Random, n: int, *, small: bool) -> list[str]:
    """`n` words; `small` draws them from a fifth of the vocabulary."""
    vocabulary = FUNCTION_WORDS + (CONTENT_WORDS[:40] if small else CONTENT_WORDS)
    weights = [1 / (rank + 2) for rank in range(len(vocabulary))]
    return [word(rng, vocabulary, weights) for _ in range(n)]


def prose(rng: random.Random, ws: list[str]) -> list[str]:
    """The words with what follows each: sentences of 12 to 30 words, some commas,
    paragraphs of three to six sentences."""
    units, left, sentences = [], 0, 0
    for n, w in enumerate(ws):
        if left == 0:
            left = rng.randrange(12, 31)
            w = w[:1].upper() + w[1:]
        left -= 1
        if n == len(ws) - 1 or left == 0:
            sentences += 1
            left = 0
            units.append(w + (".\n\n" if sentences % rng.randrange(3, 7) == 0 else ". "))
        elif rng.random() < 0.07:
            units.append(w + rng.choice(PUNCT_AFTER) + " ")
        else:
            units.append(w + " ")
    return units


def edit(rng: random.Random, units: list[str], *, small: bool) -> list[str]:
    """About CHANGE_RATE of the words replaced, deleted, or followed by an inserted word;
    punctuation and layout stay where they were, as an editor's revision keeps them."""
    fresh = words(rng, len(units), small=small)
    out = []
    for n, unit in enumerate(units):
        w = unit.rstrip(",;:.\n ")
        roll = rng.random()
        if roll < CHANGE_RATE * 0.6:
            out.append(fresh[n] + unit[len(w) :])
        elif roll < CHANGE_RATE * 0.8:
            continue
        elif roll < CHANGE_RATE:
            out.extend([unit, fresh[n] + " "])
        else:
            out.append(unit)
    return out


def pair(n_words: int, *, small: bool = False) -> tuple[str, str]:
    """Two versions of a text of `n_words` words, the same for every run."""
    rng = random.Random(SEED)
    units = prose(rng, words(rng, n_words, small=small))
    return "".join(units).rstrip(), "".join(edit(rng, units, small=small)).rstrip()


def timings(a: str, b: str, runs: int) -> list[float]:
    """Milliseconds per `compare(a, b)`, `runs` times."""
    compare(a, b)  # warm caches, as a running server would have
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        compare(a, b)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(name: str, a: str, b: str, runs: int) -> dict:
    """The figures for one pair of texts."""
    times = timings(a, b, runs)
    result = compare(a, b)
    return {
        "case": name,
        "words": [len(a.split()), len(b.split())],
        "changed_ops": sum(op.kind != "equal" for op in result.ops),
        "similarity": round(result.similarity, 4),
        "runs": runs,
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(statistics.quantiles(times, n=20)[-1], 2),
        "min_ms": round(min(times), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--words", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--json", type=Path, help="also write the figures to this file as JSON")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load:.2f}")
    main_case = summary("plan-like prose", *pair(args.words), args.runs)
    hard_case = summary("small vocabulary", *pair(args.words, small=True), args.runs)
    meets = main_case["median_ms"] < BUDGET_MS
    for case in (main_case, hard_case):
        print(
            f"{case['case']:>16}: {case['words'][0]:,} vs {case['words'][1]:,} words, "
            f"{case['changed_ops']} changes, similarity {case['similarity']:.3f}; "
            f"median {case['median_ms']:.2f} ms, p95 {case['p95_ms']:.2f} ms, min {case['min_ms']:.2f} ms"
        )
    verdict = "MEETS" if meets else "MISSES"
    print(f"{verdict} the {BUDGET_MS:.0f} ms budget (median of plan-like prose, {args.runs} runs)")
    if args.json:
        figures = {
            "budget_ms": BUDGET_MS,
            "meets_budget": meets,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": round(load, 2),
            "cases": [main_case, hard_case],
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
