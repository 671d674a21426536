from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from kpis.signals import breaches_checked

        from .summaries import refresh_after_breach_check

        # The engine knows nothing of reports: its tasks say what they checked, the summaries follow.
        breaches_checked.connect(refresh_after_breach_check, dispatch_uid="reports.refresh_after_breach_check")
