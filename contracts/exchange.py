"""Totals over several currencies (DESIGN.md rule 2, "Currencies"): never added together; shown per
currency and as a total in ``settings.REPORTING_CURRENCY`` at each month's ``ExchangeRate``.

The input is rows of ``(currency, month, amount)`` — month: any day of it; a breach's credit counts in the
month of its ``period_end``, a fee in the month in question — typically straight from one aggregate query
(``Breach.objects.credit_by_month()``). ``money_total(rows)`` returns a ``common.money.MoneyTotal``;
``RateBook`` converts many groups of rows (a report's rows) with one query for all their rates.
A (currency, month) without a rate is listed as missing, never filled from another month; amounts already
in the reporting currency need no rate. Amounts of zero are left out (they need no rate either).
"""

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.checks import Error, register

from common.money import MoneyTotal, round_money

from .models import ExchangeRate

ZERO = Decimal("0")


def reporting_currency():
    return settings.REPORTING_CURRENCY


def _month(day):
    return day.replace(day=1)


class RateBook:
    """The rates the given (currency, month) pairs need, read in one query (none when every currency is
    the reporting one)."""

    def __init__(self, pairs=(), currency=None):
        self.currency = currency or reporting_currency()
        needed = {(code, _month(month)) for code, month in pairs if code != self.currency}
        self.rates = (
            {
                (code, month): rate
                for code, month, rate in ExchangeRate.objects.for_pairs(needed).values_list("currency", "month", "rate")
            }
            if needed
            else {}
        )

    @classmethod
    def for_rows(cls, rows, currency=None):
        return cls(((code, month) for code, month, amount in rows if amount), currency)

    def rate(self, code, month):
        """1 unit of ``code`` in the reporting currency in ``month``; None when no rate is kept."""
        if code == self.currency:
            return Decimal(1)
        return self.rates.get((code, _month(month)))

    def total(self, rows):
        """``MoneyTotal`` of ``(currency, month, amount)`` rows (an iterable, read once)."""
        per_currency = defaultdict(lambda: ZERO)
        converted = ZERO
        missing = set()
        for code, month, amount in rows:
            if not amount:
                continue
            per_currency[code] += amount
            rate = self.rate(code, month)
            if rate is None:
                missing.add((code, _month(month)))
            else:
                converted += amount * rate
        return MoneyTotal(
            by_currency=tuple(sorted(per_currency.items())),
            reporting_currency=self.currency,
            reporting=round_money(converted, self.currency),
            missing=tuple(sorted(missing)),
        )

    def convert(self, code, month, amount):
        """One amount as a ``MoneyTotal`` (a report cell in the reporting currency)."""
        return self.total([(code, month, amount)])


def money_total(rows, currency=None):
    """Per-currency amounts and the reporting-currency total of ``(currency, month, amount)`` rows: the
    rows' own query plus at most one for the rates."""
    rows = list(rows)
    return RateBook.for_rows(rows, currency).total(rows)


@register()
def check_reporting_currency(app_configs, **kwargs):
    """``REPORTING_CURRENCY`` must be an ISO 4217 code (upper case, as contracts store theirs)."""
    from babel.numbers import is_currency

    code = getattr(settings, "REPORTING_CURRENCY", "")
    if not is_currency(code):
        return [
            Error(
                f"REPORTING_CURRENCY {code!r} is not an ISO 4217 currency code.",
                hint="Set the REPORTING_CURRENCY environment variable to e.g. USD or EUR.",
                id="contracts.E001",
            )
        ]
    return []
