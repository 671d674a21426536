from django.db import migrations

CERTIFICATIONS = [
    ("iso-27001", "ISO 27001"),
    ("iso-9001", "ISO 9001"),
    ("soc-2", "SOC 2 Type II"),
    ("pci-dss", "PCI DSS"),
    ("hipaa", "HIPAA"),
    ("gdpr", "GDPR"),
    ("copc", "COPC"),
    ("iso-22301", "ISO 22301"),
]


def seed(apps, schema_editor):
    Certification = apps.get_model("vendors", "Certification")
    for code, name in CERTIFICATIONS:
        Certification.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("vendors", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
