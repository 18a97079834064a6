from django.apps import AppConfig


class AccompanimentConfig(AppConfig):
    name = "defensa.accompaniment"
    label = "accompaniment"

    def ready(self) -> None:
        # Reminders and alerts store only ids; places, times and links load at send time.
        from defensa.accompaniment import messages, sms
        from defensa.notify import inbound

        messages.register()
        # A companion's one-word check-in by text is not a report. Asked first: its words are
        # exact and its window narrow, so a verifier's offer must not take them as free text.
        inbound.register_matcher(sms.match_text, first=True)
