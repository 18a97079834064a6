from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "defensa.dispatch"
    label = "dispatch"

    def ready(self) -> None:
        # Alerts store only ids; the link and the incident are loaded at send time.
        from defensa.dispatch import messages, signals  # noqa: F401 (signals: receivers)

        messages.register()
        messages.register_response()
