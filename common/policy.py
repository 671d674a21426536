"""The seam between the domain and the access policy, which lives above it (``access/rules.py``).

``common`` and the domain apps never import ``access``: the policy installs itself here when Django
starts (``access.apps``), and the rest of the code asks through two standard doors:

- an object or a model: ``request.user.has_perm(perm_name(model, "change"), obj)`` (Django's own API;
  the ``rules`` backend answers with the policy);
- a queryset: ``Contract.objects.restrict(user, "change")`` — the rows ``user`` may ``action``
  (``view``, ``add`` under, ``change``, ``delete``), for lists, lookups and form choices.
"""

from django.contrib.auth import get_permission_codename
from django.core.exceptions import ImproperlyConfigured
from django.db import models

ACTIONS = ("view", "add", "change", "delete")

_restrict = None


def install(restrict):
    """Called once by the access app: ``restrict(queryset, user, action)`` → the permitted rows."""
    global _restrict
    _restrict = restrict


def perm_name(model, action):
    """``"contracts.change_contract"`` for (Contract, "change"): Django's permission naming."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}: one of {', '.join(ACTIONS)}.")
    opts = model._meta
    return f"{opts.app_label}.{get_permission_codename(action, opts)}"


def restrict(queryset, user, action="view"):
    if _restrict is None:
        raise ImproperlyConfigured("No access policy is installed: add 'access' to INSTALLED_APPS.")
    return _restrict(queryset, user, action)


class RestrictQuerySet(models.QuerySet):
    """Domain querysets inherit ``restrict``: the rows ``user`` may ``action``, as the policy decides."""

    def restrict(self, user, action="view"):
        return restrict(self, user, action)
