from django.apps import AppConfig


class PeaceplansConfig(AppConfig):
    name = "peaceplans"
    verbose_name = "Peace plans"

    def ready(self):
        from . import caching, search  # noqa: F401 (search connects the signals that keep its index exact)

        caching.watch_open_connections()  # and every connection opened later: each write moves the data version
