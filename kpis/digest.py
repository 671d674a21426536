"""Rule 7 of DESIGN.md: the weekly breach digest — who gets one, what is in it, and sending it once.

* ``digest_recipients(week)`` — each contract owner with a breach detected that ISO week (anything
  but ``withdrawn``) or an overdue replacement still open on one of their contracts; plus every user
  whose profile has ``receives_all_vendors_digest`` (one digest covering every contract), when there
  is anything to report at all. Users without an e-mail address or inactive are skipped.
* ``build_digest(user, week, all_vendors)`` — the content, as plain data (lists, strings, URLs),
  grouped vendor → contract → breach, in a constant number of queries; ``None`` when there is nothing
  to report. Links are absolute: ``settings.SITE_URL`` + ``/breaches/<id>/``, ``/contracts/<id>/``.
  "New" are the breaches detected that week; an open replacement breach is listed once, as an overdue
  replacement, never as new. The e-mail stays small enough to open (Gmail clips an HTML part past
  102 KB): at most ``LIMIT`` contracts in full (the most major breaches first) and ``LIMIT`` lines of
  each, then "and N more" with a link to the breach list filtered to them. Counts and credits in the
  subject and the summary always cover everything. Every date is written one way, ``format_date``.
* Sending is made repeat-safe by ``DigestDelivery`` (unique recipient + week):
  ``plan_weekly_digest(week)`` creates one row per recipient (one bulk insert) and returns the rows
  still to send; ``deliver_digest(delivery_id)`` claims that row with one conditional UPDATE
  (``claim_delivery``), sends, and marks it ``sent``. A failed SMTP send marks it ``failed`` and
  re-raises so Celery retries with backoff; a duplicate or late task cannot claim a row that is
  ``sent`` or being sent, so it sends nothing.
"""

import datetime
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import dateformat, timezone

from common.money import MoneyTotal, format_money
from contracts.exchange import money_total
from contracts.models import Contract
from contracts.renewals import NOTICE_WINDOW_DAYS, contracts_due_for_notice

from . import periods
from .choices import OPEN_STATUSES, BreachKind, BreachStatus, Severity
from .models import Breach, DigestDelivery


def absolute_url(path):
    return f"{settings.SITE_URL}{path}"


def breach_url(breach_id):
    return absolute_url(reverse("kpis:breach_detail", args=[breach_id]))


def contract_url(contract_id):
    return absolute_url(reverse("contracts:contract_detail", args=[contract_id]))


def vendor_url(vendor_id):
    return absolute_url(reverse("vendors:vendor_detail", args=[vendor_id]))


LIMIT = 10  # contracts shown in full, and lines shown per contract (new breaches first, then overdue replacements)
DATE_FORMAT = "j M Y"  # 9 Nov 2026: the one way the digest writes a date
NOT_WITHDRAWN = [s for s in BreachStatus.values if s != BreachStatus.WITHDRAWN]


def format_date(day):
    """``9 Nov 2026`` — every date in the digest (text and HTML) goes through here."""
    if isinstance(day, datetime.datetime):
        day = timezone.localtime(day).date()
    return dateformat.format(day, DATE_FORMAT) if day else ""


def breach_list_url(**params):
    """The web breach list filtered by ``params`` (filters ``kpis.filtersets.BreachFilterSet`` accepts),
    withdrawn breaches left out."""
    query = urlencode({**params, "status": NOT_WITHDRAWN}, doseq=True)
    return absolute_url(f"{reverse('kpis:breach_list')}?{query}")


def _plural(count, singular, plural=None):
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


# --- content --------------------------------------------------------------------------------------
@dataclass
class BreachLine:
    id: int
    url: str
    kind: str
    kind_label: str
    severity: str
    status: str
    subject: str
    period: str
    expected: str
    minimum: str
    actual: str
    credit: str
    detected_on: str


@dataclass
class OverdueLine:
    breach_id: int
    url: str
    staff_name: str
    left_on: str
    due_on: str
    days_overdue: int
    status: str
    is_new: bool  # detected in the digest's week


@dataclass
class ContractGroup:
    id: int
    reference: str
    title: str
    url: str
    currency: str
    breaches: list = field(default_factory=list)
    overdue: list = field(default_factory=list)
    credit_total: Decimal = Decimal("0")
    major_count: int = 0
    more_breaches: int = 0  # lines left out of the e-mail (beyond LIMIT)
    more_overdue: int = 0
    more_url: str = ""

    @property
    def more_count(self):
        return self.more_breaches + self.more_overdue

    @property
    def line_count(self):
        return len(self.breaches) + len(self.overdue) + self.more_count

    @property
    def credit_total_display(self):
        return format_money(self.credit_total, self.currency) if self.credit_total else ""


@dataclass
class VendorGroup:
    id: int
    name: str
    url: str
    contracts: list = field(default_factory=list)


@dataclass
class DigestSection:
    """A section another app adds to the digest (``settings.DIGEST_SECTIONS``): a title and lines of text,
    each with an optional link; evaluated when the digest is built (the templates run no queries)."""

    title: str
    lines: list  # [{"text": str, "url": str}]
    more_url: str = ""


def extra_sections(user, contracts, week_start, week_end, today):
    """The sections of the hooks listed in ``settings.DIGEST_SECTIONS`` (dotted paths to callables taking
    ``(user, contracts, week_start, week_end, today)`` and returning a ``DigestSection`` or None). The
    extension point through which apps above ``kpis`` add to the digest without ``kpis`` importing them."""
    from django.utils.module_loading import import_string

    sections = []
    for path in getattr(settings, "DIGEST_SECTIONS", ()):
        section = import_string(path)(user, contracts, week_start, week_end, today)
        if section is not None:
            sections.append(section)
    return sections


@dataclass
class Digest:
    recipient_id: int
    recipient_email: str
    recipient_name: str
    week: str
    week_start: datetime.date
    week_end: datetime.date
    all_vendors: bool
    week_label: str  # "16 Nov 2026 – 22 Nov 2026"
    vendors: list
    breach_count: int
    major_count: int
    overdue_count: int
    credits: list  # [(currency, "USD 1,234.00")]
    renewals: list  # [{"reference", "vendor", "url", "notice_deadline", "end_date", "auto_renew", "days_left"}]
    breaches_url: str
    site_url: str
    more_contracts: int = 0  # contracts left out of the e-mail (beyond LIMIT)
    more_contracts_lines: int = 0  # their breaches and overdue replacements
    more_contracts_url: str = ""
    credits_total: MoneyTotal | None = None  # the week's credits in the reporting currency too
    sections: list = field(default_factory=list)  # DigestSection of other apps (settings.DIGEST_SECTIONS)

    @property
    def subject(self):
        return (
            f"SLA digest {self.week}: {_plural(self.breach_count, 'new breach', 'new breaches')} "
            f"({self.major_count} major), {_plural(self.overdue_count, 'overdue replacement')}"
        )

    @property
    def is_empty(self):
        return not self.breach_count and not self.overdue_count


def _number(value, unit):
    if value is None:
        return "—"
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return f"{text} %" if unit == "%" else f"{text} {unit}"


def _contracts_for(user, all_vendors):
    return Contract.objects.all() if all_vendors else Contract.objects.filter(owner=user)


def build_digest(user, week, all_vendors=False, today=None, limit=LIMIT):
    """The digest for ``user`` and ISO ``week`` (``2026-W47``), or None when there is nothing to report.

    Three queries whatever the number of breaches: the week's breaches, the open overdue
    replacements, the renewals due; a fourth for the exchange rates when credits are in a currency
    other than the reporting one. Everything the templates need is evaluated here.
    """
    week_start, week_end = periods.parse_iso_week(week)
    today = today or timezone.localdate()
    contracts = _contracts_for(user, all_vendors)
    new_breaches = list(
        Breach.objects.detected_between(week_start, week_end)
        .exclude(status=BreachStatus.WITHDRAWN)
        .exclude(kind=BreachKind.REPLACEMENT, status__in=OPEN_STATUSES)  # listed as overdue replacements
        .filter(contract__in=contracts)
        .select_related("contract__vendor", "sla__kpi", "obligation__departed")
        .order_by(
            "contract__vendor__name",
            "contract__reference",
            Case(When(severity=Severity.MAJOR, then=Value(0)), default=Value(1)),
            "period_start",
            "pk",
        )
    )
    overdue = list(
        Breach.objects.filter(kind=BreachKind.REPLACEMENT, status__in=OPEN_STATUSES, contract__in=contracts)
        .select_related("contract__vendor", "obligation__departed")
        .order_by("contract__vendor__name", "contract__reference", "obligation__due_on", "pk")
    )
    if not new_breaches and not overdue:
        return None
    renewals = list(contracts_due_for_notice(NOTICE_WINDOW_DAYS, today, contracts))

    groups: dict[int, ContractGroup] = {}
    vendor_of: dict[int, object] = {}

    def group_for(contract):
        if contract.pk not in groups:
            groups[contract.pk] = ContractGroup(
                contract.pk, contract.reference, contract.title, contract_url(contract.pk), contract.currency
            )
            vendor_of[contract.pk] = contract.vendor
        return groups[contract.pk]

    credits: dict[str, Decimal] = {}
    for breach in new_breaches:
        group = group_for(breach.contract)
        group.major_count += breach.severity == Severity.MAJOR
        if breach.service_credit:
            group.credit_total += breach.service_credit
            credits[breach.contract.currency] = credits.get(breach.contract.currency, Decimal("0")) + (
                breach.service_credit
            )
        if len(group.breaches) >= limit:
            group.more_breaches += 1
            continue
        group.breaches.append(_breach_line(breach))
    for breach in overdue:
        group = group_for(breach.contract)
        if len(group.breaches) + len(group.overdue) >= limit:
            group.more_overdue += 1
            continue
        group.overdue.append(_overdue_line(breach, week_start, week_end, today))

    # The contracts shown in full: most major breaches, then most lines, then by reference.
    ranked = sorted(groups.values(), key=lambda g: (-g.major_count, -g.line_count, g.reference))
    shown, left_out = ranked[:limit], ranked[limit:]
    vendors: OrderedDict[int, VendorGroup] = OrderedDict()
    for group in sorted(shown, key=lambda g: (vendor_of[g.id].name, g.reference)):
        vendor = vendor_of[group.id]
        if vendor.pk not in vendors:
            vendors[vendor.pk] = VendorGroup(vendor.pk, vendor.name, vendor_url(vendor.pk))
        vendors[vendor.pk].contracts.append(group)
        if group.more_count:
            group.more_url = breach_list_url(contract=group.id)

    return Digest(
        recipient_id=user.pk,
        recipient_email=user.email,
        recipient_name=user.get_full_name() or user.get_username(),
        week=week,
        week_start=week_start,
        week_end=week_end,
        all_vendors=all_vendors,
        week_label=f"{format_date(week_start)} – {format_date(week_end)}",
        vendors=list(vendors.values()),
        breach_count=len(new_breaches),
        major_count=sum(1 for b in new_breaches if b.severity == Severity.MAJOR),
        overdue_count=len(overdue),
        credits=[(currency, format_money(amount, currency)) for currency, amount in sorted(credits.items())],
        credits_total=money_total(
            (b.contract.currency, b.period_end, b.service_credit) for b in new_breaches if b.service_credit
        ),
        renewals=[
            {
                "reference": contract.reference,
                "title": contract.title,
                "vendor": contract.vendor.name,
                "url": contract_url(contract.pk),
                "notice_deadline": format_date(contract.notice_deadline),
                "end_date": format_date(contract.end_date),
                "auto_renew": contract.auto_renew,
                "days_left": (contract.notice_deadline - today).days,
            }
            for contract in renewals
        ],
        breaches_url=breach_list_url() if all_vendors else breach_list_url(mine="true"),
        site_url=settings.SITE_URL,
        more_contracts=len(left_out),
        more_contracts_lines=sum(g.line_count for g in left_out),
        more_contracts_url=breach_list_url() if all_vendors else breach_list_url(mine="true"),
        sections=extra_sections(user, contracts, week_start, week_end, today),
    )


def _breach_line(breach):
    if breach.sla_id:
        unit = breach.sla.kpi.get_unit_display()
        subject = breach.sla.kpi.name
        if breach.sla.frequency == "daily":
            period = format_date(breach.period_start)
        else:
            period = periods.describe_period(breach.sla.frequency, breach.period_start)
    else:
        unit = ""
        subject = f"Replacement for {breach.obligation.departed.full_name}" if breach.obligation_id else "Replacement"
        period = f"due {format_date(breach.period_end)}"
    return BreachLine(
        id=breach.pk,
        url=breach_url(breach.pk),
        kind=breach.kind,
        kind_label=breach.get_kind_display(),
        severity=breach.severity,
        status=breach.get_status_display(),
        subject=subject,
        period=period,
        expected=_number(breach.expected, unit) if breach.sla_id else "—",
        minimum=_number(breach.minimum, unit) if breach.sla_id else "—",
        actual=(_number(breach.actual, unit) if breach.actual is not None else "not reported")
        if breach.sla_id
        else "—",
        credit=format_money(breach.service_credit, breach.contract.currency) if breach.service_credit else "",
        detected_on=format_date(breach.detected_at),
    )


def _overdue_line(breach, week_start, week_end, today):
    departed = breach.obligation.departed if breach.obligation_id else None
    due_on = breach.obligation.due_on if breach.obligation_id else breach.period_end
    detected = timezone.localtime(breach.detected_at).date()
    return OverdueLine(
        breach_id=breach.pk,
        url=breach_url(breach.pk),
        staff_name=departed.full_name if departed else "—",
        left_on=format_date(departed.left_on if departed else breach.period_start),
        due_on=format_date(due_on),
        days_overdue=max((today - due_on).days, 0),
        status=breach.get_status_display(),
        is_new=week_start <= detected <= week_end,
    )


# --- recipients -------------------------------------------------------------------------------------
def digest_recipients(week):
    """``{user: all_vendors}`` for ISO ``week``, in a constant number of queries (see module docstring)."""
    week_start, week_end = periods.parse_iso_week(week)
    owners = set(
        Breach.objects.detected_between(week_start, week_end)
        .exclude(status=BreachStatus.WITHDRAWN)
        .values_list("contract__owner_id", flat=True)
        .distinct()
    )
    owners |= set(
        Breach.objects.filter(kind=BreachKind.REPLACEMENT, status__in=OPEN_STATUSES)
        .values_list("contract__owner_id", flat=True)
        .distinct()
    )
    if not owners:
        return {}
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .filter(Q(pk__in=owners) | Q(profile__receives_all_vendors_digest=True))
        .annotate(all_vendors=Coalesce(F("profile__receives_all_vendors_digest"), Value(False)))
        .order_by("pk")
    )
    return {user: bool(user.all_vendors) for user in users}


def already_sent(week):
    """Ids of the recipients whose digest for ``week`` has gone out."""
    return set(
        DigestDelivery.objects.filter(week=week, status=DigestDelivery.Status.SENT).values_list(
            "recipient_id", flat=True
        )
    )


def preview_weekly_digest(week, today=None):
    """Every digest that sending ``week`` now would send, built but neither sent nor recorded (dry run):
    recipients whose digest for the week has gone out already are left out, as the real send would."""
    digests = []
    sent = already_sent(week)
    for user, all_vendors in digest_recipients(week).items():
        if user.pk in sent:
            continue
        digest = build_digest(user, week, all_vendors, today)
        if digest is not None:
            digests.append(digest)
    return digests


# --- sending once --------------------------------------------------------------------------------------
# Still to send: never attempted (``pending``) or failed. ``plan_weekly_digest`` returns these rows and
# ``claim_delivery`` may claim them (and also a ``sending`` claim whose lease ran out).
NOT_SENT = Q(status__in=[DigestDelivery.Status.PENDING, DigestDelivery.Status.FAILED])


def plan_weekly_digest(week):
    """Create one ``DigestDelivery`` per recipient for ``week``; return the ids still to send.

    Two statements whatever the number of recipients (plus the recipients' own query): one
    ``bulk_create(ignore_conflicts=True)`` and one select. Returned are the rows never attempted and
    the ``failed`` ones (retrying is safe, see ``deliver_digest``); a ``sent`` row, or one being
    sent, is not. Running this twice for a week returns only what is not sent yet.
    """
    recipients = digest_recipients(week)
    DigestDelivery.objects.bulk_create(
        [DigestDelivery(recipient=user, week=week, all_vendors=everything) for user, everything in recipients.items()],
        ignore_conflicts=True,
    )
    return list(
        DigestDelivery.objects.filter(NOT_SENT, week=week, recipient__in=list(recipients))
        .order_by("recipient_id")
        .values_list("pk", flat=True)
    )


# A claim older than this is presumed dead (worker killed mid-send) and may be taken over.
# Far longer than the e-mail task's time limit, so a live send is never taken over.
CLAIM_LEASE = datetime.timedelta(minutes=15)


def claim_delivery(delivery_id):
    """Atomically claim a delivery for sending: one conditional UPDATE, so of two workers (a retry and
    a duplicate task, two beat ticks…) exactly one gets it. Claimable: ``pending`` (never attempted),
    ``failed``, or a ``sending`` claim whose lease ran out. Returns True when this caller has it."""
    now = timezone.now()
    lease_ran_out = Q(status=DigestDelivery.Status.SENDING, claimed_at__lt=now - CLAIM_LEASE)
    return bool(
        DigestDelivery.objects.filter(pk=delivery_id)
        .filter(NOT_SENT | lease_ran_out)
        .update(status=DigestDelivery.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    )


def deliver_digest(delivery_id, today=None, connection=None):
    """Send one planned digest unless it has been sent (or is being sent) already.

    Returns ``"sent"``, ``"already sent"``, ``"claimed elsewhere"`` or ``"nothing to report"``. No
    database transaction or lock is held during the SMTP conversation. A send that raises is recorded
    (``failed``, error) and re-raised, so Celery retries it with backoff; the retry claims it again.
    """
    from .emails import breach_digest_message

    if not claim_delivery(delivery_id):
        status = DigestDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        return "already sent" if status == DigestDelivery.Status.SENT else "claimed elsewhere"
    delivery = DigestDelivery.objects.select_related("recipient").get(pk=delivery_id)
    digest = build_digest(delivery.recipient, delivery.week, delivery.all_vendors, today)
    rows = DigestDelivery.objects.filter(pk=delivery_id)
    if digest is None:
        rows.update(status=DigestDelivery.Status.SENT, subject="", error="Nothing left to report when sending.")
        return "nothing to report"
    try:
        breach_digest_message(digest, connection=connection).send(fail_silently=False)
    except Exception as error:
        rows.update(
            status=DigestDelivery.Status.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            subject=digest.subject[:255],
            breach_count=digest.breach_count,
        )
        raise
    rows.update(
        status=DigestDelivery.Status.SENT,
        sent_at=timezone.now(),
        error="",
        subject=digest.subject[:255],
        breach_count=digest.breach_count,
    )
    return "sent"
