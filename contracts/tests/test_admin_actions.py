"""Marking replacement obligations fulfilled from the admin."""

import datetime

import time_machine
from django.contrib.admin import helpers
from django.urls import reverse

from contracts.models import ReplacementObligation
from tests.factories import ContractFactory, ReplacementObligationFactory, StaffMemberFactory


def _obligation(engagement_model, **kwargs):
    contract = ContractFactory(engagement_model=engagement_model)
    departed = StaffMemberFactory(contract=contract, left_on=datetime.date(2026, 3, 1), leave_reason="voluntary")
    return ReplacementObligationFactory(departed=departed, **kwargs)


@time_machine.travel(datetime.datetime(2026, 4, 15, 12, tzinfo=datetime.UTC), tick=False)
def test_mark_fulfilled_sets_the_date_that_counts_for_the_engagement_model(client, admin_user, db):
    bpo, bpm, untouched = _obligation("bpo"), _obligation("bpm"), _obligation("bpo")
    done = _obligation("bpo", candidate_provided_on=datetime.date(2026, 3, 10))
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:contracts_replacementobligation_changelist"),
        {"action": "mark_fulfilled", helpers.ACTION_CHECKBOX_NAME: [bpo.pk, bpm.pk, done.pk], "index": 0},
    )
    assert response.status_code == 302
    today = datetime.date(2026, 4, 15)
    rows = {o.pk: o for o in ReplacementObligation.objects.all()}
    assert rows[bpo.pk].candidate_provided_on == today
    assert rows[bpm.pk].replacement_productive_on == today
    assert rows[done.pk].candidate_provided_on == datetime.date(2026, 3, 10)  # already fulfilled: unchanged
    assert rows[untouched.pk].candidate_provided_on is None
    assert rows[bpo.pk].history.first().history_user == admin_user


@time_machine.travel(datetime.datetime(2026, 4, 15, 12, tzinfo=datetime.UTC), tick=False)
def test_overdue_filter_lists_only_overdue_obligations(client, admin_user, db):
    overdue = _obligation("bpo")  # due 2026-03-31, not fulfilled
    _obligation("bpo", candidate_provided_on=datetime.date(2026, 3, 10))
    client.force_login(admin_user)
    response = client.get(reverse("admin:contracts_replacementobligation_changelist") + "?state=overdue")
    assert [o.pk for o in response.context["cl"].result_list] == [overdue.pk]
