"""
Staff sign-in: who may try, how often, with what second factor, and the record of it.

- Throttling is django-axes with its database handler: a lock is a row in the shared database,
  so every app server honours it. `SignInAttempts` gives each lockout parameter its own limit
  (settings "Staff sign-in"): the user name from one address, the user name from anywhere, and
  one address across user names.
- The client's address is REMOTE_ADDR; behind a proxy (DJANGO_BEHIND_PROXY=1) it is read from
  X-Forwarded-For, counting DJANGO_PROXY_COUNT entries from the right, the ones our own proxies
  wrote. Entries further left come from the client and are never believed.
- The second factor is a TOTP code (django-otp), asked on the admin's login form when
  PEACEPLANS_REQUIRE_2FA is on; `StaffAdminSite` then admits only sessions verified by it.
  Authenticators are enrolled with `manage.py add_totp_device`.
- Sign-ins, failed sign-ins, lockouts and every 403 go to the `peaceplans.ops.security` logger,
  with the user name tried and the client's address, never a password or a code.
"""

import ipaddress
import logging
import re

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit, get_lockout_parameters
from axes.signals import user_locked_out
from django import forms
from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.dispatch import receiver
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django_otp.plugins.otp_totp.models import TOTPDevice

log = logging.getLogger("peaceplans.security")
SIX_DIGITS = re.compile(r"[0-9]{6}")  # ASCII only: int() would also read Arabic-Indic digits


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind our own proxies the entry they added to X-Forwarded-For."""
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR") or None
    hops = settings.PEACEPLANS_PROXY_COUNT
    if not hops:
        return remote
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < hops:
        return remote  # fewer entries than proxies: the request did not come through them all
    try:
        return str(ipaddress.ip_address(forwarded[-hops]))
    except ValueError:
        return remote


class SignInAttempts(AxesDatabaseHandler):
    """
    Axes' database handler, with a limit for each lockout parameter instead of one for all.

    Axes locks when `get_failures()` reaches AXES_FAILURE_LIMIT. Here each parameter's failures
    are scaled to that limit by its own (PEACEPLANS_LOCKOUT_LIMITS; AXES_FAILURE_LIMIT if absent):
    with a limit of 5 and 20 for the user name alone, 20 failures from anywhere count as 5.
    """

    def get_failures(self, request, credentials=None) -> int:
        limit = get_failure_limit(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        worst = 0
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            name = parameter if isinstance(parameter, str) else "+".join(parameter)
            own_limit = settings.PEACEPLANS_LOCKOUT_LIMITS.get(name, limit)
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            worst = max(worst, failures * limit // own_limit)
        return worst


def lockout_response(request, original_response=None, credentials=None):
    """The 429 page for a locked sign-in (AXES_LOCKOUT_CALLABLE), with Retry-After."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60))
    response = render(request, "peaceplans/signin/locked.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


# Two-factor sign-in


def two_factor_required() -> bool:
    return bool(settings.PEACEPLANS_REQUIRE_2FA)


class StaffAuthenticationForm(AdminAuthenticationForm):
    """
    The admin's login form, which also asks for the code of the user's authenticator when two-factor
    sign-in is required. A wrong or missing code gets the same answer as a wrong password and counts
    as a failed sign-in, so axes throttles guessing codes as it does passwords.
    """

    otp_token = forms.CharField(
        label="Six-digit code from your authenticator app",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    two_factor_errors = {
        "invalid_login": "Please enter the correct %(username)s, password and six-digit code.",
        "no_device": (
            "This account has no authenticator app yet, and this site requires one. "
            "Ask the site's administrator to enrol one for you (manage.py add_totp_device)."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        if two_factor_required():
            self.error_messages = {**self.error_messages, **self.two_factor_errors}
        else:
            del self.fields["otp_token"]

    def clean(self):
        cleaned_data = super().clean()  # the password, checked by axes and then the model backend
        if two_factor_required() and self.user_cache is not None:
            # django-otp's attribute (django_otp.login sets it too); it ships no types to declare it.
            self.user_cache.otp_device = self.verified_device(self.user_cache)  # type: ignore[attr-defined]
        return cleaned_data

    def verified_device(self, user) -> TOTPDevice:
        token = "".join(self.cleaned_data.get("otp_token", "").split())
        with transaction.atomic():
            devices = list(TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update())
            if not devices:
                raise forms.ValidationError(self.error_messages["no_device"], code="no_device")
            for device in devices:
                if SIX_DIGITS.fullmatch(token) and device.verify_token(token):
                    return device
        user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=self.request)
        raise self.get_invalid_login_error()


class StaffAdminSite(AdminSite):
    """`admin.site` (via peaceplans.apps.StaffAdminConfig): when 2FA is required, only staff verified by a code."""

    login_form = StaffAuthenticationForm
    login_template = "peaceplans/signin/login.html"

    def has_permission(self, request) -> bool:
        if not super().has_permission(request):
            return False
        return not two_factor_required() or request.user.is_verified()

    def autocomplete_view(self, request):
        """The choosers' search, ranked and labelled as each model's admin says (editing/choosers.py)."""
        from peaceplans.editing.choosers import ChooserSearchView

        return ChooserSearchView.as_view(admin_site=self)(request)

    def get_urls(self):
        """The admin's URLs, with "view on site" limited to those who may view the object in the admin."""
        urls = super().get_urls()
        for index, pattern in enumerate(urls):
            if getattr(pattern, "name", None) == "view_on_site":
                urls[index] = path(str(pattern.pattern), self.admin_view(self.view_on_site), name="view_on_site")
        return urls

    def view_on_site(self, request, content_type_id, object_id):
        """
        Django's "view on site" redirect, for staff who may view that kind of object here: it turns
        any object's id into its public address, which a staff account outside the Editors group
        must not learn for objects the public site does not show.
        """
        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except (ValueError, ContentType.DoesNotExist):
            raise Http404("No such kind of object.") from None
        model_admin = self._registry.get(model) if model is not None else None  # None: a stale content type
        if model_admin is None or not model_admin.has_view_permission(request):
            raise PermissionDenied
        return contenttype_views.shortcut(request, content_type_id, object_id)


# The security log


def _username(value) -> str:
    return repr(str(value)[:150])  # repr: a name with newlines or escapes cannot forge log lines


@receiver(user_logged_in, dispatch_uid="peaceplans.editing.signin.log_sign_in")
def log_sign_in(sender, request, user, **kwargs):
    log.info(
        "sign-in: username=%s ip=%s two_factor=%s",
        _username(user.get_username()),
        client_ip(request),
        "yes" if getattr(user, "otp_device", None) else "no",
    )


@receiver(user_login_failed, dispatch_uid="peaceplans.editing.signin.log_failed_sign_in")
def log_failed_sign_in(sender, credentials, request=None, **kwargs):
    log.warning("sign-in failed: username=%s ip=%s", _username(credentials.get("username", "")), client_ip(request))


@receiver(user_locked_out, dispatch_uid="peaceplans.editing.signin.log_lockout")
def log_lockout(sender, request, username, ip_address, **kwargs):
    log.warning("sign-in locked out: username=%s ip=%s", _username(username or ""), ip_address)


class RefusalLogMiddleware:
    """Logs every 403 (the admin's PermissionDenied, CSRF failures, any view's refusal) to peaceplans.ops.security."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            user = getattr(request, "user", None)
            log.warning(
                "permission refused: %s %s username=%s ip=%s",
                request.method,
                repr(request.path[:300]),
                _username(user.get_username()) if user is not None and user.is_authenticated else "(anonymous)",
                client_ip(request),
            )
        return response
