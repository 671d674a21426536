"""A digest delivery is born ``pending`` (planned, never tried), no longer ``sending``: the rows planned but
never attempted (``sending`` with no attempt) become ``pending``; a claimed row stays ``sending``."""

from django.db import migrations, models


def planned_rows_are_pending(apps, schema_editor):
    DigestDelivery = apps.get_model("kpis", "DigestDelivery")
    DigestDelivery.objects.filter(status="sending", attempts=0).update(status="pending")


def pending_rows_were_sending(apps, schema_editor):
    DigestDelivery = apps.get_model("kpis", "DigestDelivery")
    DigestDelivery.objects.filter(status="pending").update(status="sending")


class Migration(migrations.Migration):
    dependencies = [("kpis", "0011_text_length_caps")]

    operations = [
        migrations.AlterField(
            model_name="digestdelivery",
            name="status",
            field=models.CharField(
                choices=[("pending", "Pending"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed")],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.RunPython(planned_rows_are_pending, pending_rows_were_sending),
    ]
