from django.db import migrations

DOMAIN_APPS = ("accounts", "vendors", "contracts", "kpis")

MANAGER_WRITES = {
    "vendors": ["add_vendor", "change_vendor", "add_deliverycenter", "change_deliverycenter"],
    "contracts": [
        "add_contract",
        "change_contract",
        "add_staffmember",
        "change_staffmember",
        "add_replacementobligation",
        "change_replacementobligation",
    ],
    "kpis": ["add_sla", "change_sla", "add_measurement", "change_measurement", "change_breach"],
}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate finishes; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    domain = Permission.objects.filter(content_type__app_label__in=DOMAIN_APPS)
    views = domain.filter(codename__startswith="view_")

    admins, _ = Group.objects.get_or_create(name="SLA admins")
    admins.permissions.set(
        domain | Permission.objects.filter(content_type__app_label="auth", codename__in=["view_user", "view_group"])
    )

    managers, _ = Group.objects.get_or_create(name="Managers")
    writes = Permission.objects.none()
    for app_label, codenames in MANAGER_WRITES.items():
        writes = writes | domain.filter(content_type__app_label=app_label, codename__in=codenames)
    managers.permissions.set(views | writes)

    viewers, _ = Group.objects.get_or_create(name="Viewers")
    viewers.permissions.set(views)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["SLA admins", "Managers", "Viewers"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("vendors", "0002_seed_certifications"),
        ("contracts", "0001_initial"),
        ("kpis", "0002_seed_kpi_catalogue"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
