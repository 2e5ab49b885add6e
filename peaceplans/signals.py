"""
The data version (ops/dataversion.py) advances with every write made through a model: the
admin's saves and deletes, many-to-many changes, loaddata, history reverts, and a user's name
(notes show their author). Connected once, in apps.py.

Each receiver pair follows models.version.around_write: inside a transaction the token is
written before the row (pre_save, pre_delete, m2m pre_*), in autocommit just after it
(post_save, post_delete, m2m post_*). Models of migrations' historical states are other
classes, so a migration's own writes are not counted one by one: `post_migrate` gives one new
version for all of it.
"""

import functools

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save, pre_delete, pre_save
from django.dispatch import receiver

from peaceplans.models import DataVersion, StoredDiff
from peaceplans.ops import dataversion

# A sign-in stamps last_login: not a change anyone reads, and it must not empty the cache.
UNREAD_USER_FIELDS = frozenset({"last_login"})


@functools.cache
def app_models() -> frozenset:
    """
    The app's models, their history and their many-to-many links: everything public pages are made
    from. Not the data version itself, nor the stored diffs: they are derived from the texts and
    written with them (editing/diffs.py), so storing one changes nothing a page shows.
    """
    models = apps.get_app_config("peaceplans").get_models(include_auto_created=True)
    return frozenset(model for model in models if model not in (DataVersion, StoredDiff))


def shows(sender, update_fields=None) -> bool:
    """Whether a write to this model can change what a page shows."""
    if sender in app_models():
        return True
    return sender is get_user_model() and not (update_fields and set(update_fields) <= UNREAD_USER_FIELDS)


def before_write(sender, using: str, update_fields=None) -> None:
    if connections[using].in_atomic_block and shows(sender, update_fields):
        dataversion.bump(using)


def after_write(sender, using: str, update_fields=None) -> None:
    if not connections[using].in_atomic_block and shows(sender, update_fields):
        dataversion.bump(using)


@receiver(pre_save, dispatch_uid="dataversion_pre_save")
@receiver(pre_delete, dispatch_uid="dataversion_pre_delete")
def _before_save_or_delete(sender, using, update_fields=None, **kwargs):
    before_write(sender, using, update_fields)


@receiver(post_save, dispatch_uid="dataversion_post_save")
@receiver(post_delete, dispatch_uid="dataversion_post_delete")
def _after_save_or_delete(sender, using, update_fields=None, **kwargs):
    after_write(sender, using, update_fields)


@receiver(m2m_changed, dispatch_uid="dataversion_m2m_changed")
def _m2m_changed(sender, action, using, **kwargs):
    if action.startswith("pre_"):
        before_write(sender, using)
    else:
        after_write(sender, using)


@receiver(post_migrate, dispatch_uid="dataversion_post_migrate")
def _after_migrate(sender, app_config, using, **kwargs):
    """A migration (or `flush`) may change anything a page shows: one new version for all of it."""
    if app_config.label != "peaceplans":
        return
    # Migrated back past 0006, the table is gone: nothing to advance.
    if DataVersion._meta.db_table in connections[using].introspection.table_names():
        dataversion.bump(using)
    refresh_notes_after_migrate(kwargs.get("apps"), using)


def refresh_notes_after_migrate(state_apps, using: str) -> None:
    """Notes rendered by another sanitizer version are rendered again (issue 18): once per deploy, not per request."""
    from peaceplans.editing.services import refresh_note_html

    try:
        state = state_apps.get_model("peaceplans", "Annotation") if state_apps is not None else None
    except LookupError:
        return
    # Migrated back before 0013, the columns are gone; on another database than the default, leave it.
    if state is None or "body_html_version" not in {f.name for f in state._meta.get_fields()} or using != "default":
        return
    refresh_note_html()
