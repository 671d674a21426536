"""Django's ModelBackend for signing in and for the permissions of what the policy does not cover
(``auth`` users and groups, ``axes``); for the policy's apps it answers nothing, so a permission row
granted by hand in the admin cannot open a door the policy keeps shut (and no permission-table queries
are spent asking). The policy itself answers through ``rules.permissions.ObjectPermissionBackend``."""

from django.contrib.auth.backends import ModelBackend

from .rules import POLICY_APPS


class NonPolicyModelBackend(ModelBackend):
    def has_perm(self, user_obj, perm, obj=None):
        if perm.partition(".")[0] in POLICY_APPS:
            return False
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        if app_label in POLICY_APPS:
            return False
        return super().has_module_perms(user_obj, app_label)
