from django.core.management.base import BaseCommand, CommandError

from defensa.audit.log import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain and name the first altered entry."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        checked, bad, why = verify_chain()
        if bad is not None:
            raise CommandError(
                f"Audit entry #{bad.seq} (id {bad.pk}, action {bad.action}) was altered: {why}. "
                f"{checked} entries before it are intact."
            )
        self.stdout.write(f"Audit log intact: {checked} entries verified.")
