from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "defensa.ops"
    label = "ops"
    verbose_name = "Operations"
