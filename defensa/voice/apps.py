from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "defensa.voice"
    label = "voice"

    def ready(self) -> None:
        from defensa.reports.routing import register_number_owner
        from defensa.voice import messages, routing

        messages.register()
        # A text to a hotline number without a place goes to that hotline's committee.
        register_number_owner(routing.committee_of_number)
