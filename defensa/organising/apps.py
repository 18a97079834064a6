from django.apps import AppConfig


class OrganisingConfig(AppConfig):
    name = "defensa.organising"
    label = "organising"

    def ready(self) -> None:
        # notify sits below organising: organising claims its SMS keywords and message contexts.
        # imports sits below too: organising plugs its kind of rows (contacts) into it.
        from defensa.imports.kinds import register_kind
        from defensa.notify import inbound
        from defensa.organising import messages, sms
        from defensa.organising.rows import ContactRows

        register_kind(ContactRows())

        inbound.register_keyword(sms.KEYWORDS, sms.handle_text)
        messages.register()
