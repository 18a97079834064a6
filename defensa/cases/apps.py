from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "defensa.cases"
    label = "cases"

    def ready(self) -> None:
        # Messages store ids only; names, instructions and links are loaded at send time.
        from defensa.cases import messages

        messages.register()
