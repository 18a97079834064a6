from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "defensa.core"
    label = "core"
