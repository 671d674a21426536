from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Corrective actions, RACI charts, individual scorecards, scorecard policy, quarterly business reviews.

    A domain app above ``kpis``: it imports vendors, contracts, kpis and reports; none of them imports it.
    It plugs into the weekly digest (``settings.DIGEST_SECTIONS``) and the scorecard report
    (``settings.SCORECARD_POLICY_PROVIDER``) through hooks those apps define.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "governance"
    verbose_name = "Governance"
