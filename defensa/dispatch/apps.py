from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "defensa.dispatch"
    label = "dispatch"

    def ready(self) -> None:
        # Alerts store only ids; the link and the incident are loaded at send time.
        from defensa.dispatch import messages, signals, sms  # noqa: F401 (signals: receivers)
        from defensa.notify import inbound
        from defensa.notify import messages as notify_messages

        messages.register()
        messages.register_response()
        # A text from a verifier with a recent offer is their answer, not a new report.
        inbound.register_matcher(sms.match_text)
        # Any other text from a member is a message to their dispatchers: asked last, after
        # the check-ins' and emergency plans' matchers.
        inbound.register_matcher(sms.match_member_text, last=True)
        notify_messages.register_context(sms.REPLY_TEMPLATE, sms.reply_context)
        notify_messages.register_compartment(notify_messages.GENERAL, sms.REPLY_TEMPLATE)
