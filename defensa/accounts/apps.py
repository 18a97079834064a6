from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "defensa.accounts"
    label = "accounts"
