"""Money on screen: the one formatter, and the shape of a total over several currencies.

``format_money(Decimal("1234.5"), "USD")`` → ``"USD 1,234.50"`` everywhere money is shown (pages, admin,
reports, e-mails): the ISO 4217 code first (never a symbol: ``$`` is several currencies), a no-break space,
then the amount with the currency's own minor units (JPY none, most two) rounded half-up, grouped the way
the currency is written: ``INR 1,23,456.00`` (lakh / crore), ``USD 123,456.00``. Built on babel's
``format_currency`` with the site language (``LANGUAGE_CODE``) as the locale; ``CURRENCY_GROUPING_LOCALES``
names the currencies grouped by another locale's convention.

``MoneyTotal`` is what a total over several currencies looks like (``contracts.exchange`` computes it):
an amount per currency, never added together, and the sum in the organisation's reporting currency at
each month's rate, with the (currency, month) pairs that had no rate. This module imports no domain app.
"""

import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.numbers import format_currency, get_currency_precision, parse_pattern
from django.conf import settings
from django.utils.translation import to_locale

NBSP = "\u00a0"
# Currencies whose amounts are grouped by another locale's convention than the site's.
CURRENCY_GROUPING_LOCALES = {"INR": "en_IN"}


def money_locale():
    """The babel locale money is written in: the site language (``en-us`` → ``en_US``)."""
    return to_locale(settings.LANGUAGE_CODE)


@functools.lru_cache(maxsize=64)
def _pattern(currency, locale):
    """The babel number pattern for ``currency``: ISO code, no-break space, the grouping of the locale the
    currency is written in (``#,##,##0`` for INR), two decimals that babel sets to the currency's digits."""
    grouping_locale = Locale.parse(CURRENCY_GROUPING_LOCALES.get(currency, locale))
    integer_part = grouping_locale.decimal_formats[None].pattern.split(".")[0].split(";")[0]
    return parse_pattern(f"¤¤{NBSP}{integer_part}.00")


@functools.lru_cache(maxsize=64)
def _quantum(currency):
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_money(amount, currency):
    """``amount`` rounded half-up to the currency's minor unit (cents; whole yen)."""
    return Decimal(amount).quantize(_quantum(currency), ROUND_HALF_UP)


def format_money(amount, currency, empty="—"):
    """``USD 1,234.50``, ``INR 1,23,456.00``, ``JPY 1,235``; ``empty`` for None or ""."""
    if amount is None or amount == "":
        return empty
    currency = (currency or "").upper()
    if not currency:
        raise ValueError("format_money needs a currency: money is never shown without one.")
    return _format(round_money(amount, currency), currency, money_locale())


@functools.lru_cache(maxsize=16384)
def _format(amount, currency, locale):
    """babel's ``format_currency`` costs ~0.1 ms a call; report pages show thousands of amounts, many the same
    (caps, fees, zeros): remembered per rounded amount, currency and locale."""
    return format_currency(amount, currency, format=_pattern(currency, locale), locale=locale, currency_digits=True)


def format_month(month):
    return f"{month:%Y-%m}"


@dataclass(frozen=True)
class MoneyTotal:
    """A total over amounts in several currencies.

    ``by_currency``: ``((currency, amount), …)`` by currency code, each in its own currency. ``reporting``:
    the sum in ``reporting_currency`` of every amount whose month had a rate; ``missing``: the
    ``((currency, month), …)`` without one. While anything is missing the reporting total is incomplete.
    """

    by_currency: tuple = ()
    reporting_currency: str = ""
    reporting: Decimal = Decimal("0")
    missing: tuple = ()

    @property
    def complete(self):
        return not self.missing

    @property
    def converted(self):
        """True when some amount is in another currency than the reporting one (the reporting total
        then says something the per-currency lines do not)."""
        return any(currency != self.reporting_currency for currency, _ in self.by_currency)

    @property
    def is_empty(self):
        return not self.by_currency

    @property
    def missing_text(self):
        """``no rate for INR 2026-10, PHP 2026-11`` (empty when complete)."""
        if not self.missing:
            return ""
        return "no rate for " + ", ".join(f"{currency} {format_month(month)}" for currency, month in self.missing)

    def lines(self):
        """The per-currency amounts, formatted."""
        return [format_money(amount, currency) for currency, amount in self.by_currency]

    @property
    def reporting_text(self):
        """``USD 3,080.00``; ``USD 1,080.00 (incomplete: no rate for INR 2026-10)``; or, when nothing could
        be converted, ``no rate for INR 2026-10``."""
        if not self.missing:
            return format_money(self.reporting, self.reporting_currency)
        if not self.reporting:  # nothing converted: a zero would read as a figure
            return self.missing_text
        return f"{format_money(self.reporting, self.reporting_currency)} (incomplete: {self.missing_text})"

    def __str__(self):
        """Plain text for a CSV cell: the reporting amount when complete, else what is missing."""
        if self.is_empty:
            return ""
        return str(self.reporting) if self.complete else f"incomplete: {self.missing_text}"
