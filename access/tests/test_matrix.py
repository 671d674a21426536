"""The permission matrix: every URL of the URLconf × admin / owner manager / other manager / viewer /
anonymous. A write answers "allowed" (the view runs) or 403 (the login page for anonymous) and a refused
write changes nothing in the database. The URL list is walked from ``get_resolver()``: a URL this file
does not classify fails the test, so a new page cannot be forgotten.

Reads: any signed-in role reads, and the URL refuses POST (405) — that is how a page proves it writes
nothing. Writes of the admin site: the add / change / delete views of every registered model.
"""

import datetime
import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from governance.models import CorrectiveAction
from tests.factories import (
    BreachFactory,
    ContractFactory,
    DeliveryCenterFactory,
    ExchangeRateFactory,
    MeasurementFactory,
    ReplacementObligationFactory,
    SLAFactory,
    StaffMemberFactory,
    UserFactory,
    VendorFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("admin", "owner", "other_manager", "viewer", "anonymous")
ADMINS = {"admin"}
OWNERS = {"admin", "owner"}  # the admin and the manager who owns the contract (and so deals with the vendor)
MANAGERS = {"admin", "owner", "other_manager"}
NOBODY = set()
SIGNED_IN = {"admin", "owner", "other_manager", "viewer"}


def url_patterns(resolver=None, prefix="", namespace=""):
    """``(name, route, view)`` of every pattern, included URLconfs walked recursively."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            ns = f"{namespace}:{inner}" if namespace and inner else namespace or inner
            yield from url_patterns(pattern, prefix + str(pattern.pattern), ns)
        else:
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, prefix + str(pattern.pattern), pattern.lookup_str


PATTERNS = sorted(set(url_patterns()), key=lambda p: (p[1], p[0] or ""))

ACTION_DATA = {"title": "Retrain the team", "action": "Coaching", "owner_side": "vendor", "owner_name": "Lead"}
VENDOR_DATA = {"name": "Renamed BPO", "country": "PH", "status": "active", "risk_tier": "low"}
CENTRE_DATA = {"name": "Renamed centre", "city": "Cebu", "country": "PH", "timezone": "Asia/Manila", "seats": 5}

# name: (URL kwargs from the world, query string, POST data, the roles allowed)
WEB_WRITES = {
    "vendors:vendor_add": (lambda w: {}, "", VENDOR_DATA, MANAGERS),
    "vendors:vendor_edit": (lambda w: {"pk": w.vendor.pk}, "", VENDOR_DATA, OWNERS),
    "vendors:center_add": (lambda w: {"vendor_pk": w.vendor.pk}, "", CENTRE_DATA, OWNERS),
    "vendors:center_edit": (lambda w: {"vendor_pk": w.vendor.pk, "pk": w.centre.pk}, "", CENTRE_DATA, OWNERS),
    "contracts:contract_add": (lambda w: {}, "", {}, MANAGERS),
    "contracts:contract_edit": (lambda w: {"pk": w.contract.pk}, "", {}, OWNERS),
    "contracts:measurement_import": (lambda w: {}, "", {}, MANAGERS),  # rows are then checked one by one
    "contracts:kpi_entry": (lambda w: {"contract_pk": w.contract.pk}, "", {}, OWNERS),
    "contracts:sla_add": (lambda w: {"contract_pk": w.contract.pk}, "", {}, OWNERS),
    "contracts:sla_edit": (lambda w: {"contract_pk": w.contract.pk, "pk": w.sla.pk}, "", {}, OWNERS),
    "staff:staff_add": (lambda w: {}, "contract={contract}", {}, OWNERS),
    "staff:staff_edit": (lambda w: {"pk": w.member.pk}, "", {}, OWNERS),
    "staff:staff_departure": (lambda w: {"pk": w.member.pk}, "", {}, OWNERS),
    "staff:obligation_edit": (lambda w: {"pk": w.departed.pk}, "", {}, OWNERS),
    "kpis:breach_edit": (lambda w: {"pk": w.breach.pk}, "", {"status": "acknowledged", "notes": "x"}, OWNERS),
    "governance:action_add": (lambda w: {}, "breaches={breach}", ACTION_DATA, OWNERS),
    "governance:action_edit": (lambda w: {"pk": w.action.pk}, "", ACTION_DATA, OWNERS),
    "governance:staff_figure_import": (lambda w: {"contract_pk": w.contract.pk}, "", {}, OWNERS),
    "governance:staff_figures": (lambda w: {"contract_pk": w.contract.pk}, "", {}, OWNERS),
}
# Pages that anyone signed in reads (GET) and only the roles allowed write (POST): name: (kwargs, POST data, roles)
WEB_READ_WRITES = {
    "governance:raci": (lambda w: {"contract_pk": w.contract.pk}, {"activity_0": "Hire", "party_0": "Lead"}, OWNERS),
}
# Writes that only take POST: name: (kwargs, POST data, roles)
WEB_POSTS = {"governance:action_status": (lambda w: {"pk": w.action.pk}, {"status": "in_progress"}, OWNERS)}

# name: (URL kwargs, the roles that read it)
WEB_READS = {
    "dashboard:home": (lambda w: {}, SIGNED_IN),
    "vendors:vendor_list": (lambda w: {}, SIGNED_IN),
    "vendors:vendor_lookup": (lambda w: {}, SIGNED_IN),
    "vendors:vendor_detail": (lambda w: {"pk": w.vendor.pk}, SIGNED_IN),
    "contracts:contract_list": (lambda w: {}, SIGNED_IN),
    "contracts:contract_lookup": (lambda w: {}, SIGNED_IN),
    "contracts:owner_lookup": (lambda w: {}, SIGNED_IN),
    "contracts:contract_detail": (lambda w: {"pk": w.contract.pk}, SIGNED_IN),
    "contracts:sla_detail": (lambda w: {"pk": w.sla.pk}, SIGNED_IN),
    "staff:staff_list": (lambda w: {}, SIGNED_IN),
    "staff:staff_detail": (lambda w: {"pk": w.member.pk}, SIGNED_IN),
    "kpis:breach_list": (lambda w: {}, SIGNED_IN),
    "kpis:breach_detail": (lambda w: {"pk": w.breach.pk}, SIGNED_IN),
    "governance:action_list": (lambda w: {}, SIGNED_IN),
    "governance:action_detail": (lambda w: {"pk": w.action.pk}, SIGNED_IN),
    "governance:qbr": (lambda w: {"pk": w.vendor.pk}, SIGNED_IN),
    "governance:qbr_pdf": (lambda w: {"pk": w.vendor.pk}, SIGNED_IN),
    **{
        f"reports:{name}": (lambda w: {}, ADMINS)
        for name in (
            "index",
            "scorecard",
            "compliance_trend",
            "service_credits",
            "attrition",
            "sourcing_mix",
            "renewals",
        )
    },
}
PUBLIC_READS = {"favicon", "health", "api:schema", "api:docs"}  # no sign-in, no data (the API's own description)
# The REST API answers only to keys (api/tests check each key kind and role): a browser session, whatever its
# role, gets a JSON 401 and changes nothing.
API_ROUTE = "api/"
# A person's own API keys and breach alerts: whoever may hold them (admins and managers), only their own.
# name: (the roles allowed, POST data of a refused write)
OWN_PAGES = {
    "api_keys": (MANAGERS, {"name": "sneaky"}),
    "outbound:alerts": (MANAGERS, {"channel": "email", "active": "on"}),
}
# The user's own session and password (django.contrib.auth's views): not the policy's business.
ACCOUNT = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}

ADMIN_ONLY = {"add": ADMINS, "change": ADMINS, "delete": ADMINS}
UNDER_A_CONTRACT = {"add": MANAGERS, "change": OWNERS, "delete": ADMINS}
# Admin site, per registered model: the roles allowed to add / change / delete. Outside the policy's apps
# (users, groups, sign-in logs) Django's model permissions rule: only superusers (not in this matrix).
ADMIN_WRITES = {
    "vendors.Vendor": UNDER_A_CONTRACT,
    "vendors.DeliveryCenter": UNDER_A_CONTRACT,
    "vendors.Certification": ADMIN_ONLY,
    "contracts.Contract": UNDER_A_CONTRACT,
    "contracts.StaffMember": UNDER_A_CONTRACT,
    "contracts.ReplacementObligation": UNDER_A_CONTRACT,
    "contracts.ExchangeRate": ADMIN_ONLY,
    "kpis.KPI": ADMIN_ONLY,
    "kpis.SLA": UNDER_A_CONTRACT,
    "kpis.Measurement": UNDER_A_CONTRACT,
    "kpis.Breach": {"add": NOBODY, "change": OWNERS, "delete": ADMINS},  # found by the checks, never typed in
    "kpis.DigestDelivery": ADMIN_ONLY,
    "api.ApiKey": ADMIN_ONLY,
    "outbound.WebhookEndpoint": ADMIN_ONLY,
    "outbound.Delivery": {"add": NOBODY, "change": NOBODY, "delete": ADMINS},  # the log of what was sent
    "governance.CorrectiveAction": UNDER_A_CONTRACT,
    "governance.RaciEntry": UNDER_A_CONTRACT,
    "governance.StaffMeasurement": UNDER_A_CONTRACT,
    "governance.ScorecardPolicy": ADMIN_ONLY,
    "auth.User": {"add": NOBODY, "change": NOBODY, "delete": NOBODY},
    "auth.Group": {"add": NOBODY, "change": NOBODY, "delete": NOBODY},
    "axes.AccessAttempt": {"add": NOBODY, "change": NOBODY, "delete": NOBODY},
    "axes.AccessLog": {"add": NOBODY, "change": NOBODY, "delete": NOBODY},
    "axes.AccessFailureLog": {"add": NOBODY, "change": NOBODY, "delete": NOBODY},
}
ADMIN_MODEL_VIEW = re.compile(
    r"^admin:(?P<app>\w+?)_(?P<model>[a-z0-9]+)_(?P<view>add|change|delete|changelist|history|simple_history)$"
)
# Other admin writes: (URL args from the world, the roles allowed)
ADMIN_OTHER_WRITES = {"admin:auth_user_password_change": (lambda w: [w.users["viewer"].pk], NOBODY)}
ADMIN_SITE_VIEWS = {
    "admin:index",
    "admin:login",
    "admin:logout",
    "admin:password_change",
    "admin:password_change_done",
    "admin:autocomplete",
    "admin:jsi18n",
    "admin:view_on_site",
    "admin:app_list",
}
SNAPSHOT_APPS = ("accounts", "vendors", "contracts", "kpis", "governance", "auth", "axes", "api", "outbound")


class World:
    pass


@pytest.fixture
def world(db):
    w = World()
    w.users = {
        "admin": UserFactory(username="matrix_admin", role="admin"),  # group "SLA admins", not a superuser
        "owner": UserFactory(username="matrix_owner", role="manager", is_staff=True),
        "other_manager": UserFactory(username="matrix_other", role="manager", is_staff=True),
        "viewer": UserFactory(username="matrix_viewer", role="viewer", is_staff=True),
    }
    # The other manager added the vendor, but the owner now holds a contract with it: only the owner edits it.
    w.vendor = VendorFactory(created_by=w.users["other_manager"])
    w.centre = DeliveryCenterFactory(vendor=w.vendor)
    w.contract = ContractFactory(vendor=w.vendor, owner=w.users["owner"])
    w.sla = SLAFactory(contract=w.contract)
    w.measurement = MeasurementFactory(sla=w.sla)
    w.member = StaffMemberFactory(contract=w.contract)
    w.departed = StaffMemberFactory(contract=w.contract, left_on=datetime.date(2026, 3, 1), leave_reason="other")
    w.obligation = ReplacementObligationFactory(departed=w.departed)
    w.breach = BreachFactory(sla=w.sla, contract=w.contract)
    w.action = CorrectiveAction.objects.create(
        contract=w.contract, title="Fix it", action="Coach", owner_name="Lead", due_on=datetime.date(2026, 6, 1)
    )
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group

    from api.models import ApiKey
    from governance.models import RaciEntry, ScorecardPolicy, StaffMeasurement
    from kpis.models import KPI, DigestDelivery
    from outbound.models import Delivery, Event, WebhookEndpoint
    from vendors.models import Certification

    endpoint = WebhookEndpoint.objects.create(
        name="ITSM", url="https://itsm.example.com/hook", events=["breach.recorded"]
    )
    axes_fields = {"user_agent": "x", "ip_address": "127.0.0.1", "username": "x", "http_accept": "x", "path_info": "/"}
    w.objects = {
        "vendors.Vendor": w.vendor,
        "vendors.DeliveryCenter": w.centre,
        "vendors.Certification": Certification.objects.first(),
        "contracts.Contract": w.contract,
        "contracts.StaffMember": w.member,
        "contracts.ReplacementObligation": w.obligation,
        "contracts.ExchangeRate": ExchangeRateFactory(),
        "kpis.KPI": KPI.objects.first(),
        "kpis.SLA": w.sla,
        "kpis.Measurement": w.measurement,
        "kpis.Breach": w.breach,
        "kpis.DigestDelivery": DigestDelivery.objects.create(recipient=w.users["owner"], week="2026-W01"),
        "auth.User": w.users["viewer"],
        "auth.Group": Group.objects.get(name="Viewers"),
        "axes.AccessAttempt": AccessAttempt.objects.create(
            **axes_fields, get_data="", post_data="", failures_since_start=1
        ),
        "axes.AccessLog": AccessLog.objects.create(**axes_fields),
        "axes.AccessFailureLog": AccessFailureLog.objects.create(**axes_fields),
        "api.ApiKey": ApiKey.create_key(name="matrix", vendor=w.vendor)[0],
        "outbound.WebhookEndpoint": endpoint,
        "outbound.Delivery": Delivery.objects.create(
            event=Event.objects.create(type="breach.recorded", breach=w.breach, occurred_at=timezone.now()),
            endpoint=endpoint,
        ),
        "governance.CorrectiveAction": w.action,
        "governance.RaciEntry": RaciEntry.objects.create(
            contract=w.contract, activity="Hire", side="vendor", party="Lead", assignment="A"
        ),
        "governance.StaffMeasurement": StaffMeasurement.objects.create(
            staff_member=w.member,
            kpi=w.sla.kpi,
            period_start=w.measurement.period_start,
            period_end=w.measurement.period_end,
            value=90,
        ),  # fmt: skip
        "governance.ScorecardPolicy": _with_history(ScorecardPolicy.objects.first() or ScorecardPolicy()),
    }
    w.clients = {"anonymous": Client()}
    for role, user in w.users.items():
        w.clients[role] = Client()
        w.clients[role].force_login(user)
    return w


def _with_history(obj):
    """Saved through the model, so it has a history row (the admin's revert view needs one)."""
    obj.save()
    return obj


def snapshot():
    """Every row of every table a write could touch (history tables included)."""
    return {
        model._meta.label: sorted(repr(row) for row in model._base_manager.values_list())
        for model in apps.get_models()
        if model._meta.app_label in SNAPSHOT_APPS
    }


def assert_refused(client, role, method, url, data=None):
    """403 for a signed-in role, the (site's or admin's) login page for anonymous; nothing changed."""
    before = snapshot()
    response = getattr(client, method)(url, data or {})
    if role == "anonymous":
        assert response.status_code == 302, (role, method, url, response.status_code)
        assert response["Location"].split("?")[0] in ("/accounts/login/", "/admin/login/"), (role, method, url)
    else:
        assert response.status_code == 403, (role, method, url, response.status_code)
    assert snapshot() == before, f"{role} {method.upper()} {url} was refused but changed the database"


def check_web_write(world, name):
    kwargs, query, data, allowed = WEB_WRITES[name]
    url = reverse(name, kwargs=kwargs(world))
    if query:
        url += "?" + query.format(contract=world.contract.pk, breach=world.breach.pk)
    for role in ROLES:
        client = world.clients[role]
        if role in allowed:  # the view runs: the page, then the form's answer to an empty POST
            assert client.get(url).status_code == 200, (role, url)
            assert client.post(url, {}).status_code in (200, 302, 400), (role, url)
        else:  # refused even with valid data
            assert_refused(client, role, "get", url)
            assert_refused(client, role, "post", url, data)


def check_web_read(world, name):
    kwargs, readers = WEB_READS[name]
    url = reverse(name, kwargs=kwargs(world))
    for role in ROLES:
        if role in readers:
            assert world.clients[role].get(url).status_code == 200, (role, url)
        else:
            assert_refused(world.clients[role], role, "get", url)
    # A read writes nothing: POST is not even accepted.
    assert_post_is_not_allowed(world.clients["admin"], url)


def check_web_read_write(world, name):
    kwargs, data, allowed = WEB_READ_WRITES[name]
    url = reverse(name, kwargs=kwargs(world))
    for role in ROLES:
        client = world.clients[role]
        if role == "anonymous":
            assert_refused(client, role, "get", url)
        else:
            assert client.get(url).status_code == 200, (role, url)
        if role in allowed:
            assert client.post(url, {}).status_code in (200, 302, 400), (role, url)
        else:
            assert_refused(client, role, "post", url, data)


def check_web_post(world, name):
    kwargs, data, allowed = WEB_POSTS[name]
    url = reverse(name, kwargs=kwargs(world))
    for role in ROLES:
        client = world.clients[role]
        if role in allowed:
            assert client.post(url, {}).status_code in (200, 302, 400), (role, url)
        else:
            assert_refused(client, role, "post", url, data)


def assert_post_is_not_allowed(client, url):
    before = snapshot()
    assert client.post(url).status_code == 405, f"{url} accepts POST: classify it as a write in the matrix"
    assert snapshot() == before


def check_admin_write(world, label, view):
    """``view``: add, change, delete, or simple_history (django-simple-history's revert: a change)."""
    app_label, model_name = label.split(".")
    name = f"admin:{app_label}_{model_name.lower()}_{view}"
    obj = world.objects[label]
    if view == "add":
        url = reverse(name)
    elif view == "simple_history":
        url = reverse(name, args=[obj.pk, obj.history.latest().history_id])
    else:
        url = reverse(name, args=[obj.pk])
    allowed = ADMIN_WRITES[label]["change" if view == "simple_history" else view]
    for role in ROLES:
        client = world.clients[role]
        if role in allowed:
            if view in ("change", "simple_history"):
                assert client.post(url, {}).status_code in (200, 302), (role, url)
            else:
                assert client.get(url).status_code == 200, (role, url)
            continue
        if view not in ("change", "simple_history"):  # these pages read (read-only) for whoever may view
            assert_refused(client, role, "get", url)
        assert_refused(client, role, "post", url, {"post": "yes"} if view == "delete" else {})


def check_api_refuses_sessions(world, name, route):
    url = "/" + re.sub(r"\(\?P<\w+>[^)]*\)", "1", route).replace("^", "").replace("$", "")
    for role in ROLES:
        client = world.clients[role]
        for method in ("get", "post", "patch", "delete"):
            before = snapshot()
            response = getattr(client, method)(url, content_type="application/json")
            expected = 404 if name is None else 401  # the catch-all answers a JSON 404 for unknown API URLs
            assert response.status_code == expected, (role, method, url, response.status_code)
            assert response["Content-Type"].startswith("application/json"), (role, method, url)
            assert snapshot() == before


def check_own_page(world, name):
    url = reverse(name)
    allowed, data = OWN_PAGES[name]
    for role in ROLES:
        if role in allowed:
            assert world.clients[role].get(url).status_code == 200, (role, url)
        else:
            assert_refused(world.clients[role], role, "get", url)
            assert_refused(world.clients[role], role, "post", url, data)


def registered_label(app, model):
    for registered in admin.site._registry:
        if registered._meta.app_label == app and registered._meta.model_name == model:
            return registered._meta.label
    return None


@pytest.mark.parametrize("name, route, view", PATTERNS, ids=[f"{p[0] or '-'} {p[1]}" for p in PATTERNS])
def test_every_url_answers_each_role_as_the_policy_says(world, name, route, view):
    if name in WEB_WRITES:
        check_web_write(world, name)
    elif name in WEB_READS:
        check_web_read(world, name)
    elif name in WEB_READ_WRITES:
        check_web_read_write(world, name)
    elif name in WEB_POSTS:
        check_web_post(world, name)
    elif name in PUBLIC_READS:
        assert_post_is_not_allowed(world.clients["anonymous"], reverse(name))
    elif route.startswith(API_ROUTE):
        check_api_refuses_sessions(world, name, route)
    elif name in OWN_PAGES:
        check_own_page(world, name)
    elif name in ACCOUNT:
        assert view.startswith("django.contrib.auth.views."), f"{name} is no longer Django's own account view"
    elif name in ADMIN_OTHER_WRITES:
        args, allowed = ADMIN_OTHER_WRITES[name]
        url = reverse(name, args=args(world))
        for role in set(ROLES) - allowed:
            assert_refused(world.clients[role], role, "get", url)
            assert_refused(world.clients[role], role, "post", url, {"password1": "x-Long-pass-1", "password2": "x"})
    elif name and (match := ADMIN_MODEL_VIEW.match(name)):
        label = registered_label(match["app"], match["model"])
        assert label in ADMIN_WRITES, f"admin model {match['app']}.{match['model']} is not in the matrix"
        if match["view"] in ("add", "change", "delete", "simple_history"):
            check_admin_write(world, label, match["view"])
        # changelist (its bulk actions: test_admin_bulk_actions_…) and history only read
    elif name in ADMIN_SITE_VIEWS or (
        name is None
        and route.startswith("admin/")
        and view in ("django.views.generic.base.RedirectView", "django.contrib.admin.sites.AdminSite.catch_all_view")
    ):
        assert view.startswith(("django.contrib.", "django.views.")), f"{name or route} is not Django's admin"
    else:
        pytest.fail(f"The permission matrix does not know {name or route} ({view}): classify it in {__name__}.")


def test_every_registered_admin_model_is_in_the_matrix():
    assert {model._meta.label for model in admin.site._registry} == set(ADMIN_WRITES)
