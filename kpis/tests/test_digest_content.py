"""The digest worth opening: only the week's news is "new", a capped size, one date format, and a dry run
that says what sending now would send."""

import datetime
import re
from decimal import Decimal
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import resolve

from kpis import digest as digest_service
from kpis.emails import breach_digest_message
from kpis.filtersets import BreachFilterSet
from kpis.models import Breach
from kpis.tests.test_digest import IN_WEEK, WEEK, breach, overdue_replacement
from tests.factories import BreachFactory, ContractFactory, SLAFactory, VendorFactory, kpi

pytestmark = pytest.mark.django_db
D = datetime.date
KPI_CODES = ["service_level", "csat", "accuracy", "backlog", "quality_score", "average_handle_time", "turnaround_time"]


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 7, 0, tzinfo=datetime.UTC), tick=False):
        yield


def many_breaches(contract, count, majors=0, credit="1234.56"):
    """``count`` new breaches on ``contract`` (the first ``majors`` major), spread over its SLAs and months."""
    slas = [SLAFactory(contract=contract, kpi=kpi(code)) for code in KPI_CODES]
    for n in range(count):
        month = D(2026, 10 - n // len(slas), 1)
        BreachFactory(
            sla=slas[n % len(slas)],
            contract=contract,
            severity="major" if n < majors else "minor",
            service_credit=Decimal(credit),
            detected_at=IN_WEEK,
            period_start=month,
            period_end=month.replace(day=28),
        )


def parts(message):
    return message.body, message.alternatives[0][0]


def test_an_open_replacement_is_listed_as_overdue_not_as_new(owner):
    contract = ContractFactory(owner=owner, reference="ACME-1")
    fresh = overdue_replacement(contract, name="Fresh Leaver")
    Breach.objects.filter(pk=fresh.pk).update(detected_at=IN_WEEK)  # fell overdue this week
    overdue_replacement(contract, name="Old Leaver")  # overdue since October
    late = overdue_replacement(contract, name="Late Fix")
    Breach.objects.filter(pk=late.pk).update(
        status="resolved", detected_at=datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)
    )
    breach(contract, "major", "100.00")
    digest = digest_service.build_digest(owner, WEEK)
    assert (digest.breach_count, digest.overdue_count) == (1, 2)
    assert digest.subject == "SLA digest 2026-W47: 1 new breach (1 major), 2 overdue replacements"
    [group] = digest.vendors[0].contracts
    assert [b.kind for b in group.breaches] == ["performance"]
    assert {line.staff_name: line.is_new for line in group.overdue} == {"Fresh Leaver": True, "Old Leaver": False}
    text, html = parts(breach_digest_message(digest))
    assert "Late Fix" not in text and "Late Fix" not in html  # resolved in 2024: not news


def test_every_date_is_written_one_way(owner):
    contract = ContractFactory(owner=owner, reference="ACME-1", end_date=D(2027, 3, 10))  # a renewal due
    breach(contract, "major", "100.00")
    breach(contract, "minor", "0", code="csat", detected_at=datetime.datetime(2026, 11, 16, 1, 5, tzinfo=datetime.UTC))
    overdue_replacement(contract)
    text, html = parts(breach_digest_message(digest_service.build_digest(owner, WEEK)))
    for part in (text, re.sub(r"<[^>]+>", " ", html)):
        assert "16 Nov 2026 – 22 Nov 2026" in part
        assert "detected 18 Nov 2026" in part and "detected 16 Nov 2026" in part
        assert "left 1 Sep 2026" in part and "due 1 Oct 2026" in part
        assert "10 Dec 2026" in part  # the notice deadline
        assert not re.search(r"\b0\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b", part)  # no "05 Jun"
        assert not re.search(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d", part)  # no "Mon 16 Nov"
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", part)


@pytest.fixture
def busy_owner(owner):
    """15 contracts, the first 12 with 14 new breaches each (a few major) and 3 overdue replacements."""
    vendors = [VendorFactory(name=f"Vendor {n:02d}") for n in range(5)]
    for index in range(15):
        vendor = vendors[index // 3]
        contract = ContractFactory(owner=owner, vendor=vendor, reference=f"BUSY-{index:02d}", title="Voice " * 8)
        if index >= 12:
            overdue_replacement(contract, name=f"Leaver {index}")
            continue
        many_breaches(contract, 14, majors=index % 4 + 1)
        for n in range(3):
            overdue_replacement(contract, name=f"Leaver {index}-{n}")
    return owner


def test_a_busy_week_is_capped_with_links_to_the_rest(busy_owner, rf):
    digest = digest_service.build_digest(busy_owner, WEEK)
    assert (digest.breach_count, digest.overdue_count) == (12 * 14, 12 * 3 + 3)
    shown = [group for vendor in digest.vendors for group in vendor.contracts]
    assert len(shown) == 10 and digest.more_contracts == 5
    # The contracts with the most major breaches come in full; the others are summed up.
    assert {g.reference for g in shown} >= {"BUSY-03", "BUSY-07", "BUSY-11"}
    assert digest.more_contracts_lines == sum(14 + 3 for _ in range(2)) + 3
    for group in shown:
        assert len(group.breaches) + len(group.overdue) == 10
        assert (group.more_breaches, group.more_overdue) == (4, 3)
        # The link is the breach list, filtered by parameters its filterset accepts.
        link = urlsplit(group.more_url)
        assert resolve(link.path).url_name == "breach_list"
        query = parse_qs(link.query)
        assert query["contract"] == [str(group.id)] and "withdrawn" not in query["status"]
        filterset = BreachFilterSet(QueryDict(link.query), queryset=Breach.objects.all())
        assert filterset.is_valid(), filterset.errors
        assert filterset.qs.count() == 17
    mine = urlsplit(digest.more_contracts_url)
    request = rf.get("/breaches/")
    request.user = busy_owner
    filterset = BreachFilterSet(QueryDict(mine.query), queryset=Breach.objects.all(), request=request)
    assert filterset.is_valid() and filterset.qs.count() == Breach.objects.count()

    message = breach_digest_message(digest)
    text, html = parts(message)
    assert len(html.encode()) < 100_000, len(html.encode())
    assert len(text.encode()) < 100_000
    assert "and 7 more (4 new breaches, 3 overdue replacements)" in html
    assert "and 5 more contracts with 37 breaches or overdue replacements" in html
    assert "… and 5 more contracts with 37 breaches or overdue replacements" in text
    assert message.subject == "SLA digest 2026-W47: 168 new breaches (30 major), 39 overdue replacements"


def test_the_largest_digest_stays_under_gmails_clipping(busy_owner, settings):
    """All vendors, long names and URLs: still under 100 KB."""
    settings.SITE_URL = "https://sla-tracker.operations.example-enterprise.com"
    for index in range(30):
        contract = ContractFactory(vendor=VendorFactory(name=f"Very Long Vendor Name Holdings {index}"))
        many_breaches(contract, 12, majors=12, credit="99999.99")
        for n in range(12):
            overdue_replacement(contract, name=f"Someone With A Long Name {index}-{n}")
    digest = digest_service.build_digest(busy_owner, WEEK, all_vendors=True)
    html = breach_digest_message(digest).alternatives[0][0]
    assert len(html.encode()) < 100_000, len(html.encode())


def test_dry_run_after_a_send_lists_what_would_be_sent_now(busy_owner, teammate):
    out = StringIO()
    call_command("send_breach_digest", week=WEEK, dry_run=True, stdout=out)
    assert busy_owner.email in out.getvalue() and "1 digests for 2026-W47 would be sent now" in out.getvalue()
    call_command("send_breach_digest", week=WEEK, stdout=StringIO())
    assert len(mail.outbox) == 1
    out = StringIO()
    call_command("send_breach_digest", week=WEEK, dry_run=True, stdout=out)
    assert busy_owner.email not in out.getvalue()
    assert "0 digests for 2026-W47 would be sent now (1 already sent earlier)" in out.getvalue()
    assert digest_service.preview_weekly_digest(WEEK) == []


def test_filtered_links_resolve_for_the_request_factory():
    """Guards the reverse() used for the breach list links."""
    url = digest_service.breach_list_url(contract=7)
    assert url.startswith("http://testserver/breaches/?contract=7&status=open")
    assert RequestFactory().get(urlsplit(url).path + "?" + urlsplit(url).query).GET.getlist("status") == [
        "open",
        "acknowledged",
        "waived",
        "resolved",
    ]
