from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "defensa.incidents"
    label = "incidents"

    def ready(self) -> None:
        from defensa.committees.archiving import register_archive_check
        from defensa.incidents.areas import open_incidents_reason

        # A committee with open incidents is not archived: someone must still answer them.
        register_archive_check(open_incidents_reason)
