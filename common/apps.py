from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Shared web machinery"

    def ready(self):
        from . import logs

        logs.connect_task_signals()
