"""The one place the web app decides who may change what (DESIGN.md "Roles").

- admin: everything;
- manager: reads everything, creates contracts and vendors, changes only contracts they own
  and what hangs off them (SLAs, measurements, staff, obligations, breach status);
- viewer: reads only.

Views never call the role functions themselves: the shared base views in ``common.views``
call :func:`can_change` / :func:`can_add` with the object (or the parent it is created under).
"""

from accounts import roles


def contract_of(obj):
    """The contract an object hangs off, or None for objects outside any contract (vendors)."""
    from contracts.models import Contract, ReplacementObligation, StaffMember
    from kpis.models import SLA, Breach, Measurement

    if obj is None:
        return None
    if isinstance(obj, Contract):
        return obj
    if isinstance(obj, SLA | Breach | StaffMember):
        return obj.contract
    if isinstance(obj, Measurement):
        return obj.sla.contract
    if isinstance(obj, ReplacementObligation):
        return obj.departed.contract
    # Anything else that hangs off a contract names it (a ``contract`` field or property): governance rows.
    contract = getattr(obj, "contract", None)
    return contract if isinstance(contract, Contract) else None


def _is_vendor_side(model):
    from vendors.models import DeliveryCenter, Vendor

    return model in (Vendor, DeliveryCenter)


def can_change(user, obj):
    """May ``user`` change (or act on) the existing ``obj``?"""
    if _is_vendor_side(type(obj)):
        return roles.can_edit_vendors(user)
    return roles.can_edit_contract(user, contract_of(obj))


def can_add(user, model, parent=None):
    """May ``user`` create a ``model`` instance, under ``parent`` (a contract, vendor...) when given?"""
    from contracts.models import Contract

    if _is_vendor_side(model):
        return roles.can_edit_vendors(user)
    if model is Contract:
        return roles.can_create_contracts(user)
    if parent is None:
        # Created under a contract chosen in the form: the form limits the choice to editable contracts.
        return roles.can_create_contracts(user)
    if _is_vendor_side(type(parent)):
        return roles.can_edit_vendors(user)
    return roles.can_edit_contract(user, contract_of(parent))


def editable_contracts(user, queryset=None):
    """The contracts ``user`` may change: all for an admin, their own for a manager, none otherwise."""
    from contracts.models import Contract

    queryset = Contract.objects.all() if queryset is None else queryset
    if roles.is_admin(user):
        return queryset
    if roles.is_manager(user):
        return queryset.filter(owner=user)
    return queryset.none()
