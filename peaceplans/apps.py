from django.apps import AppConfig


class PeaceplansConfig(AppConfig):
    name = "peaceplans"
    verbose_name = "Peace plans"

    def ready(self):
        from . import search  # noqa: F401 (connects the signals that keep the search index exact)
