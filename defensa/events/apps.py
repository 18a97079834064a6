from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "defensa.events"
    label = "events"

    def ready(self) -> None:
        # Lower apps learn of events through their registries: notify (RSVP texts and
        # message contexts), broadcasts (the "RSVPed to this event" segment) and
        # accompaniment (the private calendar feed), funds (picket hours).
        from defensa.events import feeds, hours, messages, segments, sms
        from defensa.funds.hours import register_hours_source
        from defensa.notify import inbound

        inbound.register_matcher(sms.match_text)
        messages.register()
        segments.register()
        feeds.register()
        register_hours_source(hours.funds_hours)
