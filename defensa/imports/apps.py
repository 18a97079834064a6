from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "defensa.imports"
    label = "imports"
    verbose_name = "Spreadsheet imports"
