"""
The data version: what the page cache (ops/pagecache.py) keys on, so that an edit shows on the
next request on every server, with no waiting for a timeout.

Where it lives. One row, models.DataVersion, in the database: the one store every app server
agrees on. Not in the cache: local memory is private to each gunicorn worker, and a Redis
flush or eviction must never bring back an old version. When Redis is flushed the pages are
simply rendered again; when it is down they are served uncached (ops/pagecache.py).

What it is. A random token, not a counter: a rolled-back transaction, a restored backup or a
test's rollback brings an earlier token back together with exactly the data it named, so one
token never names two different states of the data.

How it advances. Writes advance it where they happen, in the same transaction (see
models/version.py for the ordering that keeps readers and writers right):
- services call `bump()` first thing in their transaction (editing/services.py, synthetic/);
- peaceplans/signals.py advances it for every save, delete and many-to-many change made through
  the app's models or to a user's name (the admin, loaddata, history reverts), and once after
  `migrate` or `flush`;
- models.VersionedQuerySet advances it for QuerySet.update(), bulk_create() and bulk_update().
A write none of these sees (raw SQL, a bulk update of auth.User) must call `bump()` itself.

How it is read. `current()`: one primary-key SELECT per anonymous GET or HEAD, and nothing else.
"""

import functools
import hashlib
import importlib.metadata
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from peaceplans.models import DataVersion

# Packages whose templates, tags or static files end up in our pages.
RENDERING_PACKAGES = ("Django", "django-htmx", "django-tables2", "django-filter")


@dataclass(frozen=True)
class Version:
    token: str
    changed_at: datetime


def current(using: str = DEFAULT_DB_ALIAS) -> Version | None:
    """
    The data's version now, or None when the row is missing: then nothing is cached. One
    primary-key SELECT in plain SQL: every anonymous request pays for it, and the ORM would
    spend longer building the query than the database takes to answer it.
    """
    connection = connections[using]
    table = connection.ops.quote_name(DataVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token, changed_at FROM {table} WHERE id = 1")  # noqa: S608 (our own table name)
        row = cursor.fetchone()
    if row is None:
        return None
    token, changed_at = row
    if timezone.is_naive(changed_at):  # SQLite keeps UTC without a zone; PostgreSQL answers with one
        changed_at = changed_at.replace(tzinfo=UTC)
    return Version(token, changed_at)


def bump(using: str = DEFAULT_DB_ALIAS) -> None:
    """Give the data a new version, in the caller's transaction; recreate the row if it went missing."""
    DataVersion.advance(using)


# ---- The code that renders the pages ----


@functools.cache
def release() -> str:
    """
    A fingerprint of the code, templates and static files that render the pages. Cache keys
    carry it, so a deploy never serves pages rendered by the previous code (they could name
    static files that no longer exist) from a cache shared with it. The same files give the
    same fingerprint on every server; computed once per process (about 100 small files).
    """
    digest = hashlib.sha256()
    base = settings.BASE_DIR
    for folder, pattern in (("peaceplans", "**/*.py"), ("templates", "**/*"), ("static", "**/*")):
        for path in sorted((base / folder).glob(pattern)):
            if path.is_file():
                digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes() + b"\0")
    for package in RENDERING_PACKAGES:
        digest.update(f"{package}=={importlib.metadata.version(package)}\0".encode())
    return digest.hexdigest()[:16]
