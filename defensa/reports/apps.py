from typing import Any

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "defensa.reports"
    label = "reports"

    def ready(self) -> None:
        # notify cannot import reports (apps depend downward): reports registers itself.
        from django.db.models.signals import pre_delete

        from defensa.notify import inbound, messages
        from defensa.reports import sms
        from defensa.reports.models import Report

        inbound.register_handler(sms.handle_text)
        messages.register_context(sms.REPLY_TEMPLATE, sms.reply_context)
        # A reporter has no account: only network administrators see these deliveries anyway.
        messages.register_compartment(messages.GENERAL, sms.REPLY_TEMPLATE)
        pre_delete.connect(keep_evidence, sender=Report, dispatch_uid="reports-keep-evidence")


def keep_evidence(sender: type, instance: Any, **kwargs: Any) -> None:
    """A report is going (its lifetime is over): its photos and videos are evidence for court
    and stay, with the incident the report was in, as long as that incident."""
    from defensa.evidence.models import Media
    from defensa.reports.models import Photo

    Photo.objects.filter(report=instance).update(incident_id=instance.incident_id)
    Media.objects.filter(report=instance).update(incident_id=instance.incident_id)
