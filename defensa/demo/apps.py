from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "defensa.demo"
    label = "demo"
