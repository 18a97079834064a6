from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "defensa.reports"
    label = "reports"

    def ready(self) -> None:
        # notify cannot import reports (apps depend downward): reports registers itself.
        from defensa.notify import inbound, messages
        from defensa.reports import sms

        inbound.register_handler(sms.handle_text)
        messages.register_context(sms.REPLY_TEMPLATE, sms.reply_context)
        # A reporter has no account: only network administrators see these deliveries anyway.
        messages.register_compartment(messages.GENERAL, sms.REPLY_TEMPLATE)
