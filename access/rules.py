"""The roles of DESIGN.md ("Web → Roles"), written once. Every door asks this module, through Django's
``user.has_perm(perm, obj)`` (the ``rules`` backend) or ``<Model>.objects.restrict(user, action)``:
the web views and templates, the admin (``access.admin_mixins``), the figure import and the API.

- **admin** (superuser or group "SLA admins"): everything.
- **manager** (group "Managers"): reads everything; creates contracts (becoming their owner) and
  vendors; changes only the contracts they own and what hangs off them (any model with a ``contract``
  foreign key, or a ``contract_path`` naming the way to it); changes a vendor and its delivery centres
  only while they own a contract with it, or added it and no contract exists yet.
- **viewer** (group "Viewers"): reads only. Anonymous: nothing (the login page, by middleware).
- Models marked ``admin_only`` (webhook endpoints and their delivery log) are the admins' alone; models
  marked ``personal`` (a manager's breach alerts) are made and changed by their user alone.

Permissions are named Django-style (``contracts.change_contract``, ``kpis.add_sla``,
``vendors.change_deliverycenter``…): ``view``, ``add``, ``change`` and ``delete`` of every model of
``POLICY_APPS``. The object of a check is the row itself, or for ``add`` the parent it is created under
(a contract, a vendor). Without an object a check asks "may this user do it to some rows?" (the admin's
changelists, the web's add buttons); the object-level check then decides.
"""

import rules
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Exists, OuterRef, Q

from accounts import roles
from common.policy import ACTIONS, perm_name
from contracts.models import Contract
from kpis.models import Breach
from vendors.models import DeliveryCenter, Vendor

# The apps whose models the policy decides (an app added later joins by adding its label here).
POLICY_APPS = ("accounts", "vendors", "contracts", "kpis", "governance", "api", "outbound")


# --- who ---------------------------------------------------------------------------------------
@rules.predicate
def is_admin(user):
    return roles.is_admin(user)


@rules.predicate
def is_manager(user):
    return roles.is_manager(user)


@rules.predicate
def is_viewer(user):
    return roles.is_viewer(user)


is_reader = is_admin | is_manager | is_viewer


# --- what --------------------------------------------------------------------------------------
def contract_path(model):
    """The ORM path from ``model`` to the contract its rows hang off: ``""`` for Contract itself,
    ``"contract__"`` for a model with a ``contract`` foreign key, ``"<model.contract_path>__"`` when the
    model names another way (a measurement: ``sla__contract``); None for models outside any contract."""
    if issubclass(model, Contract):
        return ""
    declared = getattr(model, "contract_path", None)
    if isinstance(declared, str) and declared:
        return f"{declared}__"
    try:
        field = model._meta.get_field("contract")
    except FieldDoesNotExist:
        return None
    return "contract__" if field.is_relation and field.related_model is Contract else None


def vendor_path(model):
    """The ORM path from a vendor-side model to its vendor: ``""`` for Vendor, ``"vendor__"`` for its
    delivery centres; None for every other model."""
    if issubclass(model, Vendor):
        return ""
    if issubclass(model, DeliveryCenter):
        return "vendor__"
    return None


def contract_of(obj):
    """The contract ``obj`` hangs off (itself for a contract); None for anything else."""
    if isinstance(obj, Contract):
        return obj
    contract = getattr(obj, "contract", None)
    return contract if isinstance(contract, Contract) else None


def vendor_of(obj):
    if isinstance(obj, Vendor):
        return obj
    vendor = getattr(obj, "vendor", None)
    return vendor if isinstance(vendor, Vendor) else None


@rules.predicate
def model_level(user, obj):
    """No object: the question is "may the user do this to some rows?" (a changelist, an add button)."""
    return obj is None


@rules.predicate
def owns_contract(user, obj):
    contract = contract_of(obj)
    return contract is not None and contract.owner_id is not None and contract.owner_id == user.pk


@rules.predicate
def manages_vendor(user, obj):
    """The user owns a contract with the vendor, or added it and it has no contract yet."""
    vendor = vendor_of(obj)
    if vendor is None or vendor.pk is None:
        return False
    contracts = Contract.objects.filter(vendor=vendor)
    if contracts.filter(owner=user).exists():
        return True
    return vendor.created_by_id is not None and vendor.created_by_id == user.pk and not contracts.exists()


@rules.predicate
def is_own(user, obj):
    """A person's own row (a model marked ``personal``, with a ``user`` field: their breach alerts)."""
    return obj is not None and obj.user_id is not None and obj.user_id == user.pk


creates = is_admin | is_manager
changes_contract = is_admin | (is_manager & (model_level | owns_contract))
changes_vendor = is_admin | (is_manager & (model_level | manages_vendor))


def rules_for(model):
    """``{action: predicate}`` for one model: the whole policy, model by model."""
    if getattr(model, "admin_only", False):  # e.g. webhook endpoints: they carry secrets and reach out
        return {action: is_admin for action in ACTIONS}
    if getattr(model, "personal", False):  # a person's own settings: theirs alone to make and change
        own = creates & (model_level | is_own)
        return {"view": is_admin | own, "add": own, "change": own, "delete": is_admin | own}
    if issubclass(model, Contract):
        writes = {"add": creates, "change": changes_contract}
    elif issubclass(model, Vendor):
        writes = {"add": creates, "change": changes_vendor}
    elif vendor_path(model) is not None:
        writes = {"add": changes_vendor, "change": changes_vendor}
    elif issubclass(model, Breach):
        writes = {"add": is_admin, "change": changes_contract}  # breaches are found by the checks
    elif contract_path(model) is not None:
        writes = {"add": changes_contract, "change": changes_contract}
    else:
        writes = {"add": is_admin, "change": is_admin}  # reference data: KPI catalogue, rates, digests…
    return {"view": is_reader, **writes, "delete": is_admin}


def register():
    """Declare every permission of ``POLICY_APPS`` to the ``rules`` backend (at start-up)."""
    for app_label in POLICY_APPS:
        if not apps.is_installed(app_label):
            continue
        rules.set_perm(app_label, is_reader)  # module permission: the admin's index
        for model in apps.get_app_config(app_label).get_models():
            for action, predicate in rules_for(model).items():
                rules.set_perm(perm_name(model, action), predicate)


# --- which rows --------------------------------------------------------------------------------
def managed_vendors(user):
    """The vendors ``user`` manages (``manages_vendor`` in SQL)."""
    contracts = Contract.objects.filter(vendor=OuterRef("pk"))
    return Vendor.objects.filter(
        Exists(contracts.filter(owner=user)) | (Q(created_by=user) & ~Exists(contracts))
    ).values("pk")


def restrict(queryset, user, action="view"):
    """The rows of ``queryset`` that ``user`` may ``action`` (``add``: the rows to add under), the same
    answers as ``has_perm`` row by row, in one query."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}.")
    model = queryset.model
    if not rules_for(model)[action].test(user, None):
        return queryset.none()
    if getattr(model, "personal", False) and not (action in ("view", "delete") and is_admin(user)):
        return queryset.filter(user=user)
    if action == "view" or is_admin(user):
        return queryset
    if action == "delete":
        return queryset.none()
    path = vendor_path(model)
    if path is not None:
        return queryset.filter(**{f"{path}pk__in": managed_vendors(user)})
    path = contract_path(model)
    if path is not None:
        return queryset.filter(**{f"{path}owner": user})
    return queryset.none()
