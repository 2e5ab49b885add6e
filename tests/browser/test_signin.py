"""
Staff sign-in in Chromium, on two app servers sharing one database: the test server (2FA off)
and a second gunicorn with PEACEPLANS_REQUIRE_2FA=1. A lock made on one holds on the other.
"""

import re
from base64 import b32decode
from pathlib import Path

import pytest
from django_otp.oath import totp

from .conftest import create_editor, gunicorn, manage

pytestmark = pytest.mark.browser

PASSWORD = "second-factor-desk-2025"


@pytest.fixture(scope="module")
def two_factor_url(server_env, server_url):
    """A second app server on the test server's database, requiring two-factor sign-in."""
    env = {**server_env, "PEACEPLANS_REQUIRE_2FA": "1"}
    pid_file = Path(env["DJANGO_STATIC_ROOT"]).parent / "gunicorn-2fa.pid"
    with gunicorn(env, workers=1, pid_file=pid_file, ready_path="/admin/login/") as url:
        yield url


def submit(page, url, username, password, code=None):
    page.goto(url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    if code is not None:
        page.fill("#id_otp_token", code)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    return page


def test_two_factor_sign_in(page, server_env, two_factor_url):
    create_editor(server_env, "otpdesk", PASSWORD)
    out = manage(server_env, "add_totp_device", "otpdesk").stdout
    key = b32decode(re.search(r"^\s+([A-Z2-7]{32})$", out, re.MULTILINE).group(1))

    submit(page, two_factor_url, "otpdesk", PASSWORD)
    assert "password and six-digit code" in page.inner_text(".errornote")
    assert page.url == two_factor_url + "/admin/login/"

    submit(page, two_factor_url, "otpdesk", PASSWORD, f"{totp(key):06d}")
    page.wait_for_url(two_factor_url + "/admin/")
    assert "otpdesk" in page.inner_text("#user-tools").lower()
    assert page.evaluate("window.__cspViolations") == []


def test_a_lock_made_on_one_server_holds_on_the_other(page, server_env, server_url, two_factor_url):
    create_editor(server_env, "lockdesk", PASSWORD)
    for _ in range(5):
        submit(page, server_url, "lockdesk", "not-the-password-000")
    assert page.inner_text("h1") == "Too many sign-in attempts"
    assert page.evaluate("window.__cspViolations") == []

    submit(page, two_factor_url, "lockdesk", PASSWORD, "000000")
    assert page.inner_text("h1") == "Too many sign-in attempts"
    assert page.evaluate("window.__cspViolations") == []
