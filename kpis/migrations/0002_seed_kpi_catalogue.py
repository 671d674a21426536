from django.db import migrations


def seed_catalogue(apps, schema_editor):
    from kpis.catalogue import seed_catalogue as seed

    seed(apps.get_model("kpis", "KPI"))


class Migration(migrations.Migration):
    dependencies = [("kpis", "0001_initial")]

    operations = [migrations.RunPython(seed_catalogue, migrations.RunPython.noop)]
