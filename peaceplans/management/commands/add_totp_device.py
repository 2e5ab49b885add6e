"""python manage.py add_totp_device USERNAME: enrol a staff member's authenticator app for two-factor sign-in."""

from base64 import b32encode

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Give a staff account a TOTP authenticator and print its secret once, as an otpauth:// address and as "
        "base32 text, for the user to add to their authenticator app. --replace swaps a lost one for a new one."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--replace", action="store_true", help="Remove the account's authenticators first.")

    def handle(self, username: str, replace: bool, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user called {username!r}.")
        if not user.is_staff:
            raise CommandError(f"{username!r} is not staff: only staff sign in to the admin.")
        existing = TOTPDevice.objects.filter(user=user)
        if existing.exists() and not replace:
            raise CommandError(
                f"{username!r} already has an authenticator; nothing was changed. "
                "To replace it (lost phone), run again with --replace."
            )
        with transaction.atomic():
            existing.delete()
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        secret = b32encode(device.bin_key).decode()
        self.stdout.write(
            f"Authenticator enrolled for {username!r}. Give these to them privately; they are not shown again.\n"
            f"Address for the authenticator app (or a QR code made from it):\n  {device.config_url}\n"
            f"Or type in this key (time-based, 6 digits, 30 seconds):\n  {secret}\n"
        )
