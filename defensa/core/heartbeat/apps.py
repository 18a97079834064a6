from django.apps import AppConfig


class HeartbeatConfig(AppConfig):
    name = "defensa.core.heartbeat"
    label = "heartbeat"
    verbose_name = "Heartbeats"
