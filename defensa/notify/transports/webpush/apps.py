from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebPushConfig(AppConfig):
    name = "defensa.notify.transports.webpush"
    label = "webpush"
    verbose_name = _("Device notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from defensa.notify.transports.webpush import checks, signals  # noqa: F401
