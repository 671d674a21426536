from django.apps import AppConfig


class OutboundConfig(AppConfig):
    name = "outbound"
    verbose_name = "Webhooks and alerts"

    def ready(self):
        from kpis.signals import breaches_checked

        from .receivers import dispatch_after_breach_check

        # The engine knows nothing of webhooks: its tasks say a check committed, the feed follows.
        breaches_checked.connect(dispatch_after_breach_check, dispatch_uid="outbound.dispatch_after_breach_check")
