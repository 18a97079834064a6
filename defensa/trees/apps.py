from django.apps import AppConfig


class TreesConfig(AppConfig):
    name = "defensa.trees"
    label = "trees"

    def ready(self) -> None:
        # notify sits below trees: trees claims replies from numbers with an open cascade.
        from defensa.notify import inbound
        from defensa.organising.figures import register_readiness_line
        from defensa.trees import messages, readiness, sms

        inbound.register_matcher(sms.match_reply)
        messages.register()
        # organising sits below trees: the readiness page shows the last drill's time.
        register_readiness_line(readiness.last_drill_line)
