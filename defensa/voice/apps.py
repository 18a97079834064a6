from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "defensa.voice"
    label = "voice"

    def ready(self) -> None:
        from defensa.voice import messages

        messages.register()
