from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PeaceplansConfig(AppConfig):
    name = "peaceplans"
    verbose_name = "Peace plans"

    def ready(self):
        # Modules that connect signal receivers when imported (backups: loaddata adds no history rows).
        import peaceplans.editing.diffs  # noqa: F401  (stored word diffs)
        import peaceplans.editing.signin  # noqa: F401
        import peaceplans.ops.backups  # noqa: F401
        import peaceplans.ops.security  # noqa: F401
        import peaceplans.search.signals  # noqa: F401
        import peaceplans.signals  # noqa: F401  (the data version)


class StaffAdminConfig(admin_apps.AdminConfig):
    """
    django.contrib.admin with the staff sign-in's site (peaceplans/editing/signin.py) as `admin.site`, so
    every registration keeps working. Authenticators are managed with `manage.py add_totp_device`,
    not in the admin: a stolen admin session must not be able to read or add a second factor.
    """

    default = False  # named in INSTALLED_APPS; "peaceplans" itself stays PeaceplansConfig
    default_site = "peaceplans.editing.signin.StaffAdminSite"

    def ready(self):
        super().ready()
        from django.contrib import admin
        from django_otp.plugins.otp_totp.models import TOTPDevice

        if admin.site.is_registered(TOTPDevice):
            admin.site.unregister(TOTPDevice)
