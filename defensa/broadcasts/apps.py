from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    name = "defensa.broadcasts"
    label = "broadcasts"

    def ready(self) -> None:
        # A broadcast's deliveries store only its id; the text is loaded at send time.
        from defensa.broadcasts import messages

        messages.register()
