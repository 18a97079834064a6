from django.apps import AppConfig


class RecordConfig(AppConfig):
    name = "defensa.record"
    label = "record"
