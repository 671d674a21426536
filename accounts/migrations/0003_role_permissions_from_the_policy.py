"""The roles' permissions on the domain's models now come from one place, the access policy
(``access/rules.py``, asked through the ``rules`` backend): the rows that 0002 granted to the groups
are taken back, so the admin site cannot answer differently from the web app. The groups stay (they
are the roles); ``auth.view_user`` / ``auth.view_group`` of "SLA admins" stay (not the domain's)."""

import importlib

from django.db import migrations

POLICY_APPS = ("accounts", "vendors", "contracts", "kpis")
GROUPS = ("SLA admins", "Managers", "Viewers")


def take_back_domain_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    domain = Permission.objects.filter(content_type__app_label__in=POLICY_APPS)
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*domain)


def grant_them_again(apps, schema_editor):
    importlib.import_module("accounts.migrations.0002_create_role_groups").create_groups(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_create_role_groups")]

    operations = [migrations.RunPython(take_back_domain_permissions, grant_them_again)]
