from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = "Health checks"

    def ready(self):
        from . import heartbeats

        heartbeats.connect_signals()
