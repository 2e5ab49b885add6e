"""
The data version: what the page cache (middleware.py) keys on, so that an edit shows on the
next request on every server, with no waiting for a timeout.

Where it lives. One row, models.DataVersion, in the database: the one store every app server
agrees on. Not in the cache: local memory is private to each gunicorn worker, and a Redis
flush or eviction must never bring back an old version. When Redis is flushed the pages are
simply rendered again; when it is down they are served uncached (middleware.py).

What it is. A random token, not a counter: a rolled-back transaction, a restored backup or a
test's rollback brings an earlier token back together with exactly the data it named, so one
token never names two different states of the data.

How it advances. A wrapper on every database connection looks at each SQL statement; a write
to one of the app's tables (models, their history, many-to-many links and the search index),
a SELECT ... FOR UPDATE of them, or a change to a user's name (notes show it) gives the row a
new token. SQL rather than model signals because QuerySet.update(), bulk_create(), data
migrations and the search index's raw SQL send no signals: every write passes through here.
- Inside a transaction the token is written just before the statement, in the same
  transaction: readers see the new token and the new data together at commit, never one
  without the other. The version row is then the first row every writing transaction locks,
  so two writers cannot deadlock on it by locking other rows in a different order.
- In autocommit the token is written just after the statement: a reader may see new data
  under the old token for a moment (that token is dead a moment later), never old data under
  the new one.
The cost is one UPDATE of one row per writing statement (an import of a revision: a few
hundred), and a string test on every other statement.

How it is read. `current()`: one primary-key SELECT per anonymous GET or HEAD, and nothing else.
"""

import functools
import hashlib
import importlib.metadata
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate
from django.dispatch import receiver
from django.utils import timezone

from peaceplans.models import DataVersion

APP_TABLES = "peaceplans_"
WRITE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
# A login stamps last_login: not a change anyone reads, and it must not empty the cache.
LAST_LOGIN_ONLY = re.compile(r'\s*UPDATE\s+"?\w+"?\s+SET\s+"?last_login"?\s*=\s*%s\s+WHERE\s', re.IGNORECASE)
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
    token, now = secrets.token_hex(16), timezone.now()
    versions = DataVersion.objects.using(using)
    if versions.filter(pk=1).update(token=token, changed_at=now):
        return
    try:
        with transaction.atomic(using=using):
            versions.create(pk=1, token=token, changed_at=now)
    except IntegrityError:  # another writer recreated it first
        versions.filter(pk=1).update(token=token, changed_at=now)


# ---- Watching every write ----

_migrating = False


@functools.cache
def _watched_tables() -> tuple[str, str]:
    return DataVersion._meta.db_table, get_user_model()._meta.db_table


def changes_data(sql: str) -> bool:
    """Whether a statement writes (or locks to write) the data public pages show."""
    head = sql[:7].lstrip().upper()
    if head.startswith("SELECT"):
        return APP_TABLES in sql and (" FOR UPDATE" in sql or " FOR NO KEY UPDATE" in sql)
    if not head.startswith(("INSERT", "UPDATE", "DELETE", "REPLACE")):
        return False
    match = WRITE.match(sql)
    if match is None:
        return False
    table = match.group(1)
    version_table, user_table = _watched_tables()
    if table.startswith(APP_TABLES):
        return table != version_table
    return table == user_table and not LAST_LOGIN_ONLY.match(sql)


def _watch(execute, sql, params, many, context):
    """The execute wrapper: bump the version with every write to the data (see the module docstring)."""
    if _migrating or not changes_data(sql):
        return execute(sql, params, many, context)
    connection = context["connection"]
    if connection.in_atomic_block:
        bump(connection.alias)
        return execute(sql, params, many, context)
    result = execute(sql, params, many, context)
    bump(connection.alias)
    return result


def watch(connection) -> None:
    """Install the wrapper on a connection, once (wrappers live on the connection object, across reconnects)."""
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _watch)


@receiver(connection_created, dispatch_uid="caching_watch_connection")
def _connection_created(sender, connection, **kwargs):
    watch(connection)


def watch_open_connections() -> None:
    """For connections opened before the app was ready (AppConfig.ready calls this)."""
    for connection in connections.all(initialized_only=True):
        watch(connection)


@receiver(pre_migrate, dispatch_uid="caching_pre_migrate")
def _pre_migrate(sender, **kwargs):
    """While migrating, the version's table may not exist yet: writes are not watched."""
    global _migrating
    _migrating = True


@receiver(post_migrate, dispatch_uid="caching_post_migrate")
def _post_migrate(sender, app_config, using, **kwargs):
    """A migration (or `flush`) may change anything a page shows: one new version for all of it."""
    global _migrating
    # Migrated back past 0006, the table is gone: writes stay unwatched in this process.
    _migrating = DataVersion._meta.db_table not in connections[using].introspection.table_names()
    if app_config.label == "peaceplans" and not _migrating:
        bump(using)


@receiver(setting_changed, dispatch_uid="caching_setting_changed")
def _setting_changed(*, setting, **kwargs):
    if setting == "AUTH_USER_MODEL":
        _watched_tables.cache_clear()


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
