"""POST /api/v1/measurements/: all or nothing, idempotent, the import's and form's rule, scoped by key."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import ApiKey
from kpis.models import Measurement, PendingCheck
from tests.factories import SLAFactory, kpi

from .conftest import client_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/measurements/"


def figure(month, value="85", reference="CX-1", kpi="service_level", **extra):
    return {"contract": reference, "kpi": kpi, "period_start": f"2026-{month:02d}-01", "value": value, **extra}


def test_vendor_key_pushes_figures_and_a_second_push_changes_nothing(vendor_client, sla):
    payload = [figure(m, value=str(70 + m)) for m in range(1, 11)]
    response = vendor_client.post(URL, payload, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 10, "corrected": 0, "unchanged": 0}
    figures = Measurement.objects.filter(sla=sla)
    assert figures.count() == 10
    assert set(figures.values_list("source", flat=True)) == {"api"}
    assert set(figures.values_list("recorded_by", flat=True)) == {None}
    history = Measurement.history.filter(sla_id=sla.pk)
    assert history.count() == 10 and all("Acme WFM" in h.history_change_reason for h in history)
    assert PendingCheck.objects.filter(kind="figure").count() == 10  # breach checks queued

    PendingCheck.objects.all().delete()
    again = vendor_client.post(URL, payload, format="json")
    assert again.json() == {"created": 0, "corrected": 0, "unchanged": 10}
    assert Measurement.history.filter(sla_id=sla.pk).count() == 10
    assert not PendingCheck.objects.exists()  # nothing changed, nothing to check


def test_a_changed_value_or_note_is_corrected_and_only_it_is_checked(vendor_client, sla):
    vendor_client.post(URL, [figure(1), figure(2)], format="json")
    PendingCheck.objects.all().delete()
    response = vendor_client.post(URL, [figure(1, value="60"), figure(2, note="late")], format="json")
    assert response.json() == {"created": 0, "corrected": 2, "unchanged": 0}
    assert Measurement.objects.get(period_start=datetime.date(2026, 1, 1)).value == 60
    assert Measurement.objects.get(period_start=datetime.date(2026, 2, 1)).note == "late"
    assert PendingCheck.objects.filter(kind="figure").count() == 2


def test_personal_key_records_its_user(key_client, owner, sla):
    response = key_client(owner).post(URL, [figure(3)], format="json")
    assert response.status_code == 200
    assert Measurement.objects.get().recorded_by == owner


def test_any_bad_item_refuses_the_whole_push_with_errors_by_index(vendor_client, sla):
    payload = [
        figure(1),
        figure(2, value="abc"),
        figure(12),  # December 2026 has not ended on 30 Nov 2026
        {"contract": "CX-1", "kpi": "service_level", "period_start": "2026-03-15", "value": "80"},  # not a period
        figure(4, kpi="nope"),
        figure(5, reference="NOPE"),
        figure(1),  # the same SLA and period twice
        figure(6, value="101"),
        figure(7, value="1.234"),
    ]
    response = vendor_client.post(URL, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert sorted(body["errors"], key=int) == ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert "not a number" in body["errors"]["1"][0]
    assert "has not ended" in body["errors"]["2"][0]
    assert "item 0" in body["errors"]["6"][0]
    assert not Measurement.objects.exists()
    assert not PendingCheck.objects.filter(kind="figure").exists()


@pytest.mark.parametrize(
    "payload, where",
    [
        ({"contract": "CX-1"}, "non_field_errors"),
        ([], "non_field_errors"),
        (["x"], "0"),
        ([{"contract": "CX-1", "kpi": "service_level", "period_start": "2026-01-01"}], "0"),
        ([{"contract": "CX-1", "kpi": "service_level", "period_start": "2026-01-01", "value": "1", "x": 1}], "0"),
        ([{"contract": 1, "kpi": "service_level", "period_start": "2026-01-01", "value": "1"}], "0"),
        ([{"contract": "CX-1", "kpi": "service_level", "period_start": "2026-01-01", "value": True}], "0"),
    ],
)
def test_items_that_are_not_figures_are_400(vendor_client, sla, payload, where):
    response = vendor_client.post(URL, payload, format="json")
    assert response.status_code == 400
    assert where in response.json()["errors"]
    assert not Measurement.objects.exists()


def test_numbers_are_taken_as_values(vendor_client, sla):
    response = vendor_client.post(URL, [figure(1, value=85.5), figure(2, value=90)], format="json")
    assert response.status_code == 200
    assert sorted(Measurement.objects.values_list("value", flat=True)) == [85.5, 90]


def test_more_than_10000_items_are_refused(vendor_client, sla):
    response = vendor_client.post(URL, [figure(1)] * 10_001, format="json")
    assert response.status_code == 400
    assert "10,000" in response.json()["errors"]["non_field_errors"][0]


def test_vendor_key_pushing_for_another_vendor_is_403_and_writes_nothing(vendor_client, sla, other_sla):
    payload = [figure(1), figure(2, reference="CX-2")]
    response = vendor_client.post(URL, payload, format="json")
    assert response.status_code == 403
    assert "item(s) 1" in response.json()["detail"]
    assert not Measurement.objects.exists()


def test_manager_pushes_only_for_contracts_they_own(key_client, owner, teammate, sla, other_sla):
    assert key_client(owner).post(URL, [figure(1, reference="CX-2")], format="json").status_code == 403
    assert key_client(teammate).post(URL, [figure(1, reference="CX-2")], format="json").status_code == 200


def test_viewer_key_cannot_push(key_client, viewer, sla):
    response = key_client(viewer).post(URL, [figure(1)], format="json")
    assert response.status_code == 403
    assert not Measurement.objects.exists()


def test_admin_key_pushes_anywhere(key_client, admin_user, sla, other_sla):
    response = key_client(admin_user).post(URL, [figure(1), figure(1, reference="CX-2")], format="json")
    assert response.json()["created"] == 2


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_expired_or_revoked_key_cannot_push(vendor, sla, state):
    key, raw = ApiKey.create_key(name="k", vendor=vendor)
    if state == "revoked":
        key.revoke()
    else:
        key.expires_at = key.created_at
        key.save()
    assert client_for(raw).post(URL, [figure(1)], format="json").status_code == 401
    assert not Measurement.objects.exists()


def daily_figures(codes, days, value="85"):
    start = datetime.date(2025, 1, 1)
    return [
        {"contract": "CX-1", "kpi": code, "period_start": str(start + datetime.timedelta(days=n)), "value": value}
        for code in codes
        for n in range(days)
    ]


def push_half_then_all(client, codes, days):
    """Record half the days, then push every day (the first half corrected, the second half new): the
    second push's queries."""
    client.post(URL, daily_figures(codes, days // 2, value="70"), format="json")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, daily_figures(codes, days), format="json")
    half = len(codes) * (days // 2)
    assert response.json() == {"created": half, "corrected": half, "unchanged": 0}
    return len(queries)


def test_a_push_takes_the_same_queries_for_ten_figures_or_thousands(vendor_client, contract):
    """Set-based: checking, writing (with history) and queueing checks cost the same statements whatever the
    number of figures (here 10, then 2,070: past any batch size)."""
    slas = {
        code: SLAFactory(contract=contract, kpi=kpi(code), frequency="daily", effective_from=contract.start_date)
        for code in ("csat", "accuracy", "availability", "quality_score")
    }
    few = push_half_then_all(vendor_client, ["csat"], 10)
    many = push_half_then_all(vendor_client, ["accuracy", "availability", "quality_score"], 690)
    assert few == many
    history = Measurement.history.filter(sla_id=slas["accuracy"].pk)
    assert history.filter(history_type="~").count() == 345
    assert history.filter(history_type="+").count() == 690
    assert PendingCheck.objects.filter(kind="figure", sla_id=slas["accuracy"].pk).count() == 1035


def test_a_personal_keys_corrections_name_its_user_in_the_history(key_client, owner, sla):
    client = key_client(owner)
    client.post(URL, [figure(1, value="70")], format="json")
    client.post(URL, [figure(1, value="75", note="recounted")], format="json")
    rows = Measurement.history.filter(sla_id=sla.pk).order_by("history_id")
    assert [(h.history_type, h.value, h.note, h.history_user_id) for h in rows] == [
        ("+", 70, "", owner.pk),
        ("~", 75, "recounted", owner.pk),
    ]
    assert Measurement.objects.get().recorded_by == owner
