"""Two thin questions over the policy for callers that think in "change this" / "add that under"
(the API's adapter): both are ``user.has_perm`` with Django's permission names."""

from common.policy import perm_name


def can_change(user, obj):
    """May ``user`` change (or act on) the existing ``obj``?"""
    return user.has_perm(perm_name(type(obj), "change"), obj)


def can_add(user, model, parent=None):
    """May ``user`` create a ``model`` row, under ``parent`` (a contract, a vendor…) when given?"""
    return user.has_perm(perm_name(model, "add"), parent)
