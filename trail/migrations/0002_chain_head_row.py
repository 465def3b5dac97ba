from django.db import migrations


def create_head(apps, schema_editor):
    ChainHead = apps.get_model("trail", "ChainHead")
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "entry_hash": "0" * 64})


class Migration(migrations.Migration):
    """The chain head row exists before the first append, so concurrent first writers lock it."""

    dependencies = [("trail", "0001_initial")]

    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
