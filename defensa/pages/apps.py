from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "defensa.pages"
    label = "pages"
