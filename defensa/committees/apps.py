from django.apps import AppConfig


class CommitteesConfig(AppConfig):
    name = "defensa.committees"
    label = "committees"

    def ready(self) -> None:
        # Shift reminders and recovery requests store only ids; names and times load at
        # send time.
        from defensa.committees import messages, sms
        from defensa.notify import inbound

        messages.register()
        # A member without a smartphone joins by texting the code of their invitation.
        inbound.register_keyword(sms.KEYWORDS, sms.handle_text)
