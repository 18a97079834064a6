from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "defensa.evidence"
    label = "evidence"
