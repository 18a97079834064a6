from django.apps import AppConfig


class CommitteesConfig(AppConfig):
    name = "defensa.committees"
    label = "committees"
