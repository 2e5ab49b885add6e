"""
Cookies and sessions (settings "Production HTTPS, cookies and sessions", peaceplans/ops/security.py):
Secure __Host- cookies in production and plain ones over HTTP on loopback, a new session key
at every sign-in, sessions in the database, a 30-minute idle and 8-hour absolute limit, and
`Cache-Control: no-store` on everything a signed-in editor or the admin receives.
"""

from http.cookies import SimpleCookie
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from peaceplans.ops import security

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
PASSWORD = "a-long-test-password-for-sessions"
MINUTE = 60
HOUR = 60 * MINUTE


@pytest.fixture
def editor(db) -> User:
    return User.objects.create_superuser("chief", "chief@example.org", PASSWORD)


@pytest.fixture
def production(settings):
    """The cookie settings DJANGO_SECURE_HTTPS=1 gives (tests/test_settings.py reads them from the real module)."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    return settings


def sign_in(client: Client, username="chief", password=PASSWORD, **extra):
    """Through the admin's login form, as a person would: the form first (for the CSRF cookie), then the POST."""
    client.get("/admin/login/", **extra)
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def set_cookie_headers(response) -> dict[str, str]:
    """name -> the raw Set-Cookie line, exactly as sent."""
    lines = {}
    for morsel in response.cookies.values():
        lines[morsel.key] = morsel.OutputString()
    return lines


def attributes(line: str) -> dict[str, str]:
    parsed = SimpleCookie()
    parsed.load(line)
    (morsel,) = parsed.values()
    return {key.lower(): value for key, value in morsel.items() if value}


# Cookies


def test_production_cookies_are_secure_host_prefixed_and_samesite(production, editor):
    client = Client()
    response = sign_in(client, secure=True)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    sent = set_cookie_headers(response)
    session = attributes(sent["__Host-sessionid"])
    assert session["secure"] is True and session["httponly"] is True
    assert session["samesite"] == "Lax" and session["path"] == "/" and "domain" not in session
    assert "max-age" in session and int(session["max-age"]) == 8 * HOUR
    login_page = Client().get("/admin/login/", secure=True)
    csrf = attributes(set_cookie_headers(login_page)["__Host-csrftoken"])
    assert csrf["secure"] is True and csrf["samesite"] == "Lax" and csrf["path"] == "/" and "domain" not in csrf
    assert csrf["httponly"] is True
    assert "sessionid" not in sent and "csrftoken" not in set_cookie_headers(login_page)  # no unprefixed twins
    assert client.get("/admin/", secure=True).status_code == 200  # the __Host- session works


def test_plain_http_development_cookies_keep_their_names_and_flags(editor):
    client = Client()
    response = sign_in(client)
    assert response.status_code == 302
    session = attributes(set_cookie_headers(response)["sessionid"])
    assert "secure" not in session and session["httponly"] is True
    assert session["samesite"] == "Lax" and session["path"] == "/" and "domain" not in session
    csrf = attributes(set_cookie_headers(Client().get("/admin/login/"))["csrftoken"])
    assert "secure" not in csrf and csrf["samesite"] == "Lax" and csrf["httponly"] is True


def test_the_session_key_rotates_at_sign_in(editor):
    """A key planted before sign-in (session fixation) is worthless after it."""
    client = Client()
    planted = client.session
    planted["chosen_by"] = "someone else"
    planted.save()
    client.cookies["sessionid"] = planted.session_key
    before = planted.session_key
    assert sign_in(client).status_code == 302
    after = client.cookies["sessionid"].value
    assert after and after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert Session.objects.filter(session_key=after).exists()
    # the planted key gets nowhere; the new one opens the admin
    stranger = Client()
    stranger.cookies["sessionid"] = before
    assert stranger.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_sessions_live_in_the_database_and_survive_a_cache_flush(editor, settings):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    client = Client()
    sign_in(client)
    key = client.cookies["sessionid"].value
    stored = Session.objects.get(session_key=key).get_decoded()
    assert stored["_auth_user_id"] == str(editor.pk) and isinstance(stored[security.LOGIN_AT], int)
    cache.clear()
    assert client.get("/admin/").status_code == 200


# Idle and absolute limits, with a clock the test moves


@pytest.fixture
def clock(monkeypatch):
    """peaceplans.ops.security's time, moved by the test: clock.now += 31 * MINUTE."""
    import time

    fake = SimpleNamespace(now=time.time())
    monkeypatch.setattr(security, "time", SimpleNamespace(time=lambda: fake.now))
    return fake


@pytest.fixture
def signed_in(editor, clock) -> Client:
    client = Client()
    assert sign_in(client).status_code == 302
    return client


def signed_out_with(client: Client, message: str) -> None:
    """The next admin request lands on the login page, which says why."""
    response = client.get(f"/admin/peaceplans/point/?plan__id__exact=1&q={PLAN}")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/?next=")
    login = client.get(response["Location"])
    html = login.content.decode()
    assert message in html, html[:2000]
    assert 'id="login-form"' in html
    assert client.get("/admin/").status_code == 302  # and stays signed out


def test_a_session_idle_for_30_minutes_is_signed_out(signed_in, clock):
    clock.now += 29 * MINUTE
    assert signed_in.get("/admin/").status_code == 200
    clock.now += 31 * MINUTE
    key = signed_in.cookies["sessionid"].value
    signed_out_with(signed_in, "You were signed out after 30 minutes without activity.")
    assert not Session.objects.filter(session_key=key).exists()


def test_activity_keeps_a_session_going_until_8_hours_after_sign_in(signed_in, clock):
    for _ in range(23):  # a request every 20 minutes: 7 h 40 min
        clock.now += 20 * MINUTE
        assert signed_in.get("/admin/").status_code == 200
    clock.now += 19 * MINUTE  # 7 h 59 min
    assert signed_in.get("/admin/").status_code == 200
    clock.now += 2 * MINUTE  # 8 h 1 min, one idle minute before
    signed_out_with(signed_in, "You were signed out 8 hours after signing in.")


def test_a_post_after_the_limit_changes_nothing(signed_in, clock, plan):
    clock.now += 31 * MINUTE
    page = signed_in.get(f"/admin/peaceplans/plan/{plan.pk}/change/")
    assert page.status_code == 302
    response = signed_in.post(f"/admin/peaceplans/plan/{plan.pk}/change/", {"title": "Changed after sign-out"})
    assert response.status_code in (302, 403)
    plan.refresh_from_db()
    assert plan.title != "Changed after sign-out"


def test_a_public_page_signs_an_expired_session_out_too(signed_in, clock):
    clock.now += 31 * MINUTE
    response = signed_in.get(f"/plans/{PLAN}/")
    assert response.status_code == 200
    assert response.cookies["sessionid"].value == ""  # the cookie is deleted
    assert signed_in.get("/admin/").status_code == 302


def test_embeds_neither_extend_nor_end_a_session(signed_in, clock):
    """An embed reads no session (tests/publish/test_embeds.py: no cookie, no Vary: Cookie): viewing is not activity."""
    clock.now += 20 * MINUTE
    embed = signed_in.get(f"/embed/plans/{PLAN}/points/6/")
    assert embed.status_code == 200 and not embed.cookies
    clock.now += 11 * MINUTE  # 31 minutes after the last admin request, 11 after the embed
    signed_out_with(signed_in, "You were signed out after 30 minutes without activity.")


def test_a_session_without_its_times_is_signed_out(editor):
    """Sessions begun before the limits existed carry no times: they end at once."""
    client = Client()
    sign_in(client)
    session = client.session
    del session[security.LOGIN_AT], session[security.SEEN_AT]
    session.save()
    signed_out_with(client, "Please sign in again.")


def test_activity_is_written_at_most_once_a_minute(signed_in, clock):
    key = signed_in.cookies["sessionid"].value

    def seen():
        return Session.objects.get(session_key=key).get_decoded()[security.SEEN_AT]

    start = seen()
    clock.now += 30
    signed_in.get("/admin/")
    assert seen() == start
    clock.now += 31
    signed_in.get("/admin/")
    assert seen() == int(clock.now)


@pytest.mark.parametrize("limit,message", [("idle", "30 minutes"), ("max", "8 hours")])
def test_expired_names_the_limit(settings, limit, message):
    now = 100 * HOUR
    session = {security.LOGIN_AT: int(now - 9 * HOUR), security.SEEN_AT: int(now - 31 * MINUTE)}
    if limit == "idle":
        session[security.LOGIN_AT] = int(now - HOUR)
    else:
        session[security.SEEN_AT] = int(now - MINUTE)
    assert message in security.expired(session, now)
    assert security.expired({security.LOGIN_AT: int(now - HOUR), security.SEEN_AT: int(now)}, now) == ""


# Cache-Control: no-store for the admin and for everything an editor receives


def no_store(response) -> bool:
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    return "no-store" in directives and "public" not in directives


@pytest.mark.parametrize(
    "url,status",
    [
        ("/admin/login/", 200),
        ("/admin/", 302),
        ("/admin/peaceplans/plan/", 302),
        ("/admin/logout/", 302),
        ("/admin/nothing-here/", 302),
    ],
)
def test_the_admin_is_no_store_for_everyone(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert no_store(response), response["Cache-Control"]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/peaceplans/plan/",
        "/admin/peaceplans/point/1/change/",
        "/admin/peaceplans/point/1/history/",
        "/admin/login/",  # a redirect to the index
        f"/plans/{PLAN}/",
        f"/plans/{PLAN}/points/6/",
        f"/api/v1/plans/{PLAN}/",
        f"/embed/plans/{PLAN}/points/6/",
        f"/plans/{PLAN}/matrix.csv",
    ],
)
def test_everything_a_signed_in_editor_receives_is_no_store(signed_in, url):
    response = signed_in.get(url)
    assert response.status_code in (200, 302)
    assert no_store(response), (url, response["Cache-Control"])


def test_sign_in_and_sign_out_answers_are_no_store(editor):
    client = Client()
    signed = sign_in(client)
    assert signed.status_code == 302 and no_store(signed)
    out = client.post("/admin/logout/")
    assert out.status_code == 200 and no_store(out)
    assert "sessionid" in out.cookies and out.cookies["sessionid"].value == ""
