"""Every decision the API makes about who may read or write what, in one place.

Two kinds of caller:

- a **personal key** acts as its user with the user's role. Its decisions are the web app's policy,
  asked through ``access.permissions.can_change`` / ``can_add`` — and only here, so moving to the
  ``rules`` policy (``user.has_perm(perm, obj)``) changes this module alone;
- a **vendor key** acts for one vendor: it may push figures and roster changes for that vendor's
  contracts, update the corrective actions it owns, and read that vendor's rows, nothing else; it never
  changes a breach's status.
"""

from rest_framework.permissions import BasePermission

from access import permissions as policy
from contracts.models import Contract, StaffMember
from governance.actions import vendor_may_update
from kpis.models import Measurement

from .authentication import VendorPrincipal


def vendor_id_of(user):
    """The vendor a vendor key acts for, or None for a person."""
    return user.vendor_id if isinstance(user, VendorPrincipal) else None


def is_vendor_key(user):
    return isinstance(user, VendorPrincipal)


def scope(user, queryset, vendor_path):
    """The rows of ``queryset`` ``user`` may read: everything for a person (every role reads everything),
    the vendor's own rows for a vendor key (``vendor_path``: the lookup to the vendor id)."""
    vendor_id = vendor_id_of(user)
    if vendor_id is None:
        return queryset
    return queryset.filter(**{vendor_path: vendor_id})


def may_record_figures(user, contract) -> bool:
    if is_vendor_key(user):
        return contract.vendor_id == user.vendor_id
    return policy.can_add(user, Measurement, contract)


def may_add_staff(user, contract) -> bool:
    if is_vendor_key(user):
        return contract.vendor_id == user.vendor_id
    return policy.can_add(user, StaffMember, contract)


def may_change_staff(user, staff_member) -> bool:
    if is_vendor_key(user):
        return staff_member.contract.vendor_id == user.vendor_id
    return policy.can_change(user, staff_member)


def may_change_breach(user, breach) -> bool:
    """People own a breach's workflow (status, notes): a vendor key never changes it."""
    if is_vendor_key(user):
        return False
    return policy.can_change(user, breach)


def may_update_action(user, action) -> bool:
    """A vendor key updates the corrective actions it owns (its vendor's, owner side vendor: status up to done
    and progress notes, ``governance.actions``); a person the actions of the contracts they may change."""
    if is_vendor_key(user):
        return action.contract.vendor_id == user.vendor_id and vendor_may_update(action)
    return policy.can_change(user, action)


def may_write_at_all(user) -> bool:
    """Whether ``user`` could write anything (a viewer cannot): a quick 403 before reading a body."""
    if is_vendor_key(user):
        return True
    return policy.can_add(user, Contract)


class ReadOrRoleWrite(BasePermission):
    """Reads for every key; writes only for a key that may write something (the per-object decision is
    the view's, through the functions above)."""

    message = "Your role does not allow changes."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return may_write_at_all(request.user)


def may_hold_personal_key(user) -> bool:
    """Who may create their own personal key on ``/accounts/keys/``: those who may write (managers and
    admins); admins create any key in the admin site."""
    return bool(user and user.is_authenticated) and may_write_at_all(user)
