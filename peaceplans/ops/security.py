"""
Security headers on every response, and the limits of a signed-in session.

`SecurityHeadersMiddleware` is the outermost middleware (settings.MIDDLEWARE), so it sees
every response the site sends: rendered pages, page-cache hits and 304s, static files from
whitenoise, the HTTPS redirect and the refusals of peaceplans/ops/limits.py. It adds what
Django's SecurityMiddleware does not (Cross-Origin-Resource-Policy, Permissions-Policy), and
fills in the Content-Security-Policy and X-Frame-Options wherever the inner middleware left
them out (a 304 carries only the headers RFC 9110 names; whitenoise answers before the CSP
middleware runs). What it fills in depends on the address alone, never on the view, because
a cache hit or a 304 never reaches the view: under /embed/ the embeds' policy (any site may
frame them; one script of ours, see EMBED_CSP), everywhere else the site's.

`SessionLimitsMiddleware` signs a user out after PEACEPLANS_SESSION_IDLE_SECONDS without a
request and PEACEPLANS_SESSION_MAX_SECONDS after signing in, whatever the activity; the admin
then asks them to sign in again, with a message saying why. The times live in the session
(in the database, SESSION_ENGINE), stamped at sign-in by `stamp_sign_in`. Embeds read no
session, so they neither extend nor end one.

`server_error` and `csrf_failure` are the 500 page and the page for a refused form: both
render without anything that could fail in turn, and without Django's inline styles.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseServerError
from django.template import loader
from django.utils.csp import CSP, build_policy
from django.utils.html import escape

from peaceplans.ops.surface import Surface, surface

# Browser features no page of ours uses, refused to every page and every frame inside one.
# Only names Chromium knows (an unknown one is a console error): interest-cohort (FLoC) is
# gone, browsing-topics is its successor. clipboard-write stays at its default (self): the
# "Copy citation" button (static/peaceplans/copy.js) writes to the clipboard.
DENIED_FEATURES = (
    "accelerometer",
    "autoplay",
    "browsing-topics",
    "camera",
    "display-capture",
    "encrypted-media",
    "fullscreen",
    "geolocation",
    "gyroscope",
    "hid",
    "identity-credentials-get",
    "idle-detection",
    "local-fonts",
    "magnetometer",
    "microphone",
    "midi",
    "otp-credentials",
    "payment",
    "picture-in-picture",
    "publickey-credentials-create",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "storage-access",
    "usb",
    "window-management",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)

# The embeds' policy (publish/embeds.py sends it from its views too): the site's, except that any
# page may frame them. Their one script (static/peaceplans/embed.js, which posts the embed's height
# to the framing page) is a file from 'self', as everywhere on the site; nothing inline. What the
# site allows and that script does not need is taken away: it fetches nothing (connect-src), and
# writes no HTML into the page (Trusted Types with no policy: any such write throws). They may also
# be loaded from another origin, by a page that isolates itself (COEP require-corp).
EMBED_CSP: dict[str, list[str]] = {
    **settings.SECURE_CSP,
    "frame-ancestors": ["*"],
    "script-src": [CSP.SELF],
    "connect-src": [CSP.NONE],
    "require-trusted-types-for": ["'script'"],
    "trusted-types": [CSP.NONE],
}


def is_embed(request) -> bool:
    return surface(request) is Surface.EMBED


class SecurityHeadersMiddleware:
    """The headers every response carries; see the module's docstring and docs/security.md."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.site_csp = build_policy(settings.SECURE_CSP) if settings.SECURE_CSP else ""
        self.embed_csp = build_policy(EMBED_CSP) if settings.SECURE_CSP else ""

    def __call__(self, request):
        response = self.get_response(request)
        embed = is_embed(request)
        headers = response.headers
        headers.setdefault("Cross-Origin-Resource-Policy", "cross-origin" if embed else "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if self.site_csp:
            headers.setdefault(str(CSP.HEADER_ENFORCE), self.embed_csp if embed else self.site_csp)
        if not embed and not getattr(response, "xframe_options_exempt", False):
            headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        return response


# Session limits


LOGIN_AT = "peaceplans_login_at"
SEEN_AT = "peaceplans_seen_at"
# Seeing a request refreshes the session's last-activity time at most this often: a write to
# the session table per minute, not per request. The idle limit is exact to this many seconds.
SEEN_RESOLUTION = 60


@receiver(user_logged_in, dispatch_uid="peaceplans.ops.security.stamp_sign_in")
def stamp_sign_in(sender, request, user, **kwargs):
    """The session's start (Django has just given it a new key): the 8-hour limit counts from here."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[LOGIN_AT] = now
        request.session[SEEN_AT] = now


def expired(session, now: float) -> str:
    """Why a signed-in session is over ("" while it is not). A session without its times predates them: over."""
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return "Please sign in again."
    if now - login_at > settings.PEACEPLANS_SESSION_MAX_SECONDS:
        hours = settings.PEACEPLANS_SESSION_MAX_SECONDS / 3600
        return f"You were signed out {hours:g} hours after signing in. Please sign in again."
    if now - seen_at > settings.PEACEPLANS_SESSION_IDLE_SECONDS:
        minutes = settings.PEACEPLANS_SESSION_IDLE_SECONDS // 60
        return f"You were signed out after {minutes} minutes without activity. Please sign in again."
    return ""


class SessionLimitsMiddleware:
    """Signs out a session idle too long or signed in too long ago; after MessageMiddleware, before any view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only a request with a session cookie can be signed in; others must not even load the
        # (empty) session, which would add "Vary: Cookie" to every public page. Embeds read no
        # session at all (the same answer for everyone, framed on other sites, where a Lax
        # cookie is not sent anyway): they neither extend nor end one.
        if is_embed(request) or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)
        if request.user.is_authenticated:
            now = time.time()
            reason = expired(request.session, now)
            if reason:
                logout(request)  # flushes the session: a new key, no data; the admin then shows its login
                messages.warning(request, reason)
            elif now - request.session[SEEN_AT] >= SEEN_RESOLUTION:
                request.session[SEEN_AT] = int(now)
        return self.get_response(request)


# Error pages that cannot fail


FALLBACK_500 = (
    "<!doctype html>\n<html lang=en><meta charset=utf-8><title>Server error · peaceplans</title>"
    "<h1>Something went wrong on our side</h1><p>The error has been logged. Please try again in a moment.</p></html>\n"
)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: templates/500.html (no request, no database), or a fixed page if even that fails."""
    try:
        content = loader.render_to_string("500.html")
    except Exception:  # a missing static manifest entry, a broken template: the error page must still answer
        content = FALLBACK_500
    return HttpResponseServerError(content)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the site's 403 page (Django's own carries an inline <style> the CSP refuses)."""
    message = (
        "This form was refused because it did not come with this site's security token, which happens "
        "when a page was open for a long time or cookies are blocked. Go back, reload the page and send it again."
    )
    try:
        content = loader.render_to_string("403.html", {"message": message}, request)
    except Exception:
        content = f"<!doctype html>\n<html lang=en><meta charset=utf-8><title>Forbidden</title><p>{escape(message)}"
    return HttpResponseForbidden(content)
