from django.apps import AppConfig


class TreesConfig(AppConfig):
    name = "defensa.trees"
    label = "trees"

    def ready(self) -> None:
        # notify sits below trees: trees claims replies from numbers with an open cascade.
        from defensa.notify import inbound
        from defensa.trees import messages, sms

        inbound.register_matcher(sms.match_reply)
        messages.register()
