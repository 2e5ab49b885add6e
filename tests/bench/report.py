"""
`make bench`'s verdicts and table (run.py measures, this writes it up): issue 18's targets, each
decided by one figure, then the figures behind them, as Markdown.
"""

import statistics

from common import HTML_PAGES

# Issue 18's targets (and issue 21's Lighthouse score, issue 3's word diff).
STATIC_RATIO = 0.85  # warm page req/s ÷ static file req/s, at least
PAGE_MS = 10.0  # every public page, page cache off, median in process on the demo (comparisons: diff memo cold)
SCALE_RATIO = 1.5  # generated ÷ demo, page cache off, at most
DATASETTE_RATIO = 2.0  # overview page cache off ÷ Datasette's table page of the same rows, req/s, at least
EDIT_P99_RATIO = 2.0  # edit under load: p99 ÷ p99 of the same mix without edits, at most (and no error)
FIRST_LOAD_KB = 60.0  # HTML + CSS + JS + fonts, compressed, at most
FRAGMENT_KB = 15.0  # one HTMX fragment, compressed, at most
WORKER_RSS_MB = 100.0  # a gunicorn worker's peak RSS, at most
LIGHTHOUSE_PERFORMANCE = 95  # Lighthouse's Performance score, mobile, at least (issue 21, item 7)
KB = 1000  # bytes: the stricter reading of "KB"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def kb(n: int) -> str:
    return f"{n / KB:.1f} KB"


def page_cache_off_ms(demo: dict) -> list[tuple[str, float]]:
    """Each demo page's median with the page cache off; each comparison's with the diff memo cold too."""
    found = [(p["kind"], p["uncached_ms"]) for p in demo["pages"]]
    found += [(f"compare {c['a']} → {c['b']}", c.get("cold_uncached_ms", c["uncached_ms"])) for c in demo["compare"]]
    return found


def targets(figures: dict) -> list[dict]:
    """Each of issue 18's targets (and the older ones still held): the deciding figure, met or missed."""
    http, demo, gen = figures["http"], figures["pages"]["demo"], figures["pages"].get("generated")
    rows = []
    worst = min(http["pages"].items(), key=lambda item: item[1]["ratio"])
    ratio = worst[1]["ratio"]
    rows.append(
        {
            "figure": f"warm page ÷ static file measured just before it, req/s (lowest: {worst[0]})",
            "value": f"{ratio:.2f}×",
            "target": f"≥ {STATIC_RATIO}×",
            "met": ratio >= STATIC_RATIO,
        }
    )
    every = page_cache_off_ms(demo)
    kind, ms = max(every, key=lambda item: item[1])
    rows.append(
        {
            "figure": f"every public page, page cache off, median in process, demo; comparisons with the diff memo "
            f"cold (slowest of {len(every)}: {kind})",
            "value": f"{ms:.1f} ms",
            "target": f"≤ {PAGE_MS:.0f} ms",
            "met": ms <= PAGE_MS,
        }
    )
    if gen:
        kind, ratio = max(scale_ratios(demo, gen).items(), key=lambda item: item[1])
        rows.append(
            {
                "figure": f"generated ÷ demo, page cache off, median in process (highest: {kind})",
                "value": f"{ratio:.2f}×",
                "target": f"≤ {SCALE_RATIO}×",
                "met": ratio <= SCALE_RATIO,
            }
        )
    else:
        rows.append({"figure": "generated ÷ demo", "value": "not measured", "target": f"≤ {SCALE_RATIO}×", "met": None})
    ds = http["datasette"]
    rows.append(
        {
            "figure": f"overview, page cache off ÷ Datasette's table page of the same {ds['rows']} rows, req/s, "
            "side by side",
            "value": f"{ds['ratio_uncached']:.2f}×",
            "target": f"≥ {DATASETTE_RATIO:.0f}×",
            "met": ds["ratio_uncached"] >= DATASETTE_RATIO,
        }
    )
    edits = http["edits"]
    calm, busy = edits["without_edits"], edits["with_edits"]
    saved = busy["saves_ok"] == len(busy["saves"]) > 0
    rows.append(
        {
            "figure": f"edit under load: {edits['connections']} connections, {edits['seconds']} s, a save every "
            f"{edits['every_s']:g} s ({busy['saves_ok']} of {len(busy['saves'])} saved): errors; p99 ÷ p99 unedited",
            "value": f"{busy['failed']} errors; {busy['p99_ms']:.0f} ÷ {calm['p99_ms']:.0f} ms = {edits['p99_ratio']}×",
            "target": f"0; ≤ {EDIT_P99_RATIO:.0f}×",
            "met": saved and busy["failed"] == 0 and (edits["p99_ratio"] or 0) <= EDIT_P99_RATIO,
        }
    )
    loads = [("demo", k, v["total"]) for k, v in http["bytes"]["first_load"].items()]
    frags = [("demo", k, v["bytes"]) for k, v in http["bytes"]["fragments"].items()]
    if gen:
        loads += [("generated", k, v["total"]) for k, v in gen["bytes"]["first_load"].items()]
        frags += [("generated", k, v["bytes"]) for k, v in gen["bytes"]["fragments"].items()]
    dataset, kind, size = max(frags, key=lambda row: row[2])
    rows.append(
        {
            "figure": f"HTMX fragment gzipped (largest: {kind}, {dataset})",
            "value": kb(size),
            "target": f"≤ {FRAGMENT_KB:.0f} KB",
            "met": size <= FRAGMENT_KB * KB,
        }
    )
    dataset, kind, size = max(loads, key=lambda row: row[2])
    rows.append(
        {
            "figure": f"first load, HTML + CSS + JS + fonts, compressed (largest: {kind}, {dataset})",
            "value": kb(size),
            "target": f"≤ {FIRST_LOAD_KB:.0f} KB",
            "met": size <= FIRST_LOAD_KB * KB,
        }
    )
    peak = max(w["peak_rss_mb"] for w in http["workers"])
    rows.append(
        {
            "figure": f"gunicorn worker peak RSS (largest of {len(http['workers'])}, after the run and the edits)",
            "value": f"{peak:.0f} MB",
            "target": f"≤ {WORKER_RSS_MB:.0f} MB",
            "met": peak <= WORKER_RSS_MB,
        }
    )
    rows.append(lighthouse_row(http.get("lighthouse", {})))
    diff = figures["diff"]
    case = diff["cases"][0]
    rows.append(
        {
            "figure": f"word diff of two {case['words'][0]:,}-word texts, median (issue 3's budget)",
            "value": f"{case['median_ms']:.1f} ms",
            "target": f"≤ {diff['budget_ms']:.0f} ms",
            "met": diff["meets_budget"],
        }
    )
    return rows


def lighthouse_row(light: dict) -> dict:
    pages = light.get("pages", {})
    if not pages:
        return {
            "figure": f"Lighthouse Performance, mobile ({light.get('skipped', 'not run')})",
            "value": "not measured",
            "target": f"≥ {LIGHTHOUSE_PERFORMANCE}",
            "met": None,
        }
    kind, row = min(pages.items(), key=lambda item: item[1]["performance"])
    return {
        "figure": f"Lighthouse Performance, mobile, median of runs (lowest of {len(pages)} pages: {kind}; issue 21)",
        "value": str(row["performance"]),
        "target": f"≥ {LIGHTHOUSE_PERFORMANCE}",
        "met": row["performance"] >= LIGHTHOUSE_PERFORMANCE,
    }


def scale_ratios(demo: dict, gen: dict) -> dict:
    """Generated ÷ demo render time, page cache off, for each kind of page; comparisons by the median over pairs."""
    demo_ms = {p["kind"]: p["uncached_ms"] for p in demo["pages"]}
    gen_ms = {p["kind"]: p["uncached_ms"] for p in gen["pages"]}
    demo_ms["compare"] = statistics.median(c["uncached_ms"] for c in demo["compare"])
    gen_ms["compare"] = statistics.median(c["uncached_ms"] for c in gen["compare"])
    return {kind: round(gen_ms[kind] / demo_ms[kind], 2) for kind in demo_ms if kind in gen_ms}


def cache_note(row: dict) -> str:
    """Said only when a warm page was not served from the page cache."""
    return "" if row["page_cache"] == "hit" else f" (X-Page-Cache: {row['page_cache']})"


def table(figures: dict) -> str:
    m, http = figures["machine"], figures["http"]
    demo, gen = figures["pages"]["demo"], figures["pages"].get("generated")
    lines = [
        f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, load average "
        f"{m['load_average']} at the start; Python {m['python']}, Django {m['django']}, gunicorn {m['gunicorn']}, "
        f"Datasette {m['datasette']}, {http['wrk']}; commit {m['commit']}"
        f"{' (quick mode: figures not meaningful)' if figures['quick'] else ''}.",
        "",
        "| target | measured | target | |",
        "|---|---:|---:|---|",
    ]
    for row in figures["targets"]:
        state = "not measured" if row["met"] is None else verdict(row["met"])
        lines.append(f"| {row['figure']} | {row['value']} | {row['target']} | {state} |")
    lines += http_table(http)
    lines += edits_table(http["edits"])
    lines += pages_table(figures, demo, gen)
    lines += bytes_table(http, gen)
    lines += lighthouse_table(http.get("lighthouse", {}))
    workers = ", ".join(f"{w['peak_rss_mb']:.0f} MB (now {w['rss_mb']:.0f})" for w in http["workers"])
    lines += ["", f"**Memory**: gunicorn workers' peak RSS (VmHWM) after the HTTP run and the edits: {workers}."]
    return "\n".join(lines) + "\n"


def http_table(http: dict) -> list[str]:
    static = http["static"]
    lines = [
        "",
        f"**Over HTTP**: `gunicorn {http['command']}` (as `make run`), `{http['wrk']} --latency`, "
        f"Accept-Encoding: gzip, demo data. Before each page, {http['static_seconds']} s of the static file "
        f"`{static['path']}` (whitenoise): each ratio is to that neighbour, as the machine's load drifts "
        f"(static req/s over the run: median {static['rps']:.0f}, from {min(static['all']):.0f} to "
        f"{max(static['all']):.0f}). Datasette serves one table holding exactly the rows of the overview's "
        "first page (tests/bench/bench_datasette.py), with `datasette serve FILE` and its defaults; it is "
        "measured between our cached overview and our overview with the page cache off (a second gunicorn).",
        "",
        "| address | req/s | p50 ms | p99 ms | static just before | ÷ static | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for kind, row in http["pages"].items():
        lines.append(
            f"| {kind} warm `{row['path']}`{cache_note(row)} | {row['rps']:.0f} | {row['p50_ms']} | "
            f"{row['p99_ms']} | {row['static_rps']:.0f} | {row['ratio']:.2f} | "
            f"≥ {STATIC_RATIO}: {verdict(row['ratio'] >= STATIC_RATIO)} |"
        )
        if kind == "overview":
            ds = http["datasette"]
            off = ds["uncached_overview"]
            lines.append(
                f"| Datasette {ds['version']} table page `{ds['path']}` ({ds['rows']} rows, {ds['columns']} columns), "
                f"just after | {ds['rps']:.0f} | {ds['p50_ms']} | {ds['p99_ms']} | | | cached overview ÷ Datasette = "
                f"{ds['ratio_cached']:.1f} (not a target) |"
            )
            lines.append(
                f"| overview, page cache off (X-Page-Cache: {off['page_cache']}), just after Datasette | "
                f"{off['rps']:.0f} | {off['p50_ms']} | {off['p99_ms']} | | | ÷ Datasette = {ds['ratio_uncached']:.2f}, "
                f"≥ {DATASETTE_RATIO:.0f}: {verdict(ds['ratio_uncached'] >= DATASETTE_RATIO)} |"
            )
    cold = http["compare_cold"]
    lines.append(
        f"| comparison, page cache off (second gunicorn; diff memo warm): {cold['pairs']} ordered pairs in turn | "
        f"{cold['rps']:.0f} | {cold['p50_ms']} | {cold['p99_ms']} | {cold['static_rps']:.0f} | "
        f"{cold['ratio']:.2f} | |"
    )
    return lines


def edits_table(edits: dict) -> list[str]:
    calm, busy = edits["without_edits"], edits["with_edits"]
    took = [save["seconds"] for save in busy["saves"]]
    saves = (
        f"{len(took)} saves, {busy['saves_ok']} answered 302, median {statistics.median(took):.2f} s each"
        if took
        else "no save landed"
    )
    mix = ", ".join(target["kind"] for target in edits["mix"])
    lines = [
        "",
        f"**An edit under load** (tests/bench/bench_edits.py): {edits['how']} ({mix}). The editor signs in to "
        "the admin and posts a stance's change form back with a new speaker: each save gives the data a new "
        "version, so every cached page misses at once. Errors are non-2xx answers plus socket errors.",
        "",
        "| run | req/s | p50 ms | p99 ms | max ms | requests | errors | X-Page-Cache | editor |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, row, editor in (
        ("without edits", calm, ""),
        ("an editor's save every " + f"{edits['every_s']:g} s", busy, saves),
    ):
        cached = ", ".join(f"{state} {count}" for state, count in sorted(row["by_page_cache"].items()))
        lines.append(
            f"| {name} | {row['rps']:.0f} | {row['p50_ms']} | {row['p99_ms']} | {row['max_ms']} | {row['requests']} | "
            f"{row['failed']} | {cached} | {editor} |"
        )
    return lines


def pages_table(figures: dict, demo: dict, gen: dict | None) -> list[str]:
    size = demo["catalogue"]["size"]
    lines = [
        "",
        "**In process**, median ms (first: first render in a fresh process; cold: every cache emptied before "
        "each render; warm: as the next visitor gets it; uncached: the page cache off; cold, uncached: the "
        "page cache off and the diff memo emptied before each render). Each request goes to Django's WSGI "
        "handler as gunicorn hands it one, connecting to the database anew. Demo: "
        f"{size['points']} points, {size['clauses']} clauses, {size['stances']} stances.",
    ]
    if gen:
        gsize = gen["catalogue"]["size"]
        lines[-1] += (
            f" Generated (`generate_synthetic {figures['generator']['options']}`, built in "
            f"{figures['generator']['seconds']} s): {gsize['plans']} plans, {gsize['all_clauses']:,} clauses in all; "
            f"plan `{gen['catalogue']['plan']}` has {gsize['revisions']} texts, {gsize['points']} points, "
            f"{gsize['clauses']:,} clauses, {gsize['stances']:,} stances, {gsize['events']} events."
        )
    header = f"| page | demo first | cold | warm | uncached | queries | uncached ≤ {PAGE_MS:.0f} ms |"
    rule = "|---|---:|---:|---:|---:|---:|---|"
    if gen:
        header += f" generated first | cold | warm | uncached | queries | generated ÷ demo (uncached) ≤ {SCALE_RATIO} |"
        rule += "---:|---:|---:|---:|---:|---|"
    lines += ["", header, rule]
    gen_pages = {p["kind"]: p for p in gen["pages"]} if gen else {}
    ratios = scale_ratios(demo, gen) if gen else {}

    def cells(p):
        return f"{p['first_ms']} | {p['cold_ms']} | {p['warm_ms']} | {p['uncached_ms']} | {p['queries']}"

    for p in demo["pages"]:
        line = f"| {p['kind']} | {cells(p)} | {verdict(p['uncached_ms'] <= PAGE_MS)} |"
        if gen:
            r = ratios[p["kind"]]
            line += f" {cells(gen_pages[p['kind']])} | {r:.2f}: {verdict(r <= SCALE_RATIO)} |"
        lines.append(line)
    if gen:
        d = statistics.median(c["uncached_ms"] for c in demo["compare"])
        g = statistics.median(c["uncached_ms"] for c in gen["compare"])
        r = ratios["compare"]
        lines.append(
            f"| compare (median uncached over pairs: demo {len(demo['compare'])}, generated {len(gen['compare'])}) "
            f"| | | | {d:.2f} | | | | | | {g:.2f} | | {r:.2f}: {verdict(r <= SCALE_RATIO)} |"
        )
    lines += [
        "",
        f"| comparison | first | cold | warm | uncached | queries | cold, uncached | ≤ {PAGE_MS:.0f} ms (demo) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]

    def compare_line(c, prefix, judged):
        off = c.get("cold_uncached_ms", c["uncached_ms"])
        state = verdict(off <= PAGE_MS) if judged else ""
        return f"| {prefix}{c['a']} → {c['b']} | {cells(c)} | {off} | {state} |"

    lines += [compare_line(c, "", True) for c in demo["compare"]]
    if gen:
        lines += [compare_line(c, "generated: ", False) for c in gen["compare"]]
    return lines


def bytes_table(http: dict, gen: dict | None) -> list[str]:
    loads, frags = http["bytes"]["first_load"], http["bytes"]["fragments"]
    gen_loads = gen["bytes"]["first_load"] if gen else {}
    gen_frags = gen["bytes"]["fragments"] if gen else {}
    lines = [
        "",
        "**Bytes**, gzipped as served (KB = 1,000 bytes). Demo: over HTTP from gunicorn; generated: in process "
        "through the same middleware. First load: the HTML and every stylesheet, script and preloaded file it "
        "references, and the web fonts the stylesheets declare (woff2, compressed already).",
        "",
        f"| first load | HTML | CSS, JS, fonts | demo total | generated total | ≤ {FIRST_LOAD_KB:.0f} KB |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for kind in HTML_PAGES:
        row = loads[kind]
        worst = max(row["total"], gen_loads.get(kind, {}).get("total", 0))
        generated = kb(gen_loads[kind]["total"]) if kind in gen_loads else "—"
        lines.append(
            f"| {kind} | {kb(row['html'])} | {kb(sum(row['assets'].values()))} | {kb(row['total'])} | "
            f"{generated} | {verdict(worst <= FIRST_LOAD_KB * KB)} |"
        )
    lines += ["", f"| HTMX fragment | demo | generated | ≤ {FRAGMENT_KB:.0f} KB |", "|---|---:|---:|---|"]
    for name, row in frags.items():
        worst = max(row["bytes"], gen_frags.get(name, {}).get("bytes", 0))
        generated = kb(gen_frags[name]["bytes"]) if name in gen_frags else "—"
        lines.append(f"| {name} | {kb(row['bytes'])} | {generated} | {verdict(worst <= FRAGMENT_KB * KB)} |")
    return lines


def lighthouse_table(light: dict) -> list[str]:
    if not light.get("pages"):
        return []
    lines = [
        "",
        f"**Lighthouse** {light.get('version', '')}, Performance, mobile emulation (simulated slow 4G and "
        "CPU), Debian's Chromium, against the same gunicorn before wrk runs:",
        "",
        f"| page | address | Performance (median) | each run | ≥ {LIGHTHOUSE_PERFORMANCE} | audits losing points |",
        "|---|---|---:|---|---|---|",
    ]
    for kind, row in light["pages"].items():
        losing = ", ".join(f"{audit_id} {score:.2f}" for audit_id, _, score in row["losing"]) or "none"
        lines.append(
            f"| {kind} | `{row['path']}` | {row['performance']} | {', '.join(map(str, row['runs']))} | "
            f"{verdict(row['performance'] >= LIGHTHOUSE_PERFORMANCE)} | {losing} |"
        )
    return lines
