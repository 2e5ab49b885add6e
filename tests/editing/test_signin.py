"""Staff sign-in: throttling (django-axes), two-factor sign-in (TOTP), no default accounts, the security log."""

import io
import logging
import os
import re
import subprocess
import sys
from base64 import b32decode
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from peaceplans.editing import signin

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "winter-night-shift-password-7"
WRONG = "guessed-Password-0001"
LOGIN = "/admin/login/"
LOCKED = "Too many sign-in attempts"
BAD_LOGIN = "Please enter the correct username and password"


@pytest.fixture
def editor(db):
    user = User.objects.create_user("nightdesk", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def sign_in(client, username="nightdesk", password=PASSWORD, **fields):
    """POST the admin's login form, as a browser would; extra keyword arguments become headers or fields."""
    headers = {k: v for k, v in fields.items() if k.startswith("HTTP_") or k == "REMOTE_ADDR"}
    data = {"username": username, "password": password, "next": "/admin/"}
    data.update({k: v for k, v in fields.items() if k not in headers})
    return client.post(LOGIN, data, **headers)


def fail(client, times, username="nightdesk", **fields):
    return [sign_in(client, username, WRONG, **fields) for _ in range(times)]


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


# Throttling


def test_four_bad_passwords_get_the_form_back_with_its_error(client, editor):
    for response in fail(client, 4):
        assert response.status_code == 200
        assert BAD_LOGIN in response.content.decode()
        assert 'name="password"' in response.content.decode()


def test_the_fifth_bad_password_gets_a_429_page(client, editor):
    fail(client, 4)
    response = sign_in(client, password=WRONG)
    assert response.status_code == 429
    page = response.content.decode()
    assert f"<h1>{LOCKED}</h1>" in page
    assert "paused for 15 minutes" in page
    assert response["Retry-After"] == "900"
    assert 'name="password"' not in page


def test_the_lockout_page_is_well_formed_and_has_no_inline_code(client, editor):
    fail(client, 4)
    response = sign_in(client, password=WRONG)
    page = response.content.decode()
    assert page.startswith("<!doctype html>")
    assert not re.search(r"\sstyle=|<style|\son\w+=|<script(?![^>]*\ssrc=)", page, re.IGNORECASE)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert_balanced(page)


def test_the_right_password_is_refused_while_locked(client, editor):
    fail(client, 5)
    response = sign_in(client)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not signed_in(client)


@pytest.mark.parametrize("minutes,allowed", [(14, False), (16, True)])
def test_the_lock_lifts_after_the_cool_off(client, editor, monkeypatch, minutes, allowed):
    fail(client, 5)
    later = timezone.now() + timedelta(minutes=minutes)
    monkeypatch.setattr("axes.handlers.proxy.now", lambda: later)  # axes' clock for the next request
    response = sign_in(client)
    assert (response.status_code == 302) is allowed
    assert signed_in(client) is allowed


def test_the_cool_off_comes_from_the_settings(client, editor, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=2)
    response = fail(client, 5)[-1]
    assert response.status_code == 429
    assert "paused for 2 minutes" in response.content.decode()
    assert response["Retry-After"] == "120"


def test_the_lock_is_kept_in_the_database_so_every_server_sees_it(client, editor):
    from django.core.cache import cache

    fail(client, 5)
    attempt = AccessAttempt.objects.get(username="nightdesk")
    assert attempt.failures_since_start == 5 and attempt.ip_address == "127.0.0.1"
    cache.clear()  # nothing of the lock lives in a cache
    other_server = Client()  # another app server: no shared memory, only the database
    response = sign_in(other_server)
    assert response.status_code == 429
    assert not signed_in(other_server)


def test_a_failed_attempt_stores_neither_the_password_nor_the_code(client, editor, settings):
    settings.PEACEPLANS_REQUIRE_2FA = True
    sign_in(client, password=WRONG, otp_token="123456")
    stored = AccessAttempt.objects.get(username="nightdesk")
    assert WRONG not in stored.post_data and "123456" not in stored.post_data
    assert "password=****" in stored.post_data


def test_a_lock_on_one_name_leaves_colleagues_at_the_same_address_alone(client, editor):
    colleague = User.objects.create_user("daydesk", password=PASSWORD, is_staff=True)
    fail(client, 5)
    assert sign_in(Client(), username=colleague.username).status_code == 302


def test_a_name_tried_from_many_addresses_is_locked_everywhere(client, editor):
    """Failures for one name spread over addresses, no pair reaching 5: the 20th locks the name."""
    for n in range(5):
        assert all(r.status_code == 200 for r in fail(client, 4 if n < 4 else 3, REMOTE_ADDR=f"198.51.100.{n}"))
    assert sign_in(Client(), password=WRONG, REMOTE_ADDR="198.51.100.9").status_code == 429
    assert sign_in(Client(), REMOTE_ADDR="203.0.113.7").status_code == 429


def test_nineteen_failures_spread_over_addresses_do_not_lock_the_name(client, editor):
    for n in range(5):
        fail(client, 4 if n < 4 else 3, REMOTE_ADDR=f"198.51.100.{n}")
    assert sign_in(Client(), REMOTE_ADDR="203.0.113.7").status_code == 302


def test_one_address_spraying_many_names_is_locked(client, editor):
    """Four failures for each of many made-up names from one address: the 50th locks the address."""
    for n in range(13):
        fail(client, 4 if n < 12 else 1, username=f"guess{n}")
    assert sign_in(Client()).status_code == 302  # 49: a colleague at that address still signs in
    assert fail(client, 1, username="guess13")[0].status_code == 429
    assert sign_in(Client()).status_code == 429
    assert sign_in(Client(), REMOTE_ADDR="203.0.113.7").status_code == 302


def test_x_forwarded_for_is_ignored_without_a_proxy(client, editor, settings):
    settings.PEACEPLANS_PROXY_COUNT = 0
    responses = [sign_in(client, password=WRONG, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}") for n in range(5)]
    assert responses[-1].status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_x_forwarded_for_names_the_client_behind_a_proxy(client, editor, settings):
    settings.PEACEPLANS_PROXY_COUNT = 1
    responses = fail(client, 5, HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert responses[-1].status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.10"}
    # The same client cannot slip out by writing its own entry in front of the proxy's ...
    assert sign_in(Client(), HTTP_X_FORWARDED_FOR="198.51.100.1, 192.0.2.10").status_code == 429
    # ... while another client behind the same proxy signs in.
    assert sign_in(Client(), HTTP_X_FORWARDED_FOR="192.0.2.11").status_code == 302


class FakeRequest:
    def __init__(self, forwarded=None, remote="10.0.0.2"):
        self.META = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded


@pytest.mark.parametrize(
    "proxies,forwarded,expected",
    [
        (0, "192.0.2.1", "10.0.0.2"),  # no proxy: the header is the client's own words
        (1, None, "10.0.0.2"),
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "6.6.6.6, 192.0.2.1", "192.0.2.1"),  # the client wrote 6.6.6.6
        (2, "6.6.6.6, 192.0.2.1, 10.0.0.9", "192.0.2.1"),  # CDN, then our load balancer
        (2, "192.0.2.1", "10.0.0.2"),  # fewer entries than proxies: not through them all
        (1, "not-an-address", "10.0.0.2"),
        (1, "192.0.2.1\x00", "10.0.0.2"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, "192.0.2.1, ", "10.0.0.2"),  # an empty last entry is not an address
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.PEACEPLANS_PROXY_COUNT = proxies
    assert signin.client_ip(FakeRequest(forwarded)) == expected


# Two-factor sign-in


@pytest.fixture
def two_factor(settings):
    settings.PEACEPLANS_REQUIRE_2FA = True


def enrol(username="nightdesk", *args) -> bytes:
    """Enrol with the documented command; returns the key the user would type into their app."""
    out = io.StringIO()
    call_command("add_totp_device", username, *args, stdout=out)
    secret = re.search(r"^\s+([A-Z2-7]{32})$", out.getvalue(), re.MULTILINE).group(1)
    return b32decode(secret)


def code(key: bytes) -> str:
    """The code the authenticator app shows now."""
    return f"{totp(key):06d}"


def test_with_2fa_required_the_form_asks_for_the_code(client, two_factor):
    page = client.get(LOGIN).content.decode()
    assert 'name="otp_token"' in page and 'autocomplete="one-time-code"' in page


def test_with_2fa_required_the_password_alone_is_refused(client, editor, two_factor):
    enrol()
    response = sign_in(client)
    assert response.status_code == 200
    assert "password and six-digit code" in response.content.decode()
    assert not signed_in(client)


def test_with_2fa_required_a_wrong_code_is_refused_and_counted(client, editor, two_factor):
    key = enrol()
    wrong = f"{(int(code(key)) + 1) % 1000000:06d}"
    response = sign_in(client, otp_token=wrong)
    assert response.status_code == 200
    assert "password and six-digit code" in response.content.decode()
    assert not signed_in(client)
    assert AccessAttempt.objects.get(username="nightdesk").failures_since_start == 1


def test_with_2fa_required_five_wrong_codes_lock_the_sign_in(client, editor, two_factor):
    key = enrol()
    wrong = f"{(int(code(key)) + 1) % 1000000:06d}"
    responses = [sign_in(client, otp_token=wrong) for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]


def test_with_2fa_required_the_password_and_the_right_code_sign_in(client, editor, two_factor):
    key = enrol()
    response = sign_in(client, otp_token=code(key))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200 and "nightdesk" in page.content.decode()
    assert client.session["otp_device_id"] == TOTPDevice.objects.get(user=editor).persistent_id


def test_a_code_may_be_typed_with_the_space_the_app_shows(client, editor, two_factor):
    key = enrol()
    token = code(key)
    assert sign_in(client, otp_token=f" {token[:3]} {token[3:]} ").status_code == 302


def test_a_code_in_other_digits_is_refused(client, editor, two_factor):
    key = enrol()
    arabic_indic = code(key).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert sign_in(client, otp_token=arabic_indic).status_code == 200
    assert not signed_in(client)


def test_a_code_is_accepted_once(client, editor, two_factor):
    key = enrol()
    token = code(key)
    assert sign_in(client, otp_token=token).status_code == 302
    assert sign_in(Client(), otp_token=token).status_code == 200


def test_another_users_code_does_not_open_an_account(client, editor, two_factor):
    User.objects.create_user("daydesk", password="another-long-password-42", is_staff=True)
    other_key = enrol("daydesk")
    enrol()
    assert sign_in(client, otp_token=code(other_key)).status_code == 200
    assert not signed_in(client)


def test_staff_without_an_authenticator_are_told_how_to_get_one(client, editor, two_factor):
    response = sign_in(client, otp_token="123456")
    assert response.status_code == 200
    assert "add_totp_device" in response.content.decode()
    assert not signed_in(client)


def test_with_2fa_required_a_session_without_a_code_does_not_open_the_admin(client, editor, two_factor):
    client.force_login(editor)  # signed in by password only, e.g. before 2FA was switched on
    response = client.get("/admin/peaceplans/stance/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_with_2fa_off_the_password_signs_in_as_before(client, editor, settings):
    settings.PEACEPLANS_REQUIRE_2FA = False
    assert 'name="otp_token"' not in client.get(LOGIN).content.decode()
    assert sign_in(client).status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("https://evil.example/", "/admin/"),  # another host: refused, so the default (LOGIN_REDIRECT_URL)
        ("//evil.example/admin/", "/admin/"),
        ("", "/admin/"),
        ("/admin/peaceplans/stance/", "/admin/peaceplans/stance/"),  # this site's own address: kept
    ],
)
def test_a_sign_in_with_a_refused_next_lands_on_the_admin_not_a_404(client, editor, settings, next_url, lands_on):
    settings.PEACEPLANS_REQUIRE_2FA = False
    response = sign_in(client, next=next_url)
    assert response.status_code == 302 and response["Location"] == lands_on
    landed = client.get(response["Location"])
    assert landed.status_code == 200 and "nightdesk" in landed.content.decode()


def settings_value(name, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PEACEPLANS_"))}
    code = f"from django.conf import settings; print(settings.{name})"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SECRET_KEY": "x" * 50, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[-1]


@pytest.mark.parametrize(
    "env,required",
    [
        ({}, "False"),
        ({"DJANGO_SECURE_HTTPS": "1"}, "True"),
        ({"DJANGO_SECURE_HTTPS": "1", "PEACEPLANS_REQUIRE_2FA": "0"}, "False"),
        ({"PEACEPLANS_REQUIRE_2FA": "1"}, "True"),
    ],
)
def test_production_requires_2fa_unless_told_otherwise(env, required):
    assert settings_value("PEACEPLANS_REQUIRE_2FA", **env) == required


def test_behind_a_proxy_one_proxy_is_trusted_by_default():
    assert settings_value("PEACEPLANS_PROXY_COUNT") == "0"
    assert settings_value("PEACEPLANS_PROXY_COUNT", DJANGO_BEHIND_PROXY="1") == "1"
    assert settings_value("PEACEPLANS_PROXY_COUNT", DJANGO_BEHIND_PROXY="1", DJANGO_PROXY_COUNT="2") == "2"


def test_the_cool_off_time_comes_from_the_environment():
    assert settings_value("AXES_COOLOFF_TIME") == "0:15:00"
    assert settings_value("AXES_COOLOFF_TIME", PEACEPLANS_LOCKOUT_MINUTES="5") == "0:05:00"


def test_add_totp_device_prints_the_address_and_key_once(editor):
    out = io.StringIO()
    call_command("add_totp_device", "nightdesk", stdout=out)
    device = TOTPDevice.objects.get(user=editor)
    assert device.confirmed
    assert device.config_url in out.getvalue()
    assert device.config_url.startswith("otpauth://totp/peaceplans%3Anightdesk?secret=")
    assert "issuer=peaceplans" in device.config_url


def test_add_totp_device_replaces_only_when_asked(editor):
    old_key = enrol()
    with pytest.raises(CommandError, match="already has an authenticator"):
        enrol()
    assert TOTPDevice.objects.get(user=editor).bin_key == old_key
    new_key = enrol("nightdesk", "--replace")
    assert new_key != old_key and TOTPDevice.objects.filter(user=editor).count() == 1


@pytest.mark.parametrize("username,message", [("nobody", "No user"), ("reader", "not staff")])
def test_add_totp_device_refuses_unknown_and_non_staff_users(username, message):
    User.objects.create_user("reader", password=PASSWORD)
    with pytest.raises(CommandError, match=message):
        enrol(username)
    assert not TOTPDevice.objects.exists()


def test_authenticators_are_not_managed_in_the_admin():
    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(AccessAttempt)
    assert isinstance(admin.site._wrapped, signin.StaffAdminSite)


# No default accounts


@pytest.mark.slow
@pytest.mark.engine_independent  # a SQLite file of its own, in a process of its own
def test_a_fresh_database_with_the_demo_has_no_accounts(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env = {**clean, "DJANGO_SECRET_KEY": "x" * 50, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    for command in (["migrate", "--noinput", "-v0"], ["load_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    code = "from django.contrib.auth.models import User; print('users', User.objects.count())"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert "users 0" in result.stdout, result.stdout + result.stderr


def test_the_test_database_with_the_demo_has_no_accounts():
    assert not User.objects.exists()


# create_editor's password rules: tests/editing/test_editors.py.


# The security log


@pytest.fixture
def security_log(caplog):
    caplog.set_level(logging.INFO, logger="peaceplans.security")
    return caplog


def security_records(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "peaceplans.security"]


def test_the_security_logger_is_configured_at_info():
    from django.conf import settings

    assert settings.LOGGING["loggers"]["peaceplans.security"]["level"] == "INFO"
    assert logging.getLogger("peaceplans.security").getEffectiveLevel() == logging.INFO


def test_a_sign_in_is_logged_with_name_and_address(client, editor, security_log):
    sign_in(client, REMOTE_ADDR="198.51.100.23")
    assert "sign-in: username='nightdesk' ip=198.51.100.23 two_factor=no" in security_records(security_log)
    assert PASSWORD not in security_log.text


def test_a_two_factor_sign_in_is_logged_as_such(client, editor, two_factor, security_log):
    key = enrol()
    sign_in(client, otp_token=code(key))
    assert "sign-in: username='nightdesk' ip=127.0.0.1 two_factor=yes" in security_records(security_log)


def test_a_failed_sign_in_is_logged_without_the_password(client, editor, security_log):
    sign_in(client, password=WRONG, REMOTE_ADDR="198.51.100.23")
    assert "sign-in failed: username='nightdesk' ip=198.51.100.23" in security_records(security_log)
    assert WRONG not in security_log.text and PASSWORD not in security_log.text


def test_a_wrong_code_is_logged_without_the_code(client, editor, two_factor, security_log):
    key = enrol()
    wrong = f"{(int(code(key)) + 1) % 1000000:06d}"
    sign_in(client, otp_token=wrong)
    assert "sign-in failed: username='nightdesk' ip=127.0.0.1" in security_records(security_log)
    assert wrong not in security_log.text and PASSWORD not in security_log.text


def test_a_lockout_is_logged(client, editor, security_log):
    fail(client, 5)
    assert "sign-in locked out: username='nightdesk' ip=127.0.0.1" in security_records(security_log)


def test_a_forged_user_name_cannot_forge_log_lines(client, security_log):
    sign_in(client, username="x\nsign-in: username='chief' ip=10.0.0.1 two_factor=yes", password=WRONG)
    (record,) = [m for m in security_records(security_log) if m.startswith("sign-in failed")]
    assert "\n" not in record and "username=\"x\\nsign-in: username='chief'" in record


def test_a_403_in_the_admin_is_logged(client, security_log):
    client.force_login(User.objects.create_user("staffonly", password=PASSWORD, is_staff=True))
    assert client.get("/admin/peaceplans/stance/").status_code == 403
    assert "permission refused: GET '/admin/peaceplans/stance/' username='staffonly' ip=127.0.0.1" in (
        security_records(security_log)
    )


def test_a_refused_form_post_is_logged_anywhere(security_log):
    """A CSRF failure is a 403 from outside any view: it is logged too, for an anonymous client."""
    response = Client(enforce_csrf_checks=True).post(LOGIN, {"username": "a", "password": WRONG})
    assert response.status_code == 403
    assert "permission refused: POST '/admin/login/' username=(anonymous) ip=127.0.0.1" in (
        security_records(security_log)
    )
    assert WRONG not in security_log.text


def test_pages_that_are_not_refused_are_not_logged(client, security_log):
    client.get("/sources/")
    assert security_records(security_log) == []


# HTML check for the lockout page


class _Balance(HTMLParser):
    VOID = {"meta", "link", "input", "br", "img", "hr", "source", "area", "base", "col", "wbr", "track", "embed"}

    def __init__(self):
        super().__init__()
        self.stack = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def assert_balanced(page: str):
    parser = _Balance()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
