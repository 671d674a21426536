from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Access policy"

    def ready(self):
        from common import policy

        from . import rules

        rules.register()
        policy.install(rules.restrict)
