from django.db import migrations


def seed_catalogue(apps, schema_editor):
    from kpis.catalogue import KPI_CATALOGUE

    KPI = apps.get_model("kpis", "KPI")
    for code, name, unit, direction, service_types, description in KPI_CATALOGUE:
        KPI.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "direction": direction,
                "service_types": service_types,
                "description": description,
                "is_computed": code == "attrition_rate",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("kpis", "0001_initial")]

    operations = [migrations.RunPython(seed_catalogue, migrations.RunPython.noop)]
