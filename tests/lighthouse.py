"""
Lighthouse (npm `lighthouse`, pinned in the Makefile's `validator` target, in .cache/npm) against a
running server, with Debian's Chromium in Lighthouse's default mobile emulation. One Chromium for
all the pages, started here with a DevTools port and stopped by its PID; Lighthouse attaches to it
(`--port`) one page after another. No Django imports: `make bench` (tests/bench/) uses it too.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = Path(os.environ.get("LIGHTHOUSE") or ROOT / ".cache/npm/node_modules/.bin/lighthouse")
CHROMIUM = Path(os.environ.get("CHROME_PATH") or "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Lighthouse sometimes fails a run for reasons of its own (NO_NAVSTART, a protocol timeout): try again.
RETRIES = 3


class LighthouseError(RuntimeError):
    pass


def missing() -> str | None:
    """Why Lighthouse cannot run here, or None when it can."""
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    if not LIGHTHOUSE.exists():
        return f"Lighthouse not found at {LIGHTHOUSE} (`make validator` installs it when npm exists)"
    if not shutil.which("node"):
        return "node not found (Lighthouse needs it)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def chromium():
    """One headless Chromium with a DevTools port, yielded as the port; stopped by its PID."""
    port = _free_port()
    profile = tempfile.mkdtemp(prefix="lighthouse-chromium-")
    proc = subprocess.Popen(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--remote-debugging-port={port}", f"--user-data-dir={profile}"]
        + ["about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise LighthouseError("Chromium did not open its DevTools port") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def audit(url: str, categories: list[str], port: int, timeout: float = 180) -> dict:
    """
    One Lighthouse run of `url` on the Chromium at `port`: {"scores": {category: 0-100},
    "failing": {category: [(audit id, title, score), ...]}, "lighthouse": version}.
    """
    error = ""
    for _ in range(RETRIES):
        with tempfile.NamedTemporaryFile(suffix=".json") as report:
            done = subprocess.run(
                [str(LIGHTHOUSE), url, f"--port={port}", f"--only-categories={','.join(categories)}"]
                + ["--output=json", f"--output-path={report.name}", "--quiet", "--max-wait-for-load=60000"],
                env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            text = Path(report.name).read_text() if done.returncode == 0 else ""
        if not text:
            error = (done.stderr or done.stdout)[-2000:]
            continue
        result = json.loads(text)
        if result.get("runtimeError"):
            error = json.dumps(result["runtimeError"])
            continue
        return summary(result)
    raise LighthouseError(f"Lighthouse failed on {url} {RETRIES} times: {error}")


def summary(result: dict) -> dict:
    """Scores out of 100, and each category's audits that lost points, from a Lighthouse report."""
    audits = result["audits"]
    scores, failing = {}, {}
    for name, category in result["categories"].items():
        scores[name] = None if category["score"] is None else round(category["score"] * 100)
        failing[name] = [
            (ref["id"], audits[ref["id"]]["title"], audits[ref["id"]]["score"])
            for ref in category["auditRefs"]
            if ref.get("weight") and audits[ref["id"]]["score"] is not None and audits[ref["id"]]["score"] < 1
        ]
    return {"scores": scores, "failing": failing, "lighthouse": result.get("lighthouseVersion")}
