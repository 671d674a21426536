"""Rule 7 of DESIGN.md: the weekly breach digest — who gets one, what is in it, and sending it once.

* ``digest_recipients(week)`` — each contract owner with a breach detected that ISO week (anything
  but ``withdrawn``) or an overdue replacement still open on one of their contracts; plus every user
  whose profile has ``receives_all_vendors_digest`` (one digest covering every contract), when there
  is anything to report at all; plus the owners another app has news for (``settings.DIGEST_RECIPIENTS``,
  with their sections from ``settings.DIGEST_SECTIONS``: governance's overdue corrective actions). Users
  without an e-mail address or inactive are skipped.
* ``build_digests([(user, all_vendors)], week)`` — the content for a batch of recipients, as plain data
  (lists, strings, URLs), grouped vendor → contract → breach, in the same few queries whatever the
  number of recipients and breaches (``build_digest`` for one); ``None`` for a recipient with nothing to
  report. Links are absolute: ``settings.SITE_URL`` + ``/breaches/<id>/``, ``/contracts/<id>/``.
  "New" are the breaches detected that week; an open replacement breach is listed once, as an overdue
  replacement, never as new. The e-mail stays small enough to open (Gmail clips an HTML part past
  102 KB): at most ``LIMIT`` contracts in full (the most major breaches first) and ``LIMIT`` lines of
  each, then "and N more" with a link to the breach list filtered to them. Counts and credits in the
  subject and the summary always cover everything. Every date is written one way, ``format_date``.
* Sending is made repeat-safe by ``DigestDelivery`` (unique recipient + week):
  ``plan_weekly_batches(week)`` creates one row per recipient (one bulk insert) and returns the rows
  still to send in batches of ``BATCH_SIZE``; ``deliver_digests(ids)`` claims a batch's rows
  (``claim_deliveries``: locked, then one UPDATE), builds them together, sends them over one SMTP
  connection and marks each ``sent`` as it goes. A failed send marks its row ``failed`` and the task
  re-raises so Celery retries the batch with backoff; a duplicate or late task cannot claim a row that
  is ``sent`` or being sent, so it sends nothing twice.
"""

import contextlib
import datetime
import functools
import smtplib
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import connection as database
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import get_language

from common.money import MoneyTotal, format_money
from contracts.exchange import RateBook
from contracts.models import Contract
from contracts.renewals import NOTICE_WINDOW_DAYS, contracts_due_for_notice

from . import periods
from .choices import OPEN_STATUSES, BreachKind, BreachStatus, Severity, Unit
from .models import Breach, DigestDelivery


def absolute_url(path):
    return f"{settings.SITE_URL}{path}"


class Writer:
    """Links and dates as the digest writes them, for one batch of digests. A batch links and dates
    thousands of rows, and ``reverse()``, ``localtime()`` and ``get_language()`` each cost tens of µs a
    call (thread-local look-ups): resolved once here — each URL name reversed once, with ``{}`` for the id."""

    def __init__(self):
        self.site_url = settings.SITE_URL
        self.zone = timezone.get_current_timezone()
        self.language = get_language()
        self._paths = {}

    def _detail_url(self, name, pk):
        path = self._paths.get(name)
        if path is None:
            marker = 918273645  # an id no path spells otherwise
            path = self._paths[name] = reverse(name, args=[marker]).replace(str(marker), "{}")
        return self.site_url + path.format(int(pk))

    def breach_url(self, breach_id):
        return self._detail_url("kpis:breach_detail", breach_id)

    def contract_url(self, contract_id):
        return self._detail_url("contracts:contract_detail", contract_id)

    def vendor_url(self, vendor_id):
        return self._detail_url("vendors:vendor_detail", vendor_id)

    def breach_list_url(self, **params):
        """The web breach list filtered by ``params`` (filters ``kpis.filtersets.BreachFilterSet`` accepts),
        withdrawn breaches left out."""
        if "list" not in self._paths:
            self._paths["list"] = reverse("kpis:breach_list")
        query = urlencode({**params, "status": NOT_WITHDRAWN}, doseq=True)
        return f"{self.site_url}{self._paths['list']}?{query}"

    def date(self, day):
        """``9 Nov 2026`` (``format_date``)."""
        if isinstance(day, datetime.datetime):
            day = timezone.localtime(day, self.zone).date()
        return _format_day(day, self.language) if day else ""


LIMIT = 10  # contracts shown in full, and lines shown per contract (new breaches first, then overdue replacements)
DATE_FORMAT = "j M Y"  # 9 Nov 2026: the one way the digest writes a date
NOT_WITHDRAWN = [s for s in BreachStatus.values if s != BreachStatus.WITHDRAWN]


def format_date(day):
    """``9 Nov 2026`` — every date in the digest (text and HTML) goes through here (or ``Writer.date``)."""
    return Writer().date(day)


@functools.lru_cache(maxsize=4096)
def _format_day(day, language):
    """Django's date format costs ~50 µs, and a batch of digests writes the same few weeks' dates thousands
    of times: remembered per day and language (the month's name is the language's)."""
    return dateformat.format(day, DATE_FORMAT)


def breach_list_url(**params):
    """The web breach list filtered by ``params`` (``Writer.breach_list_url``)."""
    return Writer().breach_list_url(**params)


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


ALL_VENDORS = "all_vendors"  # the key of the digest covering every contract, beside owners' ids


@dataclass(frozen=True)
class DigestScope:
    """Whose digests one batch builds: the owners whose digest covers the contracts they own
    (``owner_ids``), and whether one covering every contract is among them (``all_vendors``). What
    the hooks of ``settings.DIGEST_SECTIONS`` receive, so each answers a whole batch in one query."""

    owner_ids: frozenset
    all_vendors: bool
    week_start: datetime.date
    week_end: datetime.date
    today: datetime.date

    def contracts(self):
        """Every contract some digest of the batch covers."""
        if self.all_vendors:
            return Contract.objects.all()
        return Contract.objects.filter(owner_id__in=self.owner_ids)

    def split(self, rows, owner_of):
        """``{owner id or ALL_VENDORS: [rows]}``: ``rows`` (in their order) under each digest that covers
        them; ``owner_of(row)`` is the owner of the row's contract."""
        keyed = {owner_id: [] for owner_id in self.owner_ids}
        if self.all_vendors:
            keyed[ALL_VENDORS] = list(rows)
        for row in rows:
            mine = keyed.get(owner_of(row))
            if mine is not None:
                mine.append(row)
        return keyed


def extra_sections(scope):
    """``{owner id or ALL_VENDORS: [DigestSection]}``: the sections of the hooks listed in
    ``settings.DIGEST_SECTIONS`` for a batch. Each hook is a dotted path to a callable taking a
    ``DigestScope`` and returning ``{owner id or ALL_VENDORS: DigestSection}`` (leaving out the digests
    it has nothing for). The extension point through which apps above ``kpis`` add to the digest
    without ``kpis`` importing them."""
    from django.utils.module_loading import import_string

    sections = {}
    for path in getattr(settings, "DIGEST_SECTIONS", ()):
        for key, section in import_string(path)(scope).items():
            sections.setdefault(key, []).append(section)
    return sections


def owners_with_sections(today):
    """The contract owners some app listed in ``settings.DIGEST_RECIPIENTS`` has news for (e.g. governance:
    overdue corrective actions): each hook is a dotted path to a callable taking ``today`` and returning
    owner ids. They get a digest even in a week without breaches, with those apps' sections."""
    from django.utils.module_loading import import_string

    owners = set()
    for path in getattr(settings, "DIGEST_RECIPIENTS", ()):
        owners |= set(import_string(path)(today))
    return owners


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
        return not self.breach_count and not self.overdue_count and not self.sections


def _number(value, unit):
    if value is None:
        return "—"
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return f"{text} %" if unit == "%" else f"{text} {unit}"


def build_digest(user, week, all_vendors=False, today=None, limit=LIMIT):
    """The digest for ``user`` and ISO ``week`` (``2026-W47``), or None when there is nothing to report:
    ``build_digests`` for one recipient."""
    return build_digests([(user, all_vendors)], week, today, limit)[user.pk]


def build_digests(recipients, week, today=None, limit=LIMIT):
    """``{user id: Digest or None}`` for ``recipients`` (``[(user, all_vendors)]``) and ISO ``week``.

    The same queries whatever the number of recipients and breaches: the week's breaches, the open
    overdue replacements, the renewals due (each for all the batch's contracts at once), the exchange
    rates when credits are in a currency other than the reporting one, and one per digest section hook.
    A batch with an all-vendors recipient reads everything, so the planner gives those a batch of their
    own (``plan_weekly_batches``). Everything the templates need is evaluated here.
    """
    week_start, week_end = periods.parse_iso_week(week)
    today = today or timezone.localdate()
    recipients = list(recipients)
    scope = DigestScope(
        owner_ids=frozenset(user.pk for user, everything in recipients if not everything),
        all_vendors=any(everything for _user, everything in recipients),
        week_start=week_start,
        week_end=week_end,
        today=today,
    )
    contracts = scope.contracts()
    new_breaches = scope.split(list(_new_breaches(contracts, week_start, week_end)), _owner_of_breach)
    overdue = scope.split(list(_overdue_replacements(contracts)), _owner_of_breach)
    sections = extra_sections(scope)
    has_news = {key for key in new_breaches if new_breaches[key] or overdue[key] or sections.get(key)}
    if not has_news:
        return {user.pk: None for user, _everything in recipients}
    renewals = scope.split(list(contracts_due_for_notice(NOTICE_WINDOW_DAYS, today, contracts)), _owner_of_contract)
    rates = RateBook.for_rows(_credit_rows(row for rows in new_breaches.values() for row in rows))

    write = Writer()
    digests = {}
    for user, everything in recipients:
        key = ALL_VENDORS if everything else user.pk
        digests[user.pk] = (
            _assemble(
                user,
                week,
                everything,
                new_breaches[key],
                overdue[key],
                renewals[key],
                sections.get(key, []),
                rates,
                today,
                limit,
                write,
            )
            if key in has_news
            else None
        )
    return digests


def _owner_of_breach(breach):
    return breach.contract.owner_id


def _owner_of_contract(contract):
    return contract.owner_id


# The columns the digest shows (a batch reads thousands of rows through six joins: no more than it needs).
BREACH_FIELDS = (
    *("kind", "severity", "status", "contract", "sla", "obligation", "period_start", "period_end"),
    *("expected", "minimum", "actual", "service_credit", "detected_at"),
    *("contract__reference", "contract__title", "contract__currency", "contract__owner", "contract__vendor"),
    "contract__vendor__name",
)
SLA_FIELDS = ("frequency", "kpi", "kpi__name", "kpi__unit")
OBLIGATION_FIELDS = ("obligation__due_on", "obligation__departed__full_name", "obligation__departed__left_on")


def _new_breaches(contracts, week_start, week_end):
    """The week's news on ``contracts``, in the order the digest lists them: withdrawn breaches are not
    news, and an open replacement breach is listed as an overdue replacement instead."""
    return (
        Breach.objects.detected_between(week_start, week_end)
        .exclude(status=BreachStatus.WITHDRAWN)
        .exclude(kind=BreachKind.REPLACEMENT, status__in=OPEN_STATUSES)
        .filter(contract__in=contracts)
        .select_related("contract__vendor", "sla__kpi", "obligation__departed")
        .only(*BREACH_FIELDS, *(f"sla__{name}" for name in SLA_FIELDS), *OBLIGATION_FIELDS)
        .order_by(
            "contract__vendor__name",
            "contract__reference",
            Case(When(severity=Severity.MAJOR, then=Value(0)), default=Value(1)),
            "period_start",
            "pk",
        )
    )


def _overdue_replacements(contracts):
    return (
        Breach.objects.filter(kind=BreachKind.REPLACEMENT, status__in=OPEN_STATUSES, contract__in=contracts)
        .select_related("contract__vendor", "obligation__departed")
        .only(*BREACH_FIELDS, *OBLIGATION_FIELDS)
        .order_by("contract__vendor__name", "contract__reference", "obligation__due_on", "pk")
    )


def _credit_rows(new_breaches):
    """``(currency, month, credit)`` of the credited breaches, the rows ``RateBook`` totals."""
    return [(b.contract.currency, b.period_end, b.service_credit) for b in new_breaches if b.service_credit]


def _assemble(user, week, all_vendors, new_breaches, overdue, renewals, sections, rates, today, limit, write):
    """One recipient's ``Digest`` from the rows of its contracts (already read, in digest order)."""
    week_start, week_end = periods.parse_iso_week(week)
    groups: dict[int, ContractGroup] = {}
    vendor_of: dict[int, object] = {}

    def group_for(contract):
        if contract.pk not in groups:
            groups[contract.pk] = ContractGroup(
                contract.pk, contract.reference, contract.title, write.contract_url(contract.pk), contract.currency
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
        group.breaches.append(_breach_line(breach, write))
    for breach in overdue:
        group = group_for(breach.contract)
        if len(group.breaches) + len(group.overdue) >= limit:
            group.more_overdue += 1
            continue
        group.overdue.append(_overdue_line(breach, week_start, week_end, today, write))

    # The contracts shown in full: most major breaches, then most lines, then by reference.
    ranked = sorted(groups.values(), key=lambda g: (-g.major_count, -g.line_count, g.reference))
    shown, left_out = ranked[:limit], ranked[limit:]
    vendors: OrderedDict[int, VendorGroup] = OrderedDict()
    for group in sorted(shown, key=lambda g: (vendor_of[g.id].name, g.reference)):
        vendor = vendor_of[group.id]
        if vendor.pk not in vendors:
            vendors[vendor.pk] = VendorGroup(vendor.pk, vendor.name, write.vendor_url(vendor.pk))
        vendors[vendor.pk].contracts.append(group)
        if group.more_count:
            group.more_url = write.breach_list_url(contract=group.id)

    everything_url = write.breach_list_url() if all_vendors else write.breach_list_url(mine="true")
    return Digest(
        recipient_id=user.pk,
        recipient_email=user.email,
        recipient_name=user.get_full_name() or user.get_username(),
        week=week,
        week_start=week_start,
        week_end=week_end,
        all_vendors=all_vendors,
        week_label=f"{write.date(week_start)} – {write.date(week_end)}",
        vendors=list(vendors.values()),
        breach_count=len(new_breaches),
        major_count=sum(1 for b in new_breaches if b.severity == Severity.MAJOR),
        overdue_count=len(overdue),
        credits=[(currency, format_money(amount, currency)) for currency, amount in sorted(credits.items())],
        credits_total=rates.total(_credit_rows(new_breaches)),
        renewals=[
            {
                "reference": contract.reference,
                "title": contract.title,
                "vendor": contract.vendor.name,
                "url": write.contract_url(contract.pk),
                "notice_deadline": write.date(contract.notice_deadline),
                "end_date": write.date(contract.end_date),
                "auto_renew": contract.auto_renew,
                "days_left": (contract.notice_deadline - today).days,
            }
            for contract in renewals
        ],
        breaches_url=everything_url,
        site_url=write.site_url,
        more_contracts=len(left_out),
        more_contracts_lines=sum(g.line_count for g in left_out),
        more_contracts_url=everything_url,
        sections=sections,
    )


def _label(choices, value):
    """``get_<field>_display()`` without building the choices' dict for every call."""
    return str(_labels(choices).get(value, value))


@functools.lru_cache(maxsize=8)
def _labels(choices):
    return dict(choices.choices)


@functools.lru_cache(maxsize=4096)
def _describe_period(frequency, start):
    return periods.describe_period(frequency, start)  # strftime, for the same few periods thousands of times


def _breach_line(breach, write):
    if breach.sla_id:
        unit = _label(Unit, breach.sla.kpi.unit)
        subject = breach.sla.kpi.name
        if breach.sla.frequency == "daily":
            period = write.date(breach.period_start)
        else:
            period = _describe_period(breach.sla.frequency, breach.period_start)
    else:
        unit = ""
        subject = f"Replacement for {breach.obligation.departed.full_name}" if breach.obligation_id else "Replacement"
        period = f"due {write.date(breach.period_end)}"
    return BreachLine(
        id=breach.pk,
        url=write.breach_url(breach.pk),
        kind=breach.kind,
        kind_label=_label(BreachKind, breach.kind),
        severity=breach.severity,
        status=_label(BreachStatus, breach.status),
        subject=subject,
        period=period,
        expected=_number(breach.expected, unit) if breach.sla_id else "—",
        minimum=_number(breach.minimum, unit) if breach.sla_id else "—",
        actual=(_number(breach.actual, unit) if breach.actual is not None else "not reported")
        if breach.sla_id
        else "—",
        credit=format_money(breach.service_credit, breach.contract.currency) if breach.service_credit else "",
        detected_on=write.date(breach.detected_at),
    )


def _overdue_line(breach, week_start, week_end, today, write):
    departed = breach.obligation.departed if breach.obligation_id else None
    due_on = breach.obligation.due_on if breach.obligation_id else breach.period_end
    detected = timezone.localtime(breach.detected_at, write.zone).date()
    return OverdueLine(
        breach_id=breach.pk,
        url=write.breach_url(breach.pk),
        staff_name=departed.full_name if departed else "—",
        left_on=write.date(departed.left_on if departed else breach.period_start),
        due_on=write.date(due_on),
        days_overdue=max((today - due_on).days, 0),
        status=_label(BreachStatus, breach.status),
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
    owners |= owners_with_sections(timezone.localdate())
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
    sent = already_sent(week)
    recipients = [(user, everything) for user, everything in digest_recipients(week).items() if user.pk not in sent]
    digests = []
    for batch in _batches(recipients, lambda recipient: recipient[1]):
        built = build_digests(batch, week, today)
        digests += [built[user.pk] for user, _everything in batch if built[user.pk] is not None]
    return digests


# --- sending once, in batches ------------------------------------------------------------------------
# Still to send: never attempted (``pending``) or failed. ``plan_weekly_digest`` returns these rows and
# ``claim_deliveries`` may claim them (and also a ``sending`` claim whose lease ran out).
NOT_SENT = Q(status__in=[DigestDelivery.Status.PENDING, DigestDelivery.Status.FAILED])
# Digests built, rendered and sent together: one set of queries and one SMTP connection per batch. Small
# enough that a batch takes seconds (time limits, retries) and the workers share the last ones evenly.
BATCH_SIZE = 200


def _batches(items, is_all_vendors, size=None):
    """``items`` in batches of ``size``; the all-vendors ones (whose digests read every contract) apart."""
    items, size = list(items), size or BATCH_SIZE
    batches = []
    for everything in (False, True):
        chosen = [item for item in items if is_all_vendors(item) == everything]
        batches += [chosen[start : start + size] for start in range(0, len(chosen), size)]
    return batches


def _plan(week):
    recipients = digest_recipients(week)
    DigestDelivery.objects.bulk_create(
        [DigestDelivery(recipient=user, week=week, all_vendors=everything) for user, everything in recipients.items()],
        ignore_conflicts=True,
    )
    return list(
        DigestDelivery.objects.filter(NOT_SENT, week=week, recipient__in=list(recipients))
        .order_by("recipient_id")
        .values_list("pk", "all_vendors")
    )


def plan_weekly_digest(week):
    """Create one ``DigestDelivery`` per recipient for ``week``; return the ids still to send.

    Two statements whatever the number of recipients (plus the recipients' own query): one
    ``bulk_create(ignore_conflicts=True)`` and one select. Returned are the rows never attempted and
    the ``failed`` ones (retrying is safe, see ``deliver_digests``); a ``sent`` row, or one being
    sent, is not. Running this twice for a week returns only what is not sent yet.
    """
    return [pk for pk, _everything in _plan(week)]


def plan_weekly_batches(week, size=None):
    """``plan_weekly_digest`` in batches of at most ``size`` (``BATCH_SIZE``) delivery ids, the all-vendors
    digests in batches of their own (each reads every contract's breaches)."""
    batches = _batches(_plan(week), lambda row: row[1], size or BATCH_SIZE)
    return [[pk for pk, _everything in batch] for batch in batches]


# A claim older than this is presumed dead (worker killed mid-send) and may be taken over.
# Far longer than the e-mail tasks' time limits, so a live send is never taken over.
CLAIM_LEASE = datetime.timedelta(minutes=15)


def claim_deliveries(delivery_ids):
    """Claim the deliveries of ``delivery_ids`` that may be sent now, with their recipients: of two workers
    (a retry and a duplicate task, two beat ticks…) exactly one gets each row. Claimable: ``pending``
    (never attempted), ``failed``, or a ``sending`` claim whose lease ran out. Two statements: the rows
    read ``FOR UPDATE`` (a second claimer waits, then finds them ``sending``), and one UPDATE."""
    now = timezone.now()
    lease_ran_out = Q(status=DigestDelivery.Status.SENDING, claimed_at__lt=now - CLAIM_LEASE)
    with transaction.atomic():
        claimed = list(
            DigestDelivery.objects.select_for_update(of=("self",))
            .filter(NOT_SENT | lease_ran_out, pk__in=delivery_ids)
            .select_related("recipient")
            .order_by("recipient_id")
        )
        DigestDelivery.objects.filter(pk__in=[delivery.pk for delivery in claimed]).update(
            status=DigestDelivery.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now
        )
    return claimed


def claim_delivery(delivery_id):
    """Claim one delivery (``claim_deliveries``); True when this caller has it."""
    return bool(claim_deliveries([delivery_id]))


# Errors after which the SMTP connection is not worth using for the rest of a batch (server gone, refused
# us, timed out): the batch stops and its unsent rows are offered to the retry. Any other error is the
# message's own (a refused recipient, a 4xx/5xx for its data): recorded, and the batch goes on.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


@dataclass
class DeliveryReport:
    """What ``deliver_digests`` did with each delivery id: ``"sent"``, ``"nothing to report"``,
    ``"already sent"``, ``"claimed elsewhere"``, ``"failed"`` or ``"not attempted"`` (after the
    connection failed), with the errors of the failed ones."""

    outcomes: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    def count(self, outcome):
        return sum(1 for value in self.outcomes.values() if value == outcome)

    def raise_first_error(self):
        """Re-raise the first send error, so Celery retries the batch (what was sent is not claimed again)."""
        if self.errors:
            raise next(iter(self.errors.values()))


def deliver_digests(delivery_ids, today=None, connection=None):
    """Send the planned digests of ``delivery_ids`` that are not sent (or being sent) already: claim them,
    build them together (``build_digests``), and send them over one SMTP connection, marking each ``sent``
    as soon as it has gone (one UPDATE each, so a worker killed mid-batch re-sends nothing that went out).

    No database transaction or lock is held during the SMTP conversation. A message that fails is marked
    ``failed`` with its error; when the connection itself fails, the batch stops and its rows not yet
    tried are marked ``failed`` too ("not attempted"), their claim given back. Returns a
    ``DeliveryReport``; the caller re-raises its first error to have Celery retry.
    """
    report = DeliveryReport()
    claimed = claim_deliveries(delivery_ids)
    unclaimed = set(delivery_ids) - {delivery.pk for delivery in claimed}
    if unclaimed:
        for pk, status in DigestDelivery.objects.filter(pk__in=unclaimed).values_list("pk", "status"):
            report.outcomes[pk] = "already sent" if status == DigestDelivery.Status.SENT else "claimed elsewhere"
    if not claimed:
        return report
    digests = {}
    for week in sorted({delivery.week for delivery in claimed}):  # one week, but nothing relies on it
        recipients = [(d.recipient, d.all_vendors) for d in claimed if d.week == week]
        digests[week] = build_digests(recipients, week, today)
    connection = connection or get_connection()
    try:
        _send_claimed(claimed, digests, connection, report)
    finally:
        with contextlib.suppress(OSError):  # a connection that broke may fail to say goodbye
            connection.close()
    return report


def _send_claimed(claimed, digests, connection, report):
    from .emails import breach_digest_message

    for index, delivery in enumerate(claimed):
        rows = DigestDelivery.objects.filter(pk=delivery.pk)
        digest = digests[delivery.week][delivery.recipient_id]
        if digest is None:
            _record(rows, status=DigestDelivery.Status.SENT, subject="", error="Nothing left to report when sending.")
            report.outcomes[delivery.pk] = "nothing to report"
            continue
        recorded = {"subject": digest.subject[:255], "breach_count": digest.breach_count}
        try:
            connection.open()  # the batch's one connection: opened for the first message, then a no-op
            breach_digest_message(digest, connection=connection).send(fail_silently=False)
        except Exception as error:
            _record(rows, status=DigestDelivery.Status.FAILED, error=_error_text(error), **recorded)
            report.outcomes[delivery.pk], report.errors[delivery.pk] = "failed", error
            if not isinstance(error, MESSAGE_ERRORS):
                _give_back([d.pk for d in claimed[index + 1 :]], error, report)
                break
            continue
        _record(rows, status=DigestDelivery.Status.SENT, sent_at=timezone.now(), error="", **recorded)
        report.outcomes[delivery.pk] = "sent"


def _record(rows, **fields):
    """Record a send on its delivery row, with PostgreSQL's ``synchronous_commit`` off for that one
    transaction: the commit does not wait for the WAL to reach the disk (0.25 ms instead of 8.4 ms a commit
    on the benchmark machine, 40 s of 10,000 managers' digests). Consistency is unchanged; what PostgreSQL
    may lose is the last fraction of a second of commits if the database server itself crashes, and then
    the row stays ``sending``, which no plan offers again (a digest recorded as unsent rather than one sent
    twice). The claim before sending commits as usual. ``SET LOCAL``: nothing outlives the transaction
    (a pooled server connection included)."""
    with transaction.atomic():
        if database.vendor == "postgresql":
            with database.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO off")
        rows.update(**fields)


def _error_text(error):
    return f"{type(error).__name__}: {error}"[:2000]


def _give_back(delivery_ids, error, report):
    """Rows of a batch stopped by ``error`` before their turn: claimable again by the retry, not counted as
    an attempt."""
    DigestDelivery.objects.filter(pk__in=delivery_ids).update(
        status=DigestDelivery.Status.FAILED,
        attempts=F("attempts") - 1,
        error=f"Not attempted: the batch stopped at {_error_text(error)}"[:2000],
    )
    for pk in delivery_ids:
        report.outcomes[pk] = "not attempted"


def deliver_digest(delivery_id, today=None, connection=None):
    """Send one planned digest unless it has been sent (or is being sent) already (``deliver_digests``
    for one id). Returns ``"sent"``, ``"already sent"``, ``"claimed elsewhere"`` or ``"nothing to
    report"``; a send that raises is recorded (``failed``, error) and re-raised, so Celery retries it."""
    report = deliver_digests([delivery_id], today, connection)
    report.raise_first_error()
    return report.outcomes[delivery_id]
