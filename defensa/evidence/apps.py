from typing import Any

from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "defensa.evidence"
    label = "evidence"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from defensa.reports.models import Report

        pre_delete.connect(keep_with_incident, sender=Report, dispatch_uid="evidence-keep")


def keep_with_incident(sender: type, instance: Any, **kwargs: Any) -> None:
    """A report is going (its lifetime is over): its photos and videos are evidence for court
    and stay, with the incident the report was in, as long as that incident."""
    from defensa.evidence.models import Media
    from defensa.reports.models import Photo

    Photo.objects.filter(report=instance).update(incident_id=instance.incident_id)
    Media.objects.filter(report=instance).update(incident_id=instance.incident_id)
