from django.apps import AppConfig


class AccompanimentConfig(AppConfig):
    name = "defensa.accompaniment"
    label = "accompaniment"

    def ready(self) -> None:
        # Reminders and alerts store only ids; places, times and links load at send time.
        from defensa.accompaniment import messages

        messages.register()
