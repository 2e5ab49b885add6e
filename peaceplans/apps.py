from django.apps import AppConfig


class PeaceplansConfig(AppConfig):
    name = "peaceplans"
    verbose_name = "Peace plans"
