import pytest
from django.core.management import call_command

from contracts.models import Contract, StaffMember
from kpis.models import SLA, Measurement
from vendors.models import Vendor


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_seed_scale_tiny_preset_writes_consistent_rows():
    call_command("seed_scale", "--preset", "tiny")
    assert Vendor.objects.count() == 5
    assert Contract.objects.count() == 10
    assert SLA.objects.count() == 30
    # 3 months per SLA, about 1% left missing on purpose.
    assert 80 <= Measurement.objects.count() <= 90
    assert StaffMember.objects.count() == 40
    contract = Contract.objects.select_related("delivery_center").first()
    assert contract.notice_deadline == contract.compute_notice_deadline()
    assert contract.sourcing_model == contract.suggested_sourcing_model()
    # Sequences were reset: ordinary inserts still work after COPY.
    call_command("seed_scale", "--preset", "tiny")
    assert Vendor.objects.count() == 10
