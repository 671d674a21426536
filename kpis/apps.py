from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "KPIs, SLAs & breaches"

    def ready(self):
        from . import receivers

        receivers.connect()
