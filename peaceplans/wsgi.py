"""WSGI entry point, used by gunicorn (`make run`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peaceplans.settings")

application = get_wsgi_application()
