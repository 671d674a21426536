"""factory-boy factories for every model: one place, reused by every app's tests."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts import roles
from contracts.choices import ContractStatus, EngagementModel, ServiceType
from contracts.models import Contract, ExchangeRate, ReplacementObligation, StaffMember
from kpis.choices import Frequency
from kpis.models import KPI, SLA, Breach, Measurement
from kpis.periods import period_end
from vendors.models import DeliveryCenter, Vendor


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pass")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """``UserFactory(role="manager")`` puts the user in that role's group."""
        group_name = {
            "admin": roles.ADMINS_GROUP,
            "manager": roles.MANAGERS_GROUP,
            "viewer": roles.VIEWERS_GROUP,
        }.get(extracted)
        if create and group_name:
            self.groups.add(Group.objects.get(name=group_name))


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda n: f"Vendor {n:04d}")
    country = "PH"
    contact_email = factory.Sequence(lambda n: f"vendor{n}@example.com")


class DeliveryCenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryCenter

    vendor = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda n: f"Centre {n}")
    city = "Manila"
    country = "PH"
    timezone = "Asia/Manila"
    seats = 200


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    vendor = factory.SubFactory(VendorFactory)
    reference = factory.Sequence(lambda n: f"CT-{n:05d}")
    title = "Customer support"
    owner = factory.SubFactory(UserFactory, role="manager")
    engagement_model = EngagementModel.BPO
    service_type = ServiceType.FRONT_OFFICE
    start_date = datetime.date(2025, 1, 1)
    end_date = datetime.date(2027, 12, 31)
    notice_days = 90
    currency = "USD"
    monthly_fee = Decimal("100000.00")
    baseline_monthly_cost = Decimal("150000.00")
    at_risk_percent = Decimal("10")
    contracted_headcount = 50
    replacement_days = 30
    status = ContractStatus.ACTIVE


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    """1 ``currency`` in the reporting currency (USD unless a test changes the setting) in ``month``."""

    class Meta:
        model = ExchangeRate

    currency = "EUR"
    month = datetime.date(2026, 1, 1)
    rate = Decimal("1.1")


def kpi(code):
    return KPI.objects.get(code=code)


class SLAFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SLA

    contract = factory.SubFactory(ContractFactory)
    kpi = factory.LazyFunction(lambda: kpi("service_level"))
    expected = Decimal("80")
    minimum = Decimal("75")
    frequency = Frequency.MONTHLY
    credit_allocation_percent = Decimal("20")
    effective_from = factory.SelfAttribute("contract.start_date")


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    sla = factory.SubFactory(SLAFactory)
    period_start = datetime.date(2026, 1, 1)
    period_end = factory.LazyAttribute(lambda m: period_end(m.sla.frequency, m.period_start))
    value = Decimal("85")


class StaffMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember

    contract = factory.SubFactory(ContractFactory)
    employee_ref = factory.Sequence(lambda n: f"E{n:06d}")
    full_name = factory.Faker("name")
    role = "Agent"
    joined_on = datetime.date(2025, 1, 1)


class ReplacementObligationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReplacementObligation

    departed = factory.SubFactory(StaffMemberFactory, left_on=datetime.date(2026, 3, 1), leave_reason="voluntary")
    due_on = factory.LazyAttribute(lambda o: ReplacementObligation.due_date_for(o.departed))


class BreachFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Breach

    kind = "performance"
    severity = "major"
    sla = factory.SubFactory(SLAFactory)
    contract = factory.SelfAttribute("sla.contract")
    period_start = datetime.date(2026, 1, 1)
    period_end = datetime.date(2026, 1, 31)
    expected = Decimal("80")
    minimum = Decimal("75")
    actual = Decimal("70")
