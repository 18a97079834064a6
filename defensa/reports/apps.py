from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "defensa.reports"
    label = "reports"
