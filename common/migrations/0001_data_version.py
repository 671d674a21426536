from django.db import migrations

from common import data_version


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(data_version.CREATE_SQL)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(data_version.DROP_SQL)


class Migration(migrations.Migration):
    """The data version (``common.data_version``); every table's trigger is added after each ``migrate``."""

    dependencies = []

    operations = [migrations.RunPython(create, drop)]
