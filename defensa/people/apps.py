from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "defensa.people"
    label = "people"
    verbose_name = "People: imports, invitations in bulk, exports"

    def ready(self) -> None:
        # imports and notify sit below people: people plugs its kind of rows and its
        # message into their registries.
        from defensa.imports.kinds import register_kind
        from defensa.people import messages
        from defensa.people.rows import MemberRows

        register_kind(MemberRows())
        messages.register()
