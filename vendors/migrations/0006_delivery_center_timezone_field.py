"""Delivery centres' time zone becomes django-timezone-field's TimeZoneField (``common.fields``).

The column stays a varchar(64) holding the zone's IANA name, so every existing value is kept as it is. The
old CharField was checked only by its forms: a row written another way with an empty or unknown name would
fail to load into the new field, so such a row is set to UTC first (the field's default)."""

import zoneinfo

from django.db import migrations

import common.fields


def unknown_zones_to_utc(apps, schema_editor):
    DeliveryCenter = apps.get_model("vendors", "DeliveryCenter")
    known = zoneinfo.available_timezones() - {"Factory"}
    unknown = DeliveryCenter.objects.exclude(timezone__in=known).values_list("timezone", flat=True).distinct()
    DeliveryCenter.objects.filter(timezone__in=list(unknown)).update(timezone="UTC")


class Migration(migrations.Migration):
    dependencies = [
        ("vendors", "0005_vendor_created_by"),
    ]

    operations = [
        migrations.RunPython(unknown_zones_to_utc, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="deliverycenter",
            name="timezone",
            field=common.fields.TimeZoneField(
                default="UTC", help_text="IANA time zone, e.g. Asia/Manila.", max_length=64
            ),
        ),
    ]
