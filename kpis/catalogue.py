"""The KPI catalogue seeded by migration 0002: code, name, unit, direction, service types, description.

Descriptions carry the industry defaults a manager would start from.
"""

FO, BO, KPO, LPO = "front_office", "back_office", "kpo", "lpo"
HIGHER, LOWER = "higher_is_better", "lower_is_better"

# fmt: off
KPI_CATALOGUE = [
    ("service_level", "Service level", "percent", HIGHER, [FO],
     "Share of calls answered within the threshold; the usual target is 80 % of calls answered in 20 seconds."),
    ("average_speed_of_answer", "Average speed of answer", "seconds", LOWER, [FO],
     "Mean time a caller waits in queue before an agent answers; typically 20–30 seconds."),
    ("average_handle_time", "Average handle time", "seconds", LOWER, [FO],
     "Talk + hold + after-call work per contact; around 300–360 seconds for general customer service."),
    ("abandonment_rate", "Abandonment rate", "percent", LOWER, [FO],
     "Share of callers who hang up before reaching an agent; commonly held under 5 %."),
    ("first_contact_resolution", "First contact resolution", "percent", HIGHER, [FO],
     "Share of contacts resolved without a follow-up; 70–75 % is a common benchmark."),
    ("csat", "Customer satisfaction (CSAT)", "percent", HIGHER, [FO, BO],
     "Share of surveyed customers rating 4 or 5 out of 5; targets of 85 % are typical."),
    ("quality_score", "Quality score", "percent", HIGHER, [FO, BO, KPO, LPO],
     "Average QA evaluation score of sampled transactions; usually 90 % or better."),
    ("email_response_time", "E-mail response time", "hours", LOWER, [FO],
     "Time to a first meaningful reply on e-mail and web-form contacts; 24 hours is the usual ceiling."),
    ("accuracy", "Accuracy", "percent", HIGHER, [BO, KPO, LPO],
     "Share of transactions processed without error; data entry and claims usually require 99 % or better."),
    ("turnaround_time", "Turnaround time", "hours", LOWER, [BO, KPO, LPO],
     "Elapsed time from receipt to completion of a transaction or work item; e.g. 48 hours for claims."),
    ("backlog", "Backlog", "count", LOWER, [BO, LPO],
     "Work items older than the agreed turnaround at period end; ideally close to zero."),
    ("on_time_delivery", "On-time delivery", "percent", HIGHER, [BO, KPO, LPO],
     "Share of deliverables (reports, reviews, payroll runs) delivered by their due date; typically 95 % or better."),
    ("availability", "Availability", "percent", HIGHER, [FO, BO, KPO, LPO],
     "Share of scheduled service hours the service or platform was available; 99.5 % is common."),
    ("schedule_adherence", "Schedule adherence", "percent", HIGHER, [FO, BO],
     "Share of scheduled time agents were working as scheduled; usually 90 % or better."),
    ("attrition_rate", "Attrition rate", "percent", LOWER, [FO, BO, KPO, LPO],
     "Monthly staff attrition on the account, computed from the roster: departures ÷ average headcount × 100; "
     "3–4 % a month is typical in contact centres."),
    ("net_promoter_score", "Net promoter score", "score", HIGHER, [FO],
     "Promoters minus detractors, from −100 to 100; 30 or more is considered good."),
    ("review_throughput", "Document review throughput", "count", HIGHER, [LPO],
     "Documents reviewed per reviewer per hour in e-discovery; 50–60 is a common first-pass benchmark."),
    ("report_accuracy", "Research / report accuracy", "percent", HIGHER, [KPO],
     "Share of delivered analyses and models passing client review without material correction; 98 % or better."),
]
# fmt: on


def seed_catalogue(kpi_model):
    """Create or refresh every catalogue KPI (used by migration 0002 with its historical model)."""
    for code, name, unit, direction, service_types, description in KPI_CATALOGUE:
        kpi_model.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "direction": direction,
                "service_types": service_types,
                "description": description,
                "is_computed": code == "attrition_rate",
            },
        )
