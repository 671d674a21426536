"""The naive way, for comparison only: a Python loop over measurements saving one breach at a time."""

from decimal import ROUND_HALF_UP, Decimal

from kpis.models import Breach, Measurement


def naive_detect(sla_ids):
    written = 0
    measurements = Measurement.objects.filter(sla_id__in=sla_ids).select_related("sla__kpi", "sla__contract")
    for measurement in measurements.iterator(chunk_size=2000):
        sla = measurement.sla
        severity = sla.evaluate(measurement.value)
        if severity is None:
            continue
        contract = sla.contract
        credit = Decimal("0")
        if severity == "major":
            credit = (
                contract.monthly_fee * contract.at_risk_percent / 100 * sla.credit_allocation_percent / 100
            ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        Breach.objects.update_or_create(
            sla=sla,
            period_start=measurement.period_start,
            kind="performance",
            defaults={
                "contract": contract,
                "measurement": measurement,
                "severity": severity,
                "period_end": measurement.period_end,
                "expected": sla.expected,
                "minimum": sla.minimum,
                "actual": measurement.value,
                "service_credit": credit,
            },
        )
        written += 1
    return written
