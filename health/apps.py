from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = "Health checks"

    def ready(self):
        from . import heartbeats, tasks  # noqa: F401  (tasks: the beat task is registered wherever Django runs)

        heartbeats.connect_signals()
