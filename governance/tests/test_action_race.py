"""Two people (or a person and the vendor's key) changing one corrective action at once: the workflow step is
decided from the row as it is once locked, never from what was read before (two real PostgreSQL connections)."""

import datetime

import pytest
from django.db import connection

from governance import actions
from governance.choices import ActionStatus
from governance.models import CorrectiveAction
from tests.concurrency import connect, in_another_connection, wait_until_a_backend_waits_on_a_lock
from tests.factories import ContractFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between two connections"),
]


def test_a_verification_waits_for_a_reopening_and_is_then_refused():
    owner = UserFactory(role="manager")
    verifier = UserFactory(role="admin")
    action = CorrectiveAction.objects.create(
        contract=ContractFactory(owner=owner),
        title="Fix it",
        action="Coach",
        owner_name="Lead",
        due_on=datetime.date(2026, 6, 1),
        status=ActionStatus.DONE,
        done_by=owner,
        done_on=datetime.date(2026, 5, 1),
    )
    with connect() as reopening:
        # Someone moves the action back to in progress and holds the row until they commit.
        reopening.execute(
            f"UPDATE {CorrectiveAction._meta.db_table} SET status = 'in_progress', done_by_id = NULL, "
            "done_on = NULL WHERE id = %s",
            [action.pk],
        )
        thread, outcome = in_another_connection(
            lambda: actions.update_action(action.pk, actions.Actor.person(verifier), status=ActionStatus.VERIFIED)
        )
        wait_until_a_backend_waits_on_a_lock("the second change never waited for the first one's row lock")
        reopening.commit()
    thread.join(30)
    assert isinstance(outcome.get("error"), actions.TransitionError), outcome
    assert str(outcome["error"]) == "An in progress action cannot become verified."
    action.refresh_from_db()
    assert (action.status, action.verified_by) == (ActionStatus.IN_PROGRESS, None)
