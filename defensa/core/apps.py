from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "defensa.core"
    label = "core"

    def ready(self) -> None:
        from defensa.core import checks  # noqa: F401 (registers the deployment checks)
        from defensa.core.retention import connect_file_cleanup

        connect_file_cleanup()
        add_language_info()


def add_language_info() -> None:
    """Django's LANG_INFO (what get_language_info() and the bidi check read) has no Tagalog or
    Haitian Creole; add them from defensa/core/languages.py, leaving Django's own entries."""
    from django.conf.locale import LANG_INFO

    from defensa.core.languages import EXTRA_LANG_INFO

    for code, info in EXTRA_LANG_INFO.items():
        LANG_INFO.setdefault(code, info)
