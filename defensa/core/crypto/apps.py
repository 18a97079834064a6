from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "defensa.core.crypto"
    label = "crypto"
    verbose_name = "Envelope encryption"

    def ready(self) -> None:
        # A malformed DEFENSA_MASTER_KEYS stops the process at start-up, not at the first
        # report that needs it.
        from defensa.core.crypto.keys import master_keys

        master_keys()
