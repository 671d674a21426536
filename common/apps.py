from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Shared web machinery"

    def ready(self):
        from . import logs

        logs.connect_task_signals()
        # Sent once per app with models (this one has none); installing is idempotent and cheap.
        post_migrate.connect(install_data_version_triggers, dispatch_uid="common.data_version")


def install_data_version_triggers(using, **kwargs):
    """After every ``migrate``: new tables get the trigger that moves the data version (``common.data_version``)."""
    from .data_version import install_triggers

    install_triggers(using)
