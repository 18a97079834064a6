from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "defensa.voice"
    label = "voice"
