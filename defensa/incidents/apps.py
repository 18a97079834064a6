from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "defensa.incidents"
    label = "incidents"
