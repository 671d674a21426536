"""The admin site asks the access policy like every other door (DESIGN.md: "one policy decides").

Every ``ModelAdmin`` of the domain mixes in :class:`PolicyAdminMixin`, every inline
:class:`PolicyInlineMixin`:

- view / change / delete of an object: ``user.has_perm(perm, obj)`` (``rules``' object-permission
  admin), add: ``has_perm(perm)``, inlines: the permission on their parent object;
- what is saved must stay within the policy: the foreign key an object hangs off (its contract, SLA,
  departed staff member, vendor) offers only what the user may change, and a save that would leave the
  object outside what the user may change (a contract handed to someone else) is refused (403, rolled
  back);
- bulk actions that change or delete act on the selected rows the user may change, and say how many
  were skipped; reverting to an old version (django-simple-history) is a change;
- ``created_by`` is set to the user on creation.
"""

import functools

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from rules.contrib.admin import ObjectPermissionsModelAdminMixin

from common.policy import perm_name

from .rules import contract_path, restrict, vendor_path


def owner_field_name(model):
    """The foreign key a model's rows hang off for the policy: ``contract``, ``sla``, ``departed``,
    ``vendor``; None for Contract, Vendor and reference data."""
    path = vendor_path(model)
    if path is None:
        path = contract_path(model)
    return path.split("__")[0] or None if path else None


class PolicyAdminMixin(ObjectPermissionsModelAdminMixin):
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.name == owner_field_name(self.model):
            field.queryset = restrict(field.queryset, request.user, "change")
        return field

    def save_form(self, request, form, change):
        obj = super().save_form(request, form, change)
        if not change and hasattr(obj, "created_by_id") and obj.created_by_id is None:
            obj.created_by = request.user
        return obj

    def save_related(self, request, form, formsets, change):
        # After save_model, inside the view's transaction: a refusal rolls the whole save back.
        obj = form.instance
        if not request.user.has_perm(perm_name(type(obj), "change"), obj):
            raise PermissionDenied("You may not save this: it would be outside what you may change.")
        super().save_related(request, form, formsets, change)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """django-simple-history's "revert to this version" page saves on POST after asking only for the
        *view* permission: a revert is a change, so it asks the change permission of the object."""
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            if obj is None or not self.has_change_permission(request, obj):
                raise PermissionDenied("You may not change this.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_action(self, action):
        found = super().get_action(action)
        if found is None:
            return None
        func, name, description = found
        needed = [p for p in getattr(func, "allowed_permissions", ()) if p in ("change", "delete")]
        if not needed:
            return found

        @functools.wraps(func)
        def on_permitted_rows(modeladmin, request, queryset):
            permitted = queryset
            for permission in needed:
                permitted = restrict(permitted, request.user, permission)
            skipped = queryset.count() - permitted.count()
            if skipped:
                modeladmin.message_user(
                    request,
                    f"{skipped} of the selected {self.opts.verbose_name_plural} skipped: "
                    f"you may not {' or '.join(needed)} them.",
                    messages.WARNING,
                )
            return func(modeladmin, request, permitted)

        return on_permitted_rows, name, description


class PolicyInlineMixin:
    """Inline rows are asked about with the parent object (the contract of an SLA inline, the vendor of
    a delivery-centre inline)."""

    def _has(self, request, action, obj):
        return request.user.has_perm(perm_name(self.model, action), obj)

    def has_view_permission(self, request, obj=None):
        return self._has(request, "view", obj) or self._has(request, "change", obj)

    def has_add_permission(self, request, obj):
        return self._has(request, "add", obj)

    def has_change_permission(self, request, obj=None):
        return self._has(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._has(request, "delete", obj)
