from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contracts & staffing"

    def ready(self):
        from . import exchange  # noqa: F401  (registers the REPORTING_CURRENCY system check)
