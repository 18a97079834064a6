from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "defensa.audit"
    label = "audit"
