from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "defensa.core"
    label = "core"

    def ready(self) -> None:
        from defensa.core import checks  # noqa: F401 (registers the deployment checks)
        from defensa.core.retention import connect_file_cleanup

        connect_file_cleanup()
