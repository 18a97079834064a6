from django.apps import AppConfig


class PledgesConfig(AppConfig):
    name = "defensa.pledges"
    label = "pledges"

    def ready(self) -> None:
        # notify sits below pledges: pledges claims its SMS keywords and message contexts.
        from defensa.notify import inbound
        from defensa.pledges import messages, sms

        inbound.register_keyword(sms.KEYWORDS, sms.handle_text)
        messages.register()
