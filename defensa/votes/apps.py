from django.apps import AppConfig


class VotesConfig(AppConfig):
    name = "defensa.votes"
    label = "votes"

    def ready(self) -> None:
        # notify sits below votes: votes claims its SMS keywords and message contexts.
        from defensa.notify import inbound
        from defensa.votes import messages, sms

        inbound.register_keyword(sms.KEYWORDS, sms.handle_text)
        messages.register()
