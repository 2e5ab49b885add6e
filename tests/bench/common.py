"""
What the benchmark scripts share: the addresses measured, how first-load bytes are counted,
the environment the app runs with, and a description of the machine. No Django imports here:
run.py and bench_http.py use it without setting Django up.
"""

import datetime
import gzip
import os
import platform
import re
import shutil
import statistics
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[2]

# A fixed, public value, as `make test` uses: the benchmark's servers are throwaway and loopback-only.
SECRET_KEY = "bench-only-secret-key-not-for-production-peaceplans-0123456789"

# Variables that would point the app somewhere else than the benchmark's own databases and cache.
FOREIGN_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_STATICFILES_STORAGE",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_SECURE_HTTPS",
    "PEACEPLANS_FEATURED_PLAN",
    "DJANGO_LOG_LEVEL",
)


def app_env(db: Path, static_root: Path, **extra: str) -> dict:
    """The environment `make run` gives the app (DEBUG off), on the benchmark's own database."""
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_ENV}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DATABASE_URL=f"sqlite:///{db}",
        DJANGO_STATIC_ROOT=str(static_root),
        PYTHONDONTWRITEBYTECODE="1",
        # Stopped by one SIGTERM when done: no grace to wait through (peaceplans/ops/server.py).
        PEACEPLANS_DRAIN_SECONDS="0",
    )
    env.update(extra)
    return env


# ---- the addresses ----


def compare_path(cat: dict, a: str, b: str) -> str:
    return f"/plans/{cat['plan']}/compare/?{urlencode({'a': a, 'b': b})}"


def pairs(revisions: list[str], limit: int | None = None) -> list[tuple[str, str]]:
    """
    Every pair of revisions, older first, in date order. With `limit`: the first and the last
    text, then texts next to each other (what the timeline links to) spread evenly over the plan.
    """
    if limit is None:
        return [(a, b) for n, a in enumerate(revisions) for b in revisions[n + 1 :]]
    chosen = [(revisions[0], revisions[-1])]
    neighbours = list(zip(revisions, revisions[1:], strict=False))
    step = len(neighbours) / max(limit - 1, 1)
    for n in range(min(limit - 1, len(neighbours))):
        pair = neighbours[int(n * step)]
        if pair not in chosen:
            chosen.append(pair)
    return chosen


def pages(cat: dict) -> dict[str, str]:
    """One address of each kind of page, for the data the catalogue describes (bench_pages.catalogue)."""
    plan = f"/plans/{cat['plan']}"
    return {
        "overview": f"{plan}/",
        "compare": compare_path(cat, cat["revisions"][0], cat["revisions"][-1]),
        "point": f"{plan}/points/{quote(cat['point'])}/",
        "party": f"{plan}/parties/{cat['party']}/",
        "revision": f"{plan}/revisions/{cat['revision']}/",
        "timeline": f"{plan}/timeline/",
        "search": f"/search/?{urlencode({'q': cat['search']})}",
        "api list": f"/api/v1/plans/{cat['plan']}/stances/",
        "api detail": f"/api/v1/plans/{cat['plan']}/points/{quote(cat['point'])}/",
    }


def fragments(cat: dict) -> dict[str, str]:
    """The HTMX regions (asked for with HX-Request: true)."""
    every = pages(cat)
    return {
        "overview matrix": every["overview"],
        "compare region": every["compare"],
        "point wording": every["point"] + "?" + urlencode({"against": cat["revisions"][0]}),
        "search results": every["search"],
        "timeline list": every["timeline"],
    }


HTML_PAGES = ("overview", "compare", "point", "party", "revision", "timeline", "search")


# ---- bytes of a first load ----


class _Assets(HTMLParser):
    """The stylesheets, scripts and preloaded files a page makes the browser fetch."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        rel = (attrs.get("rel") or "").split()
        if tag == "link" and ("stylesheet" in rel or "preload" in rel) and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])


# The web fonts a stylesheet declares (@font-face src): counted whether or not the page preloads them.
FONT_URL = re.compile(r"""url\(\s*["']?([^"')]+\.woff2?)(?:[?#][^"')]*)?["']?\s*\)""")


def fonts_of(css: str, css_url: str) -> list[str]:
    return [urljoin(css_url, found) for found in FONT_URL.findall(css)]


def assets_of(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return list(dict.fromkeys(parser.urls))


def body_text(body: bytes, encoding: str) -> str:
    return (gzip.decompress(body) if encoding == "gzip" else body).decode()


def first_load(fetch, path: str) -> dict:
    """
    Compressed bytes of a page's first load: the HTML and every stylesheet, script and preloaded
    file it references, and every web font its stylesheets declare (woff2 is compressed already),
    each as served to a browser that sends Accept-Encoding: gzip. `fetch(path, headers)` returns
    (status, content-encoding, body bytes as sent).
    """
    status, encoding, body = fetch(path, {"Accept-Encoding": "gzip"})
    if status != 200:
        raise RuntimeError(f"{path} answered {status}, not 200")
    assets: dict[str, int] = {}
    queue = assets_of(body_text(body, encoding))
    while queue:
        url = queue.pop(0)
        if url in assets:
            continue
        a_status, a_encoding, a_body = fetch(url, {"Accept-Encoding": "gzip"})
        if a_status != 200:
            raise RuntimeError(f"{url} (referenced by {path}) answered {a_status}, not 200")
        assets[url] = len(a_body)
        if urlsplit(url).path.endswith(".css"):
            queue += fonts_of(body_text(a_body, a_encoding), url)
    return {
        "html": len(body),
        "html_encoding": encoding or "identity",
        "assets": assets,
        "total": len(body) + sum(assets.values()),
    }


def fragment_bytes(fetch, path: str) -> dict:
    """Compressed bytes of one HTMX region, asked for as htmx asks for it."""
    status, encoding, body = fetch(path, {"Accept-Encoding": "gzip", "HX-Request": "true"})
    if status != 200:
        raise RuntimeError(f"{path} (HX-Request) answered {status}, not 200")
    text = body_text(body, encoding)
    if "<html" in text[:500].lower():
        raise RuntimeError(f"{path} (HX-Request) answered a whole page, not a fragment")
    return {"bytes": len(body), "encoding": encoding or "identity"}


# ---- figures ----


def median_ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 2)


def machine() -> dict:
    """The machine and software the figures were measured on."""
    cpuinfo = _read("/proc/cpuinfo").splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown")
    mem_kb = next(
        (int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal:")), 0
    )
    try:
        commit = subprocess.run(  # noqa: S603
            [shutil.which("git") or "git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": round(os.getloadavg()[0], 2),
        "commit": commit,
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
