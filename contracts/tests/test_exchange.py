"""ExchangeRate and the conversion of totals over several currencies (DESIGN rule 2, "Currencies")."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from contracts.exchange import RateBook, money_total
from contracts.models import ExchangeRate
from tests.factories import ExchangeRateFactory

pytestmark = pytest.mark.django_db

OCT, NOV = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"month": datetime.date(2026, 10, 15)}, "month"),
        ({"rate": D("0")}, "rate"),
        ({"rate": D("-1.2")}, "rate"),
        ({"currency": "XYZ"}, "currency"),  # an ISO code as contracts store them
        ({"currency": "eur"}, "currency"),
        ({"currency": "USD"}, "currency"),  # the reporting currency needs no rate
    ],
)
def test_exchange_rate_validation(fields, field):
    rate = ExchangeRate(**{"currency": "EUR", "month": OCT, "rate": D("1.08"), **fields})
    with pytest.raises(ValidationError) as excinfo:
        rate.full_clean()
    assert field in excinfo.value.message_dict


def test_one_rate_per_currency_and_month():
    ExchangeRateFactory(currency="EUR", month=OCT)
    with pytest.raises(ValidationError):
        ExchangeRate(currency="EUR", month=OCT, rate=D("1.2")).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeRate.objects.create(currency="EUR", month=OCT, rate=D("1.2"))


def test_database_refuses_a_mid_month_or_non_positive_rate():
    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeRate.objects.create(currency="EUR", month=datetime.date(2026, 10, 2), rate=D("1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeRate.objects.create(currency="EUR", month=OCT, rate=D("0"))


def test_totals_per_currency_and_in_the_reporting_currency_each_month_at_its_rate(django_assert_num_queries):
    ExchangeRateFactory(currency="EUR", month=OCT, rate=D("1.10"))
    ExchangeRateFactory(currency="EUR", month=NOV, rate=D("1.20"))
    ExchangeRateFactory(currency="INR", month=OCT, rate=D("0.012"))
    rows = [
        ("USD", OCT, D("1000.00")),
        ("EUR", datetime.date(2026, 10, 31), D("100.00")),  # any day: the month's rate
        ("EUR", NOV, D("100.00")),
        ("INR", OCT, D("123456.00")),
    ]
    with django_assert_num_queries(1):  # the rates, all at once
        total = money_total(rows)
    assert total.by_currency == (("EUR", D("200.00")), ("INR", D("123456.00")), ("USD", D("1000.00")))
    assert total.reporting_currency == "USD"
    assert total.reporting == D("1000.00") + D("110.00") + D("120.00") + D("1481.47")
    assert total.complete and total.missing_text == ""


def test_a_missing_rate_is_listed_never_guessed():
    ExchangeRateFactory(currency="EUR", month=OCT, rate=D("1.10"))  # October only
    total = money_total([("USD", NOV, D("50")), ("EUR", OCT, D("100")), ("EUR", NOV, D("100"))])
    assert total.by_currency == (("EUR", D("200")), ("USD", D("50")))
    assert total.reporting == D("160.00")  # 50 + 110: November's euros are not converted at October's rate
    assert not total.complete
    assert total.missing == (("EUR", NOV),)
    assert total.missing_text == "no rate for EUR 2026-11"
    assert "incomplete: no rate for EUR 2026-11" in total.reporting_text


def test_amounts_in_the_reporting_currency_need_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        total = money_total([("USD", OCT, D("10")), ("USD", NOV, D("5")), ("EUR", NOV, D("0"))])
    assert total.by_currency == (("USD", D("15")),) and total.complete and not total.converted


def test_another_reporting_currency(settings):
    settings.REPORTING_CURRENCY = "EUR"
    ExchangeRateFactory(currency="USD", month=OCT, rate=D("0.9"))
    total = money_total([("USD", OCT, D("100")), ("EUR", OCT, D("10"))])
    assert (total.reporting_currency, total.reporting) == ("EUR", D("100.00"))


def test_rate_book_serves_many_groups_with_one_query(django_assert_num_queries):
    ExchangeRateFactory(currency="EUR", month=OCT, rate=D("2"))
    groups = {n: [("EUR", OCT, D(n))] for n in range(1, 50)}
    with django_assert_num_queries(1):
        book = RateBook(pair[:2] for rows in groups.values() for pair in rows)
        totals = {n: book.total(rows) for n, rows in groups.items()}
    assert totals[7].reporting == D("14.00")


def test_reporting_currency_must_be_an_iso_code(settings):
    settings.REPORTING_CURRENCY = "DOLLARS"
    assert "contracts.E001" in [message.id for message in run_checks()]


def test_admin_keeps_exchange_rates(client, admin_user):
    ExchangeRateFactory(currency="EUR", month=OCT, rate=D("1.08"))
    client.force_login(admin_user)
    listing = client.get(reverse("admin:contracts_exchangerate_changelist"), {"currency__exact": "EUR"})
    assert listing.status_code == 200 and "2026-10" in listing.text
    response = client.post(
        reverse("admin:contracts_exchangerate_add"), {"currency": "INR", "month": "2026-10-15", "rate": "0.012"}
    )
    assert response.status_code == 200 and "first day" in response.text  # refused
    response = client.post(
        reverse("admin:contracts_exchangerate_add"), {"currency": "INR", "month": "2026-10-01", "rate": "0.012"}
    )
    assert response.status_code == 302
    assert ExchangeRate.objects.get(currency="INR").rate == D("0.012")
