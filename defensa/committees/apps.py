from django.apps import AppConfig


class CommitteesConfig(AppConfig):
    name = "defensa.committees"
    label = "committees"

    def ready(self) -> None:
        # Shift reminders and recovery requests store only ids; names and times load at
        # send time.
        from defensa.committees import messages

        messages.register()
