"""
Browser tests run headless Debian Chromium (never a downloaded browser) against the app
as `make run` serves it: gunicorn, DEBUG off, whitenoise's hashed static files, the real
CSP, on a throwaway SQLite database loaded with the demo data.
"""

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.stack import free_port, manage

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
WIDTHS = (360, 1280)


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    for item in items:
        if "tests/browser/" in str(item.fspath) and "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def server_env(tmp_path_factory):
    """The environment the test server runs with: use it to run manage.py against the same database."""
    tmp = tmp_path_factory.mktemp("server")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "DJANGO_SECRET_KEY": "browser-tests-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_DEBUG": "0",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
    }
    env.pop("DJANGO_STATICFILES_STORAGE", None)
    return env


# As in the Makefile's `run`: gunicorn's request-line limit (4,094 bytes by default) raised to its
# maximum, so that an address over the app's own limits (peaceplans/ops/limits.py: 1,024-byte path,
# 4,096-byte query) reaches the app and gets the site's 414 page, not gunicorn's bare one.
GUNICORN_LIMITS = ["--limit-request-line", "8190"]


@contextmanager
def gunicorn(env, *, workers: int, pid_file: Path, ready_path: str):
    """The app under gunicorn on a free loopback port, until the block ends; stopped by its PID."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "peaceplans.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", str(workers), "--no-control-socket", "--pid", str(pid_file), "--log-level", "warning"]
        + GUNICORN_LIMITS,
        env=env,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + ready_path, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start ({pid_file.name})") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server_url(server_env):
    """The app as `make run` serves it, on a migrated test database with the demo data."""
    tmp = Path(server_env["DJANGO_STATIC_ROOT"]).parent
    # collectstatic needs no database: it runs beside migrate + load_demo rather than after them.
    collect = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
        env=server_env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for command in (["migrate", "--noinput", "-v0"], ["load_demo"]):
            manage(server_env, *command)
    finally:
        output, _ = collect.communicate(timeout=300)
    if collect.returncode != 0:
        raise RuntimeError(f"manage.py collectstatic failed ({collect.returncode}):\n{output.decode()}")
    with gunicorn(server_env, workers=2, pid_file=tmp / "gunicorn.pid", ready_path="/sources/") as url:
        yield url


@pytest.fixture(scope="package")
def browser():
    """Chromium for the tests in this package. Package scope, not session: while Playwright's sync API
    is open its event loop counts as running on the main thread, and Django refuses every new database
    connection from "an async context" (SynchronousOnlyOperation). pytest-django runs some database tests
    after this package, so the browser closes before they start."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A page in a normal context: the CSP applies, and its violations are recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => "
        "window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    yield page
    context.close()


def create_editor(env, username: str, password: str) -> str:
    """An editor account made the documented way, with `manage.py create_editor`."""
    manage({**env, "EDITOR_PASSWORD": password}, "create_editor", username)
    return username


def admin_login(page, server_url: str, username: str, password: str):
    """Sign in through the admin's login form; returns the page on the admin index."""
    page.goto(server_url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(server_url + "/admin/")
    return page
