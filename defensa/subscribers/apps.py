from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    name = "defensa.subscribers"
    label = "subscribers"

    def ready(self) -> None:
        # notify sits below subscribers: subscribers claims its keyword's texts (a matcher),
        # hears of every opt-out (STOP ends a subscription at once) and registers its
        # messages' contexts.
        from defensa.notify import actions as notify_actions
        from defensa.notify import inbound
        from defensa.subscribers import actions, messages, sms

        inbound.register_matcher(sms.handle_text)
        notify_actions.register_opt_out_listener(actions.end_for_address)
        messages.register()
