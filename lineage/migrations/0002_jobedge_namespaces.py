"""Copy each edge's job and dataset namespaces onto the edge (made required, with covering indexes, in 0003)."""

import django.db.models.deletion
from django.db import migrations, models

FILL = """
UPDATE lineage_jobedge SET
    job_namespace_id = (SELECT j.namespace_id FROM lineage_job j WHERE j.id = lineage_jobedge.job_id),
    dataset_namespace_id = (
        SELECT d.namespace_id FROM lineage_lineagedataset d WHERE d.id = lineage_jobedge.dataset_id
    )
"""


class Migration(migrations.Migration):
    dependencies = [
        ("lineage", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="jobedge",
            name="job_namespace",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="lineage.namespace",
            ),
        ),
        migrations.AddField(
            model_name="jobedge",
            name="dataset_namespace",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="lineage.namespace",
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
