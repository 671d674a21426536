"""The KPI entry page of one contract (``/contracts/<id>/kpis/?period=&frequency=``): which period it
shows, which SLAs, and where its links go.

* ``?period=`` is a month ``2026-11``, an ISO week ``2026-W47``, a day ``2026-11-09`` or a quarter
  ``2026-Q4`` (``periods.parse_period_param``); a bad one is an error on the page, never a shift.
* The page shows the SLAs of one frequency: by default the period's own (a week page: weekly SLAs).
  ``&frequency=`` may ask for a finer one inside the period: ``?period=2026-W47&frequency=daily`` is the
  seven days of that week for every daily SLA, on one screen.
* Previous / next step by the period given; the frequency switch offers the frequencies the contract's
  active SLAs use.
* ``entry_url(sla, start)`` is the link that opens exactly the period of ``sla`` starting on ``start``
  (SLA page, breach page, dashboard).
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from . import periods
from .choices import Frequency

FREQUENCY_NOUN = {
    Frequency.DAILY: "day",
    Frequency.WEEKLY: "week",
    Frequency.MONTHLY: "month",
    Frequency.QUARTERLY: "quarter",
}


def entry_query(frequency, start, shown=None):
    """The query string (without ``?``) of the page of the period of ``frequency`` containing ``start``,
    showing the SLAs of ``shown`` (default: ``frequency``)."""
    params = {"period": periods.period_param(frequency, start)}
    if shown and shown != frequency:
        params["frequency"] = shown
    return urlencode(params)


def entry_url(sla_or_contract_id, frequency, start):
    """The KPI entry page that opens exactly the period of ``frequency`` starting on ``start``."""
    contract_id = getattr(sla_or_contract_id, "contract_id", sla_or_contract_id)
    return f"{reverse('contracts:kpi_entry', args=[contract_id])}?{entry_query(frequency, start)}"


def sla_entry_url(sla, start):
    return entry_url(sla, sla.frequency, start)


@dataclass
class EntryPage:
    contract_id: int
    slas: list  # every active SLA of the contract, KPI joined
    span_frequency: str = Frequency.MONTHLY  # the frequency of ``?period=``
    start: datetime.date | None = None  # the period given: first and last day
    end: datetime.date | None = None
    frequency: str = Frequency.MONTHLY  # the SLAs shown
    error: str = ""

    @property
    def period_value(self):
        return periods.period_param(self.span_frequency, self.start)

    @property
    def label(self):
        return periods.describe_period(self.span_frequency, self.start)

    @property
    def shown_slas(self):
        return [sla for sla in self.slas if sla.frequency == self.frequency]

    @property
    def one_period_per_sla(self):
        return self.frequency == self.span_frequency

    @property
    def input_type(self):
        """The HTML input that edits ``?period=`` (browsers without it fall back to text)."""
        return {"daily": "date", "weekly": "week", "monthly": "month"}.get(self.span_frequency, "text")

    @property
    def span_noun(self):
        return FREQUENCY_NOUN[self.span_frequency]

    @property
    def shown_noun(self):
        return FREQUENCY_NOUN[self.frequency]

    def get_frequency_display(self):
        return Frequency(self.frequency).label

    @property
    def used_frequencies(self):
        used = {sla.frequency for sla in self.slas}
        return [f for f in periods.FREQUENCY_ORDER if f in used]

    def query(self, start, frequency=None):
        return "?" + entry_query(self.span_frequency, start, frequency or self.frequency)

    def switch_links(self):
        """[(label, query, active)] for each frequency the contract's SLAs use. Daily opens the week of
        days (unless the page is a single day already); the others the period containing this page's start."""
        links = []
        for frequency in self.used_frequencies:
            if frequency == Frequency.DAILY and self.span_frequency != Frequency.DAILY:
                query = "?" + entry_query(Frequency.WEEKLY, self.start, Frequency.DAILY)
            else:
                query = "?" + entry_query(frequency, self.start)
            links.append((Frequency(frequency).label, query, frequency == self.frequency))
        return links


def default_frequency(slas):
    used = {sla.frequency for sla in slas}
    for frequency in (Frequency.MONTHLY, Frequency.WEEKLY, Frequency.DAILY, Frequency.QUARTERLY):
        if frequency in used:
            return frequency
    return Frequency.MONTHLY


def resolve_page(contract, period_text, frequency_text, today, slas=None):
    """The ``EntryPage`` for the request's ``period`` and ``frequency``; ``page.error`` says what is wrong
    with them (the view answers 400 and shows no form then). One query: the contract's active SLAs."""
    if slas is None:
        slas = list(contract.slas.active().select_related("kpi").order_by("kpi__name", "effective_from"))
    page = EntryPage(contract_id=contract.pk, slas=slas)
    period_text = (period_text or "").strip()
    frequency_text = (frequency_text or "").strip()
    if not period_text:
        page.frequency = default_frequency(slas)
        if page.frequency == Frequency.DAILY:  # the last complete week's days, yesterday's included
            page.span_frequency = Frequency.WEEKLY
            day = today - periods.ONE_DAY
        else:
            page.span_frequency = page.frequency
            day = periods.previous_period_start(page.frequency, today)
        page.start, page.end = periods.period_bounds(page.span_frequency, day)
        return page
    try:
        page.span_frequency, page.start = periods.parse_period_param(period_text, today)
    except ValueError as error:
        page.error = str(error)
        page.start = periods.previous_period_start(Frequency.MONTHLY, today)
        page.span_frequency = page.frequency = Frequency.MONTHLY
        page.end = periods.period_end(Frequency.MONTHLY, page.start)
        return page
    page.end = periods.period_end(page.span_frequency, page.start)
    page.frequency = frequency_text or page.span_frequency
    if page.frequency not in Frequency.values or not periods.finer_or_equal(page.frequency, page.span_frequency):
        noun = FREQUENCY_NOUN[page.span_frequency]
        page.error = (
            f"“{frequency_text[:20]}” cannot be shown on a {noun} page: choose "
            + ", ".join(f for f in periods.FREQUENCY_ORDER if periods.finer_or_equal(f, page.span_frequency))
            + "."
        )
        page.frequency = page.span_frequency
    return page


def navigation(page, today):
    """Previous / next period of the page (stepping by the period given), or None past the range."""
    previous_start = periods.previous_period_start(page.span_frequency, page.start)
    next_start = periods.next_period_start(page.span_frequency, page.start)
    first = datetime.date(periods.FIRST_YEAR, 1, 1)
    last = datetime.date(today.year + periods.YEARS_AHEAD, 12, 31)
    return {
        "previous": page.query(previous_start) if previous_start >= first else None,
        "next": page.query(next_start) if next_start <= last else None,
        "previous_label": periods.describe_period(page.span_frequency, previous_start),
        "next_label": periods.describe_period(page.span_frequency, next_start),
    }
