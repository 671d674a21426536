"""The one money formatter: ISO code first, the currency's own digits and grouping, half-up."""

from decimal import Decimal as D

import pytest
from django.template import Context, Template

from common.money import MoneyTotal, format_money

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (D("1234.5"), "USD", "USD 1,234.50"),
        (D("1234567.891"), "EUR", "EUR 1,234,567.89"),
        (D("123456"), "INR", "INR 1,23,456.00"),  # Indian grouping: lakhs and crores
        (D("12345678.9"), "INR", "INR 1,23,45,678.90"),
        (D("1234.5"), "JPY", "JPY 1,235"),  # no minor unit; half-up, not banker's rounding
        (D("2.5"), "JPY", "JPY 3"),
        (D("0.005"), "USD", "USD 0.01"),  # money rounds half-up to cents
        (D("-1500"), "USD", "-USD 1,500.00"),
        (0, "usd", "USD 0.00"),
    ],
)
def test_format_money_uses_the_currency_code_digits_and_grouping(amount, currency, shown):
    assert format_money(amount, currency) == shown.replace(" ", NBSP)  # never broken across lines


def test_money_without_an_amount_is_a_dash_and_never_without_a_currency():
    assert format_money(None, "USD") == "—"
    with pytest.raises(ValueError):
        format_money(D("1"), "")


def test_money_template_filter_is_the_same_formatter():
    html = Template("{% load ui %}{{ fee|money:'INR' }} / {{ none|money:'USD' }}").render(
        Context({"fee": D("250000"), "none": None})
    )
    assert html == f"INR{NBSP}2,50,000.00 / —"


def test_money_total_says_what_is_missing():
    from datetime import date

    total = MoneyTotal(
        by_currency=(("EUR", D("100")), ("INR", D("5000")), ("USD", D("50"))),
        reporting_currency="USD",
        reporting=D("160.00"),
        missing=(("INR", date(2026, 10, 1)),),
    )
    assert not total.complete and total.converted
    assert total.missing_text == "no rate for INR 2026-10"
    assert total.reporting_text == f"USD{NBSP}160.00 (incomplete: no rate for INR 2026-10)"
    assert str(total) == "incomplete: no rate for INR 2026-10"
    assert total.lines() == [f"EUR{NBSP}100.00", f"INR{NBSP}5,000.00", f"USD{NBSP}50.00"]
