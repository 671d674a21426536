from django.db import migrations


def create_default(apps, schema_editor):
    ScorecardPolicy = apps.get_model("governance", "ScorecardPolicy")
    if not ScorecardPolicy.objects.exists():
        ScorecardPolicy.objects.create(name="Standard", active=True)


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
