"""The scorecard policy admins keep, handed to the scorecard report (``settings.SCORECARD_POLICY_PROVIDER``)."""

from reports.queries import LOWEST_BAND, ScoringPolicy

from .models import ScorecardPolicy


def policy_from(row):
    return ScoringPolicy(
        weights={
            "compliance": row.compliance_weight,
            "reporting": row.reporting_weight,
            "replacements": row.replacements_weight,
            "retention": row.retention_weight,
        },
        bands=(("Strategic", row.strategic_from), ("Performing", row.performing_from), ("Watch", row.watch_from)),
        lowest_band=LOWEST_BAND,
    )


def current_policy():
    """The active ``ScorecardPolicy`` as a ``ScoringPolicy`` (one query), or None for the defaults."""
    row = ScorecardPolicy.objects.active().first()
    return policy_from(row) if row else None
