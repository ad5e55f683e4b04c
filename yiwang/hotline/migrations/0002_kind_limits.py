"""The default time limit of each ticket kind (the hotline centre edits them in the admin)."""

from django.db import migrations

LIMITS = (
    ("consultation", 1, "days"),
    ("help", 3, "days"),
    ("complaint", 5, "days"),
    ("report", 10, "days"),
    ("suggestion", 10, "days"),
    ("praise", 5, "days"),
)


def forwards(apps, schema_editor):
    KindLimit = apps.get_model("hotline", "KindLimit")
    for kind, amount, unit in LIMITS:
        KindLimit.objects.get_or_create(kind=kind, defaults={"amount": amount, "unit": unit})


class Migration(migrations.Migration):
    dependencies = [("hotline", "0001_tickets")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
