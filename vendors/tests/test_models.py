import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import DeliveryCenterFactory, VendorFactory
from vendors.models import DeliveryCenter, Vendor

pytestmark = pytest.mark.django_db


def test_vendor_name_is_unique_with_a_clear_message():
    VendorFactory(name="Acme BPO")
    with pytest.raises(ValidationError, match="A vendor with this name already exists."):
        Vendor(name="Acme BPO", country="IN").full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        VendorFactory(name="Acme BPO")


def test_delivery_centre_time_zone_is_checked():
    """django-timezone-field refuses an unknown zone as soon as it is set (imports, the API, the shell)."""
    with pytest.raises(ValidationError, match="“Mars/Olympus” is not a known time zone: choose one from the list"):
        DeliveryCenterFactory.build(vendor=VendorFactory(), timezone="Mars/Olympus")


def test_delivery_centre_time_zone_is_a_zoneinfo_stored_by_name():
    centre = DeliveryCenterFactory(timezone="Asia/Manila")
    centre.refresh_from_db()
    assert centre.timezone == zoneinfo.ZoneInfo("Asia/Manila") and str(centre.timezone) == "Asia/Manila"
    assert DeliveryCenter.objects.filter(timezone="Asia/Manila").get() == centre
    centre.full_clean()


def test_delivery_centre_names_unique_per_vendor():
    centre = DeliveryCenterFactory(name="Makati 1")
    DeliveryCenterFactory(name="Makati 1")  # another vendor
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryCenterFactory(name="Makati 1", vendor=centre.vendor)


def test_str_and_urls_are_readable():
    centre = DeliveryCenterFactory(name="Makati 1", city="Makati", country="PH")
    assert str(centre) == "Makati 1 (Makati, PH)"
    assert str(centre.vendor) == centre.vendor.name
