"""Demo lineage: the OpenLineage runs of UnaEmpresa's support-chatbot pipeline (see ``registry.demo``).

Four jobs, each a START and a COMPLETE run event built with the ``openlineage-python`` client
classes, as the pipeline itself would emit them:

* ``soporte.anonimizar_tickets``: raw tickets → anonymised knowledge base;
* ``soporte.generar_tickets_sinteticos``: raw tickets (category statistics) → synthetic tickets;
* ``soporte.ajustar_modelo``: knowledge base + synthetic tickets + base model → fine-tuned model;
* ``soporte.construir_conjunto_evaluacion``: raw tickets → evaluation set.

Dataset namespaces and names are chosen so that ``dataset_uri(namespace, name)`` equals the
registered demo versions' ``uri`` / ``artifact_uri``: impact analysis from the raw tickets version
reaches the model the AI system uses. Run ids are stable (uuid5), so the events are the same on
every load and a second feed stores nothing new.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    documentation_job,
    job_type_job,
    schema_dataset,
)
from openlineage.client.serde import Serde

from access.actors import Actor
from access.models import Team
from lineage.ingest import IngestResult, ingest_event

PRODUCER = "https://custodia.example/demo/unaempresa-pipelines"
JOB_NAMESPACE = "unaempresa-pipelines"
DATA = "s3://unaempresa-datos"
ML = "s3://unaempresa-ml"
RAW_TICKETS = (DATA, "soporte/tickets/2026-09/tickets.csv")
KNOWLEDGE_BASE = (DATA, "soporte/base-conocimiento/v1/articulos.jsonl")
SYNTHETIC = (DATA, "soporte/sinteticos/v1/conversaciones.jsonl")
EVALUATION = (DATA, "soporte/evaluacion/v1/casos.jsonl")
BASE_MODEL = (ML, "modelos-base/llama-3.1-8b-instruct/")
FINE_TUNED = (ML, "modelos/asistente-soporte/2026-10/")
RUN_NAMESPACE = uuid.UUID("6f1c2a9e-3d4b-4e8f-9a51-0c7d2b8e4f13")

SCHEMAS: dict[tuple[str, str], list[tuple[str, str]]] = {
    RAW_TICKETS: [
        ("id_ticket", "integer"),
        ("fecha_apertura", "string"),
        ("canal", "string"),
        ("categoria", "string"),
        ("nombre_cliente", "string"),
        ("telefono", "string"),
        ("texto", "string"),
        ("resolucion", "string"),
    ],
    KNOWLEDGE_BASE: [
        ("id_articulo", "string"),
        ("categoria", "string"),
        ("pregunta", "string"),
        ("respuesta", "string"),
    ],
    SYNTHETIC: [("id_conversacion", "string"), ("categoria", "string"), ("turnos", "array")],
    EVALUATION: [
        ("id_caso", "string"),
        ("categoria", "string"),
        ("pregunta", "string"),
        ("respuesta_esperada", "string"),
    ],
}


def _dataset_facets(ref: tuple[str, str], columns: dict[str, list[tuple[tuple[str, str], str]]] | None = None) -> Any:
    facets: dict[str, Any] = {}
    if ref in SCHEMAS:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in SCHEMAS[ref]]
        )
    if columns:
        facets["columnLineage"] = column_lineage_dataset.ColumnLineageDatasetFacet(
            fields={
                out: column_lineage_dataset.Fields(
                    inputFields=[
                        column_lineage_dataset.InputField(namespace=src[0], name=src[1], field=fld)
                        for src, fld in sources
                    ]
                )
                for out, sources in columns.items()
            }
        )
    return facets


def _job(name: str, description: str) -> Job:
    return Job(
        namespace=JOB_NAMESPACE,
        name=name,
        facets={
            "jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="PYTHON", jobType="JOB"),
            "documentation": documentation_job.DocumentationJobFacet(description=description),
        },
    )


def _run(
    name: str,
    description: str,
    started: datetime,
    minutes: int,
    inputs: list[tuple[str, str]],
    outputs: list[tuple[tuple[str, str], dict[str, list[tuple[tuple[str, str], str]]] | None]],
) -> list[RunEvent]:
    run = Run(runId=str(uuid.uuid5(RUN_NAMESPACE, name)))
    job = _job(name, description)
    ins = [InputDataset(namespace=ns, name=n, facets=_dataset_facets((ns, n))) for ns, n in inputs]
    outs = [OutputDataset(namespace=ns, name=n, facets=_dataset_facets((ns, n), cols)) for (ns, n), cols in outputs]

    def stamp(when: datetime) -> str:
        return when.isoformat().replace("+00:00", "Z")

    return [
        RunEvent(eventType=RunState.START, eventTime=stamp(started), run=run, job=job, producer=PRODUCER, inputs=ins),
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=stamp(started + timedelta(minutes=minutes)),
            run=run,
            job=job,
            producer=PRODUCER,
            inputs=ins,
            outputs=outs,
        ),
    ]


def demo_events() -> list[dict[str, Any]]:
    """The pipeline's run events as JSON-ready dicts, in the order the pipeline ran."""
    day = datetime(2026, 10, 2, 6, 0, tzinfo=UTC)
    events = [
        *_run(
            "soporte.anonimizar_tickets",
            "Anonimiza los tickets brutos del CRM (nombres, teléfonos) y extrae artículos de ayuda.",
            day,
            42,
            [RAW_TICKETS],
            [
                (
                    KNOWLEDGE_BASE,
                    {
                        "categoria": [(RAW_TICKETS, "categoria")],
                        "pregunta": [(RAW_TICKETS, "texto")],
                        "respuesta": [(RAW_TICKETS, "resolucion")],
                    },
                )
            ],
        ),
        *_run(
            "soporte.generar_tickets_sinteticos",
            "Genera conversaciones sintéticas condicionadas con estadísticas por categoría de los tickets.",
            day + timedelta(hours=1),
            95,
            [RAW_TICKETS],
            [(SYNTHETIC, {"categoria": [(RAW_TICKETS, "categoria")]})],
        ),
        *_run(
            "soporte.construir_conjunto_evaluacion",
            "Reformula preguntas reales y las empareja con la respuesta esperada revisada por agentes.",
            day + timedelta(hours=2),
            30,
            [RAW_TICKETS],
            [
                (
                    EVALUATION,
                    {
                        "categoria": [(RAW_TICKETS, "categoria")],
                        "pregunta": [(RAW_TICKETS, "texto")],
                        "respuesta_esperada": [(RAW_TICKETS, "resolucion")],
                    },
                )
            ],
        ),
        *_run(
            "soporte.ajustar_modelo",
            "Ajuste fino LoRA de Llama 3.1 8B Instruct con la base de conocimiento y los tickets sintéticos.",
            day + timedelta(hours=4),
            310,
            [KNOWLEDGE_BASE, SYNTHETIC, BASE_MODEL],
            [(FINE_TUNED, None)],
        ),
    ]
    return [Serde.to_dict(event) for event in events]


def load_demo_lineage(*, team: Team, actor: Actor) -> list[IngestResult]:
    """Feed the demo pipeline's events through ingestion, written for the demo team."""
    return [ingest_event(event, actor=actor, team=team) for event in demo_events()]


def demo_run_events(
    name: str,
    description: str,
    started: datetime,
    minutes: int,
    inputs: list[tuple[str, str]],
    outputs: list[tuple[str, str]],
) -> list[dict[str, Any]]:
    """START and COMPLETE events of one more demo job (other apps' parts of the demo use it)."""
    return [
        Serde.to_dict(event)
        for event in _run(name, description, started, minutes, inputs, [(o, None) for o in outputs])
    ]
