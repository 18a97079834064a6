from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "defensa.funds"
    label = "funds"
