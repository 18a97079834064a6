from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "defensa.events"
    label = "events"

    def ready(self) -> None:
        # Lower apps learn of events through their registries: notify (SMS keywords and
        # message contexts), broadcasts (the "RSVPed to this event" segment) and
        # accompaniment (the private calendar feed).
        from defensa.events import feeds, messages, segments, sms
        from defensa.notify import inbound

        inbound.register_keyword(sms.KEYWORDS, sms.handle_text)
        messages.register()
        segments.register()
        feeds.register()
