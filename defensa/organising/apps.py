from django.apps import AppConfig


class OrganisingConfig(AppConfig):
    name = "defensa.organising"
    label = "organising"

    def ready(self) -> None:
        # notify sits below organising: organising claims its SMS keywords and message contexts.
        from defensa.notify import inbound
        from defensa.organising import messages, sms

        inbound.register_keyword(sms.KEYWORDS, sms.handle_text)
        messages.register()
