from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "defensa.notify"
    label = "notify"
    verbose_name = _("Delivery engine")

    def ready(self) -> None:
        from defensa.notify import messages

        messages.register()
