"""What each event says: the JSON body of a webhook delivery, and the words and cards of a breach alert.

A breach event is told from the breach history row it was read from (what the breach was at that
moment), with the contract, vendor, KPI and obligation it concerns; a ``digest.sent`` event from its
digest delivery row. Plain data only: the transports turn it into bytes.
"""

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse

from common.money import format_money
from contracts.models import Contract, ReplacementObligation
from kpis.models import SLA, Breach, DigestDelivery

from .choices import EventType


def absolute(path):
    return f"{settings.SITE_URL}{path}"


@dataclass
class BreachFacts:
    """A breach as its history row recorded it, with what it concerns (for webhook bodies and alerts)."""

    breach: dict
    contract: dict
    kpi: dict | None = None
    obligation: dict | None = None
    extra: dict = field(default_factory=dict)


def breach_facts(event):
    row = (
        Breach.history.model.objects.filter(history_id=event.breach_history_id)
        .values(
            "id", "kind", "severity", "status", "period_start", "period_end", "expected", "minimum", "actual",
            "service_credit", "credit_earned_back", "detected_at", "contract_id", "sla_id", "obligation_id",
        )
        .get()
    )  # fmt: skip
    contract = Contract.objects.select_related("vendor", "owner").get(pk=row["contract_id"])
    breach = {
        "id": row["id"],
        "url": absolute(reverse("kpis:breach_detail", args=[row["id"]])),
        **{key: row[key] for key in ("kind", "severity", "status", "period_start", "period_end", "detected_at")},
        **{key: _decimal(row[key]) for key in ("expected", "minimum", "actual")},
        "service_credit": _decimal(row["service_credit"]),
        "credit_earned_back": _decimal(row["credit_earned_back"]),
        "currency": contract.currency,
    }
    facts = BreachFacts(
        breach=breach,
        contract={
            "id": contract.pk,
            "reference": contract.reference,
            "title": contract.title,
            "url": absolute(contract.get_absolute_url()),
            "vendor": {"id": contract.vendor_id, "name": contract.vendor.name},
            "owner": contract.owner.get_username() if contract.owner else None,
        },
    )
    if row["sla_id"]:
        sla = SLA.objects.select_related("kpi").filter(pk=row["sla_id"]).first()
        if sla:
            facts.kpi = {"code": sla.kpi.code, "name": sla.kpi.name, "unit": sla.kpi.unit}
    if row["obligation_id"]:
        obligation = ReplacementObligation.objects.select_related("departed").filter(pk=row["obligation_id"]).first()
        if obligation:
            facts.obligation = {
                "id": obligation.pk,
                "staff_member": obligation.departed.full_name,
                "employee_ref": obligation.departed.employee_ref,
                "left_on": obligation.departed.left_on,
                "due_on": obligation.due_on,
            }
    return facts


def _decimal(value):
    return None if value is None else f"{value:.2f}"


def event_payload(event):
    """The webhook body of ``event``, as a dict (see the README for its shape)."""
    payload = {"id": event.pk, "type": event.type, "occurred_at": event.occurred_at}
    if event.type == EventType.DIGEST_SENT:
        digest = DigestDelivery.objects.select_related("recipient").get(pk=event.digest_delivery_id)
        payload["digest"] = {
            "week": digest.week,
            "recipient": digest.recipient.get_username(),
            "all_vendors": digest.all_vendors,
            "subject": digest.subject,
            "breach_count": digest.breach_count,
            "sent_at": digest.sent_at,
        }
        return payload
    facts = breach_facts(event)
    payload.update(breach=facts.breach, contract=facts.contract, kpi=facts.kpi, obligation=facts.obligation)
    return payload


def to_json(data):
    """Compact JSON, dates in ISO 8601, non-ASCII kept: the exact bytes signed and sent."""
    return json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


# --- breach alerts ---------------------------------------------------------------------------------
UNIT_SUFFIX = {"percent": " %", "seconds": " s", "minutes": " min", "hours": " h", "days": " days"}


@dataclass
class Alert:
    """A major breach told in words: a title, the facts as (label, value) pairs, and the link."""

    title: str
    summary: str
    facts: list
    url: str


def breach_alert(event):
    facts = breach_facts(event)
    return alert_from_facts(facts)


def alert_from_facts(facts):
    breach, contract, kpi = facts.breach, facts.contract, facts.kpi
    where = f"{contract['reference']} ({contract['vendor']['name']})"
    period = f"{breach['period_start']:%Y-%m-%d} – {breach['period_end']:%Y-%m-%d}"
    rows = [("Contract", f"{where} — {contract['title']}")]
    if breach["kind"] == "replacement" and facts.obligation:
        obligation = facts.obligation
        title = f"Major breach: replacement overdue on {contract['reference']}"
        summary = (
            f"The replacement of {obligation['staff_member']} on {where} was due on {obligation['due_on']:%Y-%m-%d}."
        )
        rows += [("Left on", f"{obligation['left_on']:%Y-%m-%d}"), ("Due on", f"{obligation['due_on']:%Y-%m-%d}")]
    else:
        kpi_name = kpi["name"] if kpi else "KPI"
        suffix = UNIT_SUFFIX.get(kpi["unit"], "") if kpi else ""
        title = f"Major breach: {kpi_name} on {contract['reference']}"
        if breach["kind"] == "missing_report":
            summary = f"No {kpi_name} figure was reported for {period} on {where}."
            figure = "not reported"
        else:
            summary = (
                f"{kpi_name} on {where} for {period}: {breach['actual']}{suffix}, "
                f"below the minimum of {breach['minimum']}{suffix}."
            )
            figure = f"{breach['actual']}{suffix}"
        rows += [
            ("KPI", kpi_name),
            ("Period", period),
            ("Figure", figure),
            ("Minimum", f"{breach['minimum']}{suffix}"),
            ("Expected", f"{breach['expected']}{suffix}"),
            ("Service credit", format_money(breach["service_credit"], breach["currency"])),
        ]
    return Alert(title=title, summary=summary, facts=rows, url=breach["url"])


def slack_message(alert):
    """Slack's incoming-webhook payload: ``{"text": …}`` (mrkdwn, the link as ``<url|label>``)."""
    lines = [f"*{alert.title}*", alert.summary, *(f"{label}: {value}" for label, value in alert.facts[1:])]
    lines.append(f"<{alert.url}|Open the breach>")
    return {"text": "\n".join(lines)}


def teams_message(alert):
    """A Teams message carrying an Adaptive Card (incoming webhooks and Workflows both take it)."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": alert.title, "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "TextBlock", "text": alert.summary, "wrap": True},
            {"type": "FactSet", "facts": [{"title": label, "value": value} for label, value in alert.facts]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open the breach", "url": alert.url}],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def sample_alert():
    """What "send a test alert" sends: an alert with made-up facts, saying so."""
    return Alert(
        title="Test alert from the SLA tracker",
        summary="Alerts of major breaches on the contracts you manage will look like this.",
        facts=[("Contract", "EXAMPLE-001 (Example BPO)"), ("KPI", "Service level"), ("Figure", "72.00 %")],
        url=absolute(reverse("kpis:breach_list")),
    )
