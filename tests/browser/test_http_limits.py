"""
Over-long addresses through a real gunicorn, started with the Makefile's flags: the site's own
414 page (with its security headers) up to gunicorn's request-line limit, not gunicorn's bare page.
"""

import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from .conftest import GUNICORN_LIMITS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_http import make_run_command  # noqa: E402

pytestmark = pytest.mark.browser


def fetch(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_the_test_server_runs_gunicorn_with_the_makefile_s_limits(tmp_path):
    command = make_run_command(8299, tmp_path / "g.pid")
    flag = command.index(GUNICORN_LIMITS[0])
    assert command[flag : flag + 2] == GUNICORN_LIMITS


@pytest.mark.parametrize("extra", [1, 900])  # just over the app's limit, and near gunicorn's 8,190-byte line
def test_a_long_query_gets_the_site_s_414_page(server_url, extra):
    query = "q=" + "a" * (settings.MAX_QUERY_STRING_BYTES - 2 + extra)
    status, headers, body = fetch(f"{server_url}/search/?{query}")
    assert status == 414
    assert "Address too long" in body and "peaceplans" in body
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"


def test_a_long_path_gets_the_site_s_414_page(server_url):
    status, headers, body = fetch(f"{server_url}/sources/{'p' * settings.MAX_PATH_BYTES}/")
    assert status == 414
    assert "Address too long" in body
    assert headers["X-Content-Type-Options"] == "nosniff"
