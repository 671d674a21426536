import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import DeliveryCenterFactory, VendorFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def test_vendor_name_is_unique_with_a_clear_message():
    VendorFactory(name="Acme BPO")
    with pytest.raises(ValidationError, match="A vendor with this name already exists."):
        Vendor(name="Acme BPO", country="IN").full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        VendorFactory(name="Acme BPO")


def test_delivery_centre_time_zone_is_checked():
    centre = DeliveryCenterFactory.build(vendor=VendorFactory(), timezone="Mars/Olympus")
    with pytest.raises(ValidationError) as error:
        centre.full_clean()
    assert "is not a known time zone" in error.value.message_dict["timezone"][0]


def test_delivery_centre_names_unique_per_vendor():
    centre = DeliveryCenterFactory(name="Makati 1")
    DeliveryCenterFactory(name="Makati 1")  # another vendor
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryCenterFactory(name="Makati 1", vendor=centre.vendor)


def test_str_and_urls_are_readable():
    centre = DeliveryCenterFactory(name="Makati 1", city="Makati", country="PH")
    assert str(centre) == "Makati 1 (Makati, PH)"
    assert str(centre.vendor) == centre.vendor.name
