from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "defensa.cases"
    label = "cases"

    def ready(self) -> None:
        # Messages store ids only; names, instructions and links are loaded at send time.
        from defensa.cases import messages, sms
        from defensa.notify import inbound

        messages.register()
        # A text from a triggered plan's member or contacts is about its case, not a report.
        inbound.register_matcher(sms.match_text)
