from django.apps import AppConfig


class CommitteesConfig(AppConfig):
    name = "defensa.committees"
    label = "committees"

    def ready(self) -> None:
        # Shift reminders and recovery requests store only ids; names and times load at
        # send time.
        from defensa.accounts.signals import home_cell_moved
        from defensa.committees import messages, sms
        from defensa.committees.models import follow_home
        from defensa.notify import inbound

        # The memberships' copy of each person's home cell follows the home.
        home_cell_moved.connect(follow_home, dispatch_uid="committees-follow-home")

        messages.register()
        # A member without a smartphone joins by texting the code of their invitation.
        inbound.register_keyword(sms.KEYWORDS, sms.handle_text)
