"""The edge namespaces become required; covering indexes for the lineage walk replace the plain ones.

A migration of its own: on PostgreSQL the foreign keys' deferred checks from 0002's UPDATE must be
committed before the table is altered.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lineage", "0002_jobedge_namespaces"),
    ]

    operations = [
        migrations.AlterField(
            model_name="jobedge",
            name="job_namespace",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="lineage.namespace"
            ),
        ),
        migrations.AlterField(
            model_name="jobedge",
            name="dataset_namespace",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="lineage.namespace"
            ),
        ),
        migrations.RemoveIndex(model_name="jobedge", name="jobedge_dataset_idx"),
        migrations.AlterField(
            model_name="jobedge",
            name="job",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="edges",
                to="lineage.job",
            ),
        ),
        migrations.AlterField(
            model_name="jobedge",
            name="dataset",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="job_edges",
                to="lineage.lineagedataset",
            ),
        ),
        migrations.AddIndex(
            model_name="jobedge",
            index=models.Index(
                fields=["dataset", "direction"], include=("job", "job_namespace"), name="jobedge_dataset_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="jobedge",
            index=models.Index(
                fields=["job"], include=("dataset", "direction", "dataset_namespace"), name="jobedge_job_idx"
            ),
        ),
    ]
