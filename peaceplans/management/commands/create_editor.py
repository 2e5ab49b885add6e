"""python manage.py create_editor USERNAME: a staff account in the Editors group."""

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Create an editor: staff, in the Editors group, not a superuser. Password asked for, or from EDITOR_PASSWORD."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")

    def handle(self, username: str, email: str, **options):
        User = get_user_model()
        username = username.strip()
        if not username or len(username) > 150:
            raise CommandError("Give a user name of 1 to 150 characters.")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user called {username!r} already exists; nothing was changed.")
        group = Group.objects.filter(name="Editors").first()
        if group is None:
            raise CommandError("The Editors group is missing: run `manage.py migrate` first.")
        password = os.environ.get("EDITOR_PASSWORD") or self.ask_password()
        user = User(username=username, email=email, is_staff=True)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        with transaction.atomic():
            user.set_password(password)
            user.save()
            user.groups.add(group)
        self.stdout.write(f"Editor {username!r} created. Sign in at /admin/.")

    def ask_password(self) -> str:
        if not os.isatty(0):
            raise CommandError("No terminal to ask for a password: set EDITOR_PASSWORD.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords differ; nothing was created.")
        return first
