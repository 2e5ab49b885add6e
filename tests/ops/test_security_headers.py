"""
Every class of response carries the site's security headers (peaceplans/ops/security.py and
Django's SecurityMiddleware): pages and their HTMX partials, the admin, JSON, feeds, CSV,
embeds, static files, redirects and the 400/403/404/500 pages; for readers and for staff,
with HX-Request on and off, on a page-cache miss, a hit and a 304.
"""

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.template import loader
from django.test import Client
from django.urls import include, path, reverse

from peaceplans.ops import pagecache, security, surface

# The headers come from middleware, whatever the database behind the page: CI's PostgreSQL pass leaves
# these out (tests/conftest.py); the pages themselves are rendered on PostgreSQL by the other tests.
pytestmark = [pytest.mark.django_db, pytest.mark.engine_independent]

ROOT = Path(__file__).resolve().parents[2]
PLAN = "russia-ukraine-2025"
PASSWORD = "a-long-test-password-for-headers"

SITE_CSP = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
}
# Embeds may be framed by any site and run only script files of ours (embed.js, which posts their
# height), which fetch nothing and write no HTML (peaceplans/ops/security.py, EMBED_CSP).
EMBED_CSP = {
    **SITE_CSP,
    "frame-ancestors": ["*"],
    "script-src": ["'self'"],
    "connect-src": ["'none'"],
    "require-trusted-types-for": ["'script'"],
    "trusted-types": ["'none'"],
}
DENIED = ("camera", "microphone", "geolocation", "payment", "usb", "browsing-topics", "display-capture", "fullscreen")

# (id, address, status for a reader, status for staff); every one is asked with HX-Request on and off.
RESPONSE_CLASSES = [
    ("home", "/", 200, 200),
    ("overview", f"/plans/{PLAN}/?sort=-russia&page=2", 200, 200),
    ("point", f"/plans/{PLAN}/points/6/?against=us-28-point-draft", 200, 200),
    ("compare", f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal", 200, 200),
    ("timeline", f"/plans/{PLAN}/timeline/?party=russia", 200, 200),
    ("search", "/search/?q=army", 200, 200),
    ("api-docs", "/api/", 200, 200),
    ("json-api", f"/api/v1/plans/{PLAN}/", 200, 200),
    ("json-api-404", "/api/v1/nothing-here/", 404, 404),
    ("oembed", f"/oembed/?url=http://testserver/plans/{PLAN}/points/6/", 200, 200),
    ("healthz", "/healthz", 200, 200),
    ("feed", f"/feeds/plans/{PLAN}/", 200, 200),
    ("csv", f"/plans/{PLAN}/matrix.csv", 200, 200),
    ("embed", f"/embed/plans/{PLAN}/points/6/", 200, 200),
    ("embed-error", f"/embed/plans/{PLAN}/points/6/?revisions=nope", 404, 404),
    ("400-form", f"/plans/{PLAN}/timeline/?party=nope", 400, 400),
    ("400-query", f"/plans/{PLAN}/compare/?a=us-28-point-draft&a=e3-counter-proposal", 400, 400),
    ("404", "/plans/nope/", 404, 404),
    ("static", "/static/peaceplans/app.css", 200, 200),
    ("admin-login", "/admin/login/", 200, 302),  # staff are sent on to the index
    ("admin-index", "/admin/", 302, 200),  # readers are sent to the login
    ("admin-changelist", "/admin/peaceplans/clause/?revision__plan__id__exact=1", 302, 200),
    ("admin-change-form", "/admin/peaceplans/point/1/change/", 302, 200),
    ("admin-add-form", "/admin/peaceplans/annotation/add/", 302, 200),
    ("admin-history", "/admin/peaceplans/point/1/history/", 302, 200),
]


def csp(response) -> dict[str, list[str]]:
    policy = {}
    for directive in response["Content-Security-Policy"].split(";"):
        name, *sources = directive.split()
        assert name not in policy, f"{name} given twice"
        policy[name] = sources
    return policy


def assert_security_headers(response, *, embed: bool = False) -> None:
    """The whole header set (docs/security.md), each CSP directive exactly."""
    where = f"{response.status_code} {response.get('Content-Type')}"
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin", where
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
    assert response["Cross-Origin-Resource-Policy"] == ("cross-origin" if embed else "same-origin"), where
    features = dict(item.strip().split("=", 1) for item in response["Permissions-Policy"].split(","))
    assert all(features.get(feature) == "()" for feature in DENIED), features
    assert set(features.values()) == {"()"}, features  # every listed feature is refused, none granted
    assert csp(response) == (EMBED_CSP if embed else SITE_CSP), where
    assert "unsafe-" not in response["Content-Security-Policy"] and "nonce-" not in response["Content-Security-Policy"]
    if embed:
        assert "X-Frame-Options" not in response, where  # frame-ancestors * decides; DENY would refuse every frame
    else:
        assert response["X-Frame-Options"] == "DENY", where


@pytest.fixture
def staff_client(db) -> Client:
    """A signed-in superuser: sees every admin page."""
    client = Client()
    client.force_login(User.objects.create_superuser("chief", "chief@example.org", PASSWORD))
    return client


@pytest.mark.parametrize("hx", [False, True], ids=["full", "hx"])
@pytest.mark.parametrize("name,url,reader_status,staff_status", RESPONSE_CLASSES, ids=[c[0] for c in RESPONSE_CLASSES])
def test_every_response_class_carries_the_headers_for_readers(client, name, url, reader_status, staff_status, hx):
    """Miss, hit and 304 alike: a hit and a 304 are answered by the page cache before any view or inner pagecache."""
    headers = {"HX-Request": "true"} if hx else {}
    embed = url.startswith("/embed/")
    first = client.get(url, headers=headers)
    assert first.status_code == reader_status, (url, first.status_code)
    assert_security_headers(first, embed=embed)
    again = client.get(url, headers=headers)
    assert again.status_code == reader_status
    assert_security_headers(again, embed=embed)
    if name == "healthz":
        assert "X-Page-Cache" not in again  # never looked up, never stored: every probe runs its checks
    elif first.get("X-Page-Cache") == "miss" and pagecache.kept_status(reader_status, urlsplit(url).query):
        assert again["X-Page-Cache"] == "hit", url
    if "ETag" in first and reader_status == 200:
        not_modified = client.get(url, headers={**headers, "If-None-Match": first["ETag"]})
        assert not_modified.status_code == 304, url
        assert_security_headers(not_modified, embed=embed)
    if url.startswith("/admin/"):
        assert "no-store" in first["Cache-Control"], url


@pytest.mark.parametrize("hx", [False, True], ids=["full", "hx"])
@pytest.mark.parametrize("name,url,reader_status,staff_status", RESPONSE_CLASSES, ids=[c[0] for c in RESPONSE_CLASSES])
def test_every_response_class_carries_the_headers_for_staff(staff_client, name, url, reader_status, staff_status, hx):
    """A signed-in editor is never served from the cache, and is told to keep nothing."""
    response = staff_client.get(url, headers={"HX-Request": "true"} if hx else {})
    assert response.status_code == staff_status, (url, response.status_code)
    assert_security_headers(response, embed=url.startswith("/embed/"))
    if not url.startswith("/static/"):
        assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"], url
        assert response["X-Page-Cache"] == "bypass"


def test_the_admins_htmx_preview_and_its_refusal_carry_the_headers(staff_client):
    """The note preview is the admin's HTMX partial (a POST); a staff member without the permission gets a 403."""
    url = "/admin/peaceplans/annotation/preview/"
    response = staff_client.post(url, {"body": "**bold**"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<strong>bold</strong>" in response.content.decode()
    assert_security_headers(response)
    assert "no-store" in response["Cache-Control"]
    helper = Client()
    helper.force_login(User.objects.create_user("helper", password=PASSWORD, is_staff=True))
    refused = helper.get("/admin/peaceplans/clause/")
    assert refused.status_code == 403 and "Forbidden" in refused.content.decode()
    assert_security_headers(refused)


def test_a_refused_form_gets_the_sites_403_page_without_inline_style():
    """CSRF_FAILURE_VIEW: Django's own page has a <style> element the CSP would block."""
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "security token" in html and "<style" not in html and "style=" not in html
    assert '<link rel="stylesheet" href="/static/peaceplans/app.css">' in html
    assert_security_headers(response)


# The 500 page: a URLconf of the site's pages plus one that fails, with the site's handler.
def failing_view(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", failing_view), path("", include("peaceplans.urls"))]
handler500 = "peaceplans.ops.security.server_error"


@pytest.fixture
def failing_site(settings):
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


def test_the_500_page_is_the_sites_own_with_every_header(failing_site):
    response = failing_site.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and "boom" not in html
    assert_security_headers(response)
    assert response["X-Page-Cache"] == "miss"  # rendered, and not stored: 500 is not a cached status
    assert failing_site.get("/boom/")["X-Page-Cache"] == "miss"


def test_the_500_page_still_answers_when_its_template_cannot_render(failing_site, monkeypatch):
    """A missing static-manifest entry raises inside {% static %}: the error page must not fail in turn."""

    def broken(*args, **kwargs):
        raise ValueError("Missing staticfiles manifest entry for 'peaceplans/app.css'")

    monkeypatch.setattr(loader, "render_to_string", broken)
    response = failing_site.get("/boom/")
    assert response.status_code == 500
    assert response.content.decode() == security.FALLBACK_500
    assert_security_headers(response)


# Production: HTTPS, HSTS, the proxy's header, a bad Host


@pytest.fixture
def production(settings):
    """What DJANGO_SECURE_HTTPS=1 DJANGO_BEHIND_PROXY=1 gives (tests/test_settings.py checks the real module does)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def test_plain_http_is_redirected_to_https_with_the_headers(production, client):
    response = client.get(f"/plans/{PLAN}/?sort=-russia")
    assert response.status_code == 301
    assert response["Location"] == f"https://testserver/plans/{PLAN}/?sort=-russia"
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response  # only HTTPS answers may set it


@pytest.mark.parametrize(
    "url", [f"/plans/{PLAN}/", "/admin/login/", f"/embed/plans/{PLAN}/points/6/", "/static/peaceplans/app.css"]
)
def test_https_answers_carry_hsts_for_a_year_with_subdomains(production, client, url):
    response = client.get(url, headers={"X-Forwarded-Proto": "https", "Host": "testserver"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert_security_headers(response, embed=url.startswith("/embed/"))
    if url.startswith("/plans/"):  # the page knows it was asked over HTTPS
        assert f'<link rel="canonical" href="https://testserver{url}">' in response.content.decode()


def test_the_proxy_header_is_the_only_proof_of_https(production, client):
    """Another header (or another value) the client could send does not count."""
    for spoof in ({"X-Forwarded-Protocol": "https"}, {"X-Forwarded-Proto": "http"}, {"X-Forwarded-Ssl": "on"}):
        assert client.get(f"/plans/{PLAN}/", headers=spoof).status_code == 301, spoof


HOSTILE_HOSTS = [
    "evil.example",
    "testserver.evil.example",
    "evil.example:80@testserver",
    "testserver:abc",
    "-evil.example",
    "evil.example/testserver",
    "[::1",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
@pytest.mark.parametrize("url", [f"/plans/{PLAN}/", f"/plans/{PLAN}/points/6/", "/admin/login/", "/nothing/"])
def test_a_bad_host_gets_a_400_that_is_never_cached(client, monkeypatch, host, url):
    stored = []
    monkeypatch.setattr(pagecache.PageCacheMiddleware, "cache_set", lambda self, key, entry: stored.append(key))
    response = client.get(url, HTTP_HOST=host)
    assert response.status_code == 400
    assert response.content.decode() == "Bad request: this site does not answer to that host name.\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert_security_headers(response)
    assert stored == []


def test_a_bad_host_cannot_poison_the_page_cache(client, settings):
    """The key holds the host, so each allowed host gets its own copy and a refused one none at all."""
    settings.ALLOWED_HOSTS = ["testserver", "mirror.example"]
    url = f"/plans/{PLAN}/points/6/"
    assert client.get(url, HTTP_HOST="evil.example").status_code == 400
    first = client.get(url)
    assert first["X-Page-Cache"] == "miss"  # the 400 above stored nothing under this address
    assert "evil.example" not in first.content.decode()
    mirror = client.get(url, HTTP_HOST="mirror.example")
    assert mirror["X-Page-Cache"] == "miss"
    assert '<link rel="canonical" href="http://mirror.example/' in mirror.content.decode()
    again = client.get(url)
    assert again["X-Page-Cache"] == "hit"
    assert '<link rel="canonical" href="http://testserver/' in again.content.decode()
    assert "mirror.example" not in again.content.decode()


def test_forwarded_host_headers_are_not_believed(client):
    response = client.get(f"/plans/{PLAN}/", headers={"X-Forwarded-Host": "evil.example"})
    assert response.status_code == 200 and "evil.example" not in response.content.decode()


# htmx under the CSP, and no inline handlers anywhere

HTMX_JS = next(
    (ROOT / ".venv/lib/python3.13/site-packages/django_htmx/static/django_htmx").glob("htmx-2.js"),
    None,
)
HTMX_CONFIG = {"allowEval": False, "allowScriptTags": False, "includeIndicatorStyles": False, "selfRequestsOnly": True}


def htmx_configs() -> dict[str, dict]:
    """The htmx-config of every template that loads htmx."""
    found = {}
    for template in sorted((ROOT / "templates").rglob("*.html")):
        source = template.read_text()
        if "{% htmx_script" in source:
            meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", source)
            found[str(template.relative_to(ROOT))] = json.loads(meta.group(1)) if meta else {}
    return found


def test_htmx_is_configured_for_the_csp_wherever_it_loads():
    configs = htmx_configs()
    assert "templates/base.html" in configs
    for template, config in configs.items():
        assert {key: config.get(key) for key in HTMX_CONFIG} == HTMX_CONFIG, template


@pytest.mark.skipif(HTMX_JS is None, reason="django-htmx's htmx 2 not found in .venv")
def test_the_htmx_config_names_are_the_shipped_htmxs_own():
    """A misspelt key would be ignored silently, leaving eval and script tags on."""
    source = HTMX_JS.read_text()
    for key, default in (("allowEval", "true"), ("allowScriptTags", "true"), ("includeIndicatorStyles", "true")):
        assert re.search(rf"\b{key}: {default},", source), key
    assert re.search(r"\bselfRequestsOnly: true,", source)


def test_the_rendered_page_carries_the_htmx_config(client):
    html = client.get(f"/plans/{PLAN}/").content.decode()
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert {k: v for k, v in json.loads(meta.group(1)).items() if k in HTMX_CONFIG} == HTMX_CONFIG


INLINE_HANDLER = re.compile(r"\b(?:data-)?hx-on\b|\bhx-on[:-]", re.IGNORECASE)


def test_no_template_static_file_or_module_uses_hx_on():
    """hx-on runs its attribute as code: with allowEval off htmx refuses it, and none may be written."""
    offenders = []
    for folder, patterns in (
        ("templates", ["*.html", "*.txt", "*.xml"]),
        ("static", ["*.js", "*.css", "*.html"]),
        ("peaceplans", ["*.py", "*.html"]),
    ):
        for pattern in patterns:
            for file in (ROOT / folder).rglob(pattern):
                if INLINE_HANDLER.search(file.read_text(errors="replace")):
                    offenders.append(str(file.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.parametrize(
    "sample", ['<b hx-on:click="x">', "<b hx-on-click=x>", "<b data-hx-on:click=x>", "<b HX-ON='x'>"]
)
def test_the_hx_on_scan_would_catch_it(sample):
    assert INLINE_HANDLER.search(sample)


def test_public_pages_do_not_vary_on_cookie_for_the_session_check(client):
    """The session limits read the session only when a session cookie came: embeds keep a cookie-free Vary."""
    response = client.get(f"/embed/plans/{PLAN}/points/6/")
    assert "Cookie" not in response.get("Vary", "")


def test_headers_middleware_is_outermost():
    from django.conf import settings

    assert settings.MIDDLEWARE[0] == "peaceplans.ops.security.SecurityHeadersMiddleware"


def test_a_response_that_sets_its_own_policy_keeps_it(rf):
    """setdefault: a view's stricter or looser header (the embeds' frame-ancestors) is never overwritten."""
    own = HttpResponse("x", headers={"Cross-Origin-Resource-Policy": "same-site", "Permissions-Policy": "camera=()"})
    response = security.SecurityHeadersMiddleware(lambda request: own)(rf.get("/"))
    assert response["Cross-Origin-Resource-Policy"] == "same-site" and response["Permissions-Policy"] == "camera=()"
    assert csp(response) == SITE_CSP


ADMIN_PAGES = [url for name, url, _, staff in RESPONSE_CLASSES if url.startswith("/admin/") and staff == 200] + [
    "/admin/auth/user/",
    "/admin/peaceplans/revision/add/",
]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_have_no_inline_script_style_or_handler(staff_client, url):
    """What the CSP would refuse, found in the HTML itself (tests/browser/test_csp.py watches Chromium)."""
    html = staff_client.get(url).content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html) == []
    assert re.findall(r"\sstyle=|<style", html) == []
    assert re.findall(r"\son[a-z]+\s*=", html) == []
    assert "javascript:" not in html


def test_every_frameable_route_is_under_the_embed_prefix():
    """The headers middleware tells embeds apart by address: every route other sites may frame must be under it."""
    from django.urls import get_resolver

    framed = {}
    for pattern in get_resolver().url_patterns:
        view = getattr(pattern, "callback", None)
        if view is not None and view.__module__ == "peaceplans.publish.embeds" and pattern.name != "oembed":
            framed[pattern.name] = str(pattern.pattern)
    assert set(framed) == {"embed_point", "embed_compare"}
    assert all(("/" + route).startswith(surface.EMBED_PREFIX) for route in framed.values()), framed
    assert reverse("embed_point", kwargs={"plan": PLAN, "point": "6"}).startswith(surface.EMBED_PREFIX)
