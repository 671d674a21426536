"""One rule decides which period a figure may be recorded for (``kpis.recording``): the KPI entry form
and the import apply it alike."""

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kpis import entry, imports, periods
from kpis.forms import KPIEntryForm
from kpis.models import Measurement, PendingCheck
from kpis.recording import figure_period_error
from tests.factories import ContractFactory, SLAFactory, kpi

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = D(2026, 11, 30)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def contract(owner):
    return ContractFactory(owner=owner, reference="CX-1", start_date=D(2025, 1, 1), end_date=D(2028, 3, 31))


def sla_for(contract, frequency="monthly", effective_from=None, effective_to=None):
    return SLAFactory(
        contract=contract,
        frequency=frequency,
        effective_from=effective_from or contract.start_date,
        effective_to=effective_to,
    )


@pytest.mark.parametrize(
    ("frequency", "period_start", "expected"),
    [
        ("monthly", D(2026, 10, 1), None),
        ("monthly", D(2025, 1, 1), None),  # the contract's first month
        ("monthly", D(2026, 11, 1), "Nov 2026 has not ended yet: its figure can be recorded from 2026-12-01"),
        ("monthly", D(2026, 10, 15), "this SLA is reported monthly: the period starts on 2026-10-01, not 2026-10-15"),
        ("monthly", D(2024, 12, 1), "contract CX-1 runs from 2025-01-01 to 2028-03-31, not in Dec 2024"),
        ("monthly", D(2028, 12, 1), "contract CX-1 runs from 2025-01-01 to 2028-03-31, not in Dec 2028"),
        (
            "monthly",
            D(9999, 12, 1),
            "9999-12-01 is not a plausible date: enter one between 2000-01-01 and 2036-11-30 (check the year)",
        ),
        (
            "weekly",
            D(9999, 12, 27),  # its week would end in the year 10000
            "9999-12-27 is not a plausible date: enter one between 2000-01-01 and 2036-11-30 (check the year)",
        ),
        ("weekly", D(2026, 11, 16), None),
        ("weekly", D(2026, 11, 23), None),  # W48 ended yesterday
        ("weekly", D(2026, 11, 30), "2026-W49 has not ended yet: its figure can be recorded from 2026-12-07"),
        ("weekly", D(2026, 11, 24), "this SLA is reported weekly: the period starts on 2026-11-23, not 2026-11-24"),
        ("daily", D(2026, 11, 29), None),
        ("daily", D(2026, 11, 30), "2026-11-30 has not ended yet: its figure can be recorded from 2026-12-01"),
        ("quarterly", D(2026, 7, 1), None),
        ("quarterly", D(2026, 10, 1), "2026 Q4 has not ended yet: its figure can be recorded from 2027-01-01"),
    ],
)
def test_figure_period_error(contract, frequency, period_start, expected):
    assert figure_period_error(sla_for(contract, frequency), period_start, TODAY) == expected


def test_the_sla_dates_bound_the_periods_too(contract):
    sla = sla_for(contract, effective_from=D(2026, 3, 1), effective_to=D(2026, 6, 30))
    assert figure_period_error(sla, D(2026, 2, 1), TODAY) == (
        "the Service level SLA is in effect from 2026-03-01 to 2026-06-30, not in Feb 2026"
    )
    assert figure_period_error(sla, D(2026, 7, 1), TODAY) is not None
    assert figure_period_error(sla, D(2026, 6, 1), TODAY) is None


def test_a_period_the_contract_covers_in_part_takes_a_figure(owner):
    """As the KPI entry form always allowed: a contract starting 15 Jan has a January figure."""
    contract = ContractFactory(owner=owner, start_date=D(2026, 1, 15), end_date=D(2026, 8, 10))
    sla = sla_for(contract)
    assert figure_period_error(sla, D(2026, 1, 1), TODAY) is None
    assert figure_period_error(sla, D(2026, 8, 1), TODAY) is None


def test_import_refuses_the_periods_of_the_issue_row_by_row(client, owner, contract):
    """The import took 2028-12-01 and 9999-12-01 for a contract ending 2028-03-31."""
    sla_for(contract)
    client.force_login(owner)
    text = "CX-1,service_level,2026-10-01,90\nCX-1,service_level,2028-12-01,10\nCX-1,service_level,9999-12-01,10\n"
    response = client.post(
        reverse("contracts:measurement_import"), {"file": SimpleUploadedFile("f.csv", text.encode())}
    )
    assert response.status_code == 400
    errors = {e.line: e.message for e in response.context["result"].errors}
    assert errors == {
        2: "contract CX-1 runs from 2025-01-01 to 2028-03-31, not in Dec 2028.",
        3: "9999-12-01 is not a plausible date: enter one between 2000-01-01 and 2036-11-30 (check the year).",
    }
    assert not Measurement.objects.exists()
    assert not PendingCheck.objects.filter(kind="figure").exists()


@pytest.mark.parametrize(
    ("frequency", "day"),
    [
        ("monthly", D(2026, 10, 1)),
        ("monthly", D(2026, 11, 1)),
        ("monthly", D(2026, 12, 1)),
        ("monthly", D(2024, 12, 1)),
        ("weekly", D(2026, 11, 16)),
        ("weekly", D(2026, 11, 23)),
        ("weekly", D(2026, 11, 30)),
        ("daily", D(2026, 11, 29)),
        ("daily", D(2026, 11, 30)),
        ("quarterly", D(2028, 4, 1)),
    ],
)
def test_the_form_and_the_import_accept_the_same_periods(owner, contract, frequency, day):
    sla = sla_for(contract, frequency)
    page = entry.resolve_page(contract, periods.period_param(frequency, day), None, TODAY)
    form = KPIEntryForm(contract=contract, page=page, today=TODAY)
    form_takes_it = f"value_{sla.pk}" in form.fields
    result = imports.import_measurements([(1, ["CX-1", "service_level", day.isoformat(), "90"])], owner)
    assert result.ok == form_takes_it == (figure_period_error(sla, day, TODAY) is None)


def test_entry_form_shows_a_running_period_without_a_field(client, owner, contract):
    monthly = sla_for(contract)
    daily = SLAFactory(contract=contract, kpi=kpi("csat"), frequency="daily")
    client.force_login(owner)
    url = reverse("contracts:kpi_entry", args=[contract.pk])
    days = client.get(url, {"period": "2026-W48", "frequency": "daily"})  # 23–29 Nov: every day has ended
    assert [r["blocked"] for r in days.context["rows"]] == [""] * 7
    assert f"value_{daily.pk}_2026-11-29" in days.context["form"].fields
    running = client.get(url, {"period": "2026-W49", "frequency": "daily"})  # from Mon 30 Nov, today
    assert running.context["rows"][0]["blocked"] == (
        "2026-11-30 has not ended yet: its figure can be recorded from 2026-12-01."
    )
    assert not running.context["form"].fields
    response = client.get(url, {"period": "2026-11"})
    assert [r["blocked"] for r in response.context["rows"]] == [
        "Nov 2026 has not ended yet: its figure can be recorded from 2026-12-01.",
    ]
    assert "Nov 2026 has not ended yet" in response.text
    assert f"value_{monthly.pk}" not in response.context["form"].fields
    response = client.post(url, {"period": "2026-11", f"value_{monthly.pk}": "90"})
    assert response.status_code == 200
    assert "Enter at least one figure." in response.text
    assert not Measurement.objects.exists()


def test_entry_page_for_a_period_in_year_9999_is_refused_not_a_crash(client, owner, contract):
    sla_for(contract, "weekly")
    client.force_login(owner)
    url = reverse("contracts:kpi_entry", args=[contract.pk])
    response = client.post(url, {"period": "9999-W52", "value_1": "90"})
    assert response.status_code == 400
    assert "figures can be entered for 2000 to 2036 only" in response.text
    assert not Measurement.objects.exists()
