"""Checks in the demo: escalation predictions of the support assistant, a bias check and an evaluation.

The predictions table is generated deterministically and stored as a real file, so the bias check
(queued here, run by the worker once it starts) reads it like any uploaded dataset version.
"""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from access.actors import Actor
from audits.checks.evaluation import EvaluationItemData
from audits.choices import CheckKind
from audits.services import do_import_evaluation, do_request_check
from lineage.demo import DATA, EVALUATION, FINE_TUNED, RAW_TICKETS, demo_run_events
from lineage.ingest import ingest_event
from lineage.models import dataset_uri
from registry.models import AISystem, Dataset, DatasetVersion, ModelVersion
from registry.services import do_create_asset, do_create_dataset_version

PREDICTIONS_NAME = "Derivaciones a agente humano — predicciones del asistente"
PREDICTIONS = (DATA, "soporte/equidad/2026-10/derivaciones.csv")
LANGUAGES = (("es", 0.70), ("ca", 0.15), ("gl", 0.09), ("eu", 0.06))
AGES = (("18-34", 0.35), ("35-54", 0.40), ("55+", 0.25))
DEMO_EVALUATION = (
    ("¿Cómo cambio la tarifa de mi línea móvil?", "Desde Mi Área > Tarifas o llamando al 1234.", 0.95),
    ("¿Puedo portar mi número desde otra compañía?", "Sí, la portabilidad es gratuita y tarda un día hábil.", 0.9),
    (
        "No tengo conexión a internet en casa, ¿qué hago?",
        "Reiniciar el router y, si sigue, abrir una incidencia.",
        0.85,
    ),
    ("¿Cuándo se emite la factura?", "El día 1 de cada mes, disponible en Mi Área.", 1.0),
    ("¿Cómo doy de baja una línea?", "Por teléfono o en tienda, con el DNI del titular.", 0.55),
    ("¿Qué cubre el seguro del móvil?", "Rotura y robo con denuncia; no cubre pérdida.", 0.7),
)


def _pick(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([name for name, _w in options], weights=[w for _n, w in options])[0]


def predictions_csv(rows: int = 4000, seed: int = 2026) -> bytes:
    """Whether each conversation needed a human agent (truth) and whether the assistant escalated it."""
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("consulta_id,derivado_real,derivado_predicho,idioma,grupo_edad\n")
    for number in range(1, rows + 1):
        language, age = _pick(rng, LANGUAGES), _pick(rng, AGES)
        needed = rng.random() < (0.30 if age == "55+" else 0.22)
        # The assistant recognises fewer of the conversations that need a person in Basque and Galician.
        recall = 0.62 if language in ("eu", "gl") else 0.84
        escalated = rng.random() < recall if needed else rng.random() < 0.06
        out.write(f"C{number:05d},{int(needed)},{int(escalated)},{language},{age}\n")
    return out.getvalue().encode()


def load_demo_checks(*, team: Any, actor: Actor) -> None:
    contributor = get_user_model().objects.filter(username="contributor").first()
    author = Actor(user=contributor) if contributor is not None else actor
    version = (
        ModelVersion.objects.filter(model__owner_team=team, serving_endpoint__gt="")
        .select_related("model")
        .order_by("-number")
        .first()
    )
    system = AISystem.objects.filter(owner_team=team).first()
    if version is None:
        return
    dataset = do_create_asset(
        Dataset,
        actor=author,
        data={
            "name": PREDICTIONS_NAME,
            "description": "Muestra de conversaciones de octubre de 2026 etiquetadas por agentes: si necesitaban "
            "una persona y si el asistente las derivó. Idioma y grupo de edad del cliente, para el análisis de "
            "equidad.",
            "owner_team": team,
        },
        tags=["equidad"],
    )
    predictions = do_create_dataset_version(
        dataset,
        actor=author,
        data={
            "uri": dataset_uri(*PREDICTIONS),
            "origin": "annotated",
            "contains_personal_data": False,
            "license": "Propietaria — uso interno",
        },
        upload=SimpleUploadedFile("derivaciones-2026-10.csv", predictions_csv(), content_type="text/csv"),
    )
    # The labelling job that produced the table, in the pipeline's lineage.
    for event in demo_run_events(
        "soporte.etiquetar_derivaciones",
        "Agentes etiquetan una muestra de conversaciones: ¿necesitaba una persona? ¿la derivó el asistente?",
        datetime(2026, 10, 20, 9, 0, tzinfo=UTC),
        180,
        [FINE_TUNED, EVALUATION],
        [PREDICTIONS],
    ):
        ingest_event(event, actor=actor, team=team)
    do_request_check(
        CheckKind.BIAS,
        actor=author,
        target=version,
        parameters={
            "mode": "classification",
            "y_true": "derivado_real",
            "y_pred": "derivado_predicho",
            "score": "",
            "sensitive": ["idioma", "grupo_edad"],
            "positive_label": "",
            "score_threshold": None,
        },
        input_dataset_version=predictions,
        policy_system=system,
    )
    # The raw tickets hold personal data by design; the knowledge base claims to hold none: scan both.
    for dataset_version in DatasetVersion.objects.filter(dataset__owner_team=team, file__gt="").exclude(
        pk=predictions.pk
    ):
        do_request_check(
            CheckKind.PII,
            actor=author,
            target=dataset_version,
            parameters={"language": "es", "sample_rows": None},
            policy_system=system,
        )
    rng = random.Random(7)
    items = []
    for position in range(1, 61):
        question, truth, base = DEMO_EVALUATION[(position - 1) % len(DEMO_EVALUATION)]
        score = max(0.0, min(1.0, round(base + rng.uniform(-0.1, 0.1), 2)))
        items.append(
            EvaluationItemData(
                position=position,
                question=question,
                ground_truth=truth,
                answer=truth if score >= 0.8 else "Le recomiendo consultar la web.",
                score=score,
                explanation="Correcta y completa." if score >= 0.8 else "Incompleta: no da los pasos.",
            )
        )
    do_import_evaluation(
        actor=author,
        target=version,
        name="Evaluación de respuestas — octubre 2026",
        items=items,
        judge="Revisión por agentes senior (rúbrica v2)",
        policy_system=system,
    )
    load_synthetic_pilot(team=team, author=author, system=system, actor=actor)
    if system is not None:
        load_governance_records(system=system, author=author, officer=actor)


def feedback_csv(rows: int = 240, seed: int = 11) -> bytes:
    """Ratings agents and customers gave to the assistant's answers in October (no personal data)."""
    rng = random.Random(seed)
    comments = {
        1: "No entendió que quería dar de baja la línea.",
        2: "Me derivó a una persona tarde.",
        4: "Respuesta correcta sobre la factura.",
        5: "Rápido y claro.",
    }
    out = io.StringIO()
    out.write("interaction,rating,comment,occurred_at\n")
    for number in range(1, rows + 1):
        rating = rng.choices([1, 2, 3, 4, 5], weights=[6, 8, 16, 35, 35])[0]
        comment = comments.get(rating, "") if rng.random() < 0.25 else ""
        day, hour = 1 + number % 28, 8 + number % 12
        out.write(f"conv-2026-10-{number:05d},{rating},{comment},2026-10-{day:02d}T{hour:02d}:15:00Z\n")
    return out.getvalue().encode()


def load_governance_records(*, system: Any, author: Actor, officer: Actor) -> None:
    """The support chatbot's risk register, an incident, feedback, standards and oversight measures."""
    from datetime import date

    from audits.services import governance

    records = governance
    records.do_create_risk(
        system,
        actor=author,
        data={
            "title": "Derivación tardía a un agente en euskera y gallego",
            "description": "El asistente reconoce peor las conversaciones que necesitan una persona en euskera y "
            "gallego.",
            "affected_people": "Clientes que escriben en euskera o gallego",
            "likelihood": "likely",
            "severity": "moderate",
            "mitigation": "Umbral de derivación más bajo para esos idiomas y revisión semanal de la "
            "comprobación de sesgo.",
            "residual_risk": "medium",
            "review_date": date(2026, 12, 15),
        },
    )
    records.do_create_risk(
        system,
        actor=author,
        data={
            "title": "Datos personales en las respuestas",
            "description": "El modelo podría repetir datos de clientes vistos en el ajuste fino.",
            "affected_people": "Clientes cuyos tickets se usaron en el entrenamiento",
            "likelihood": "unlikely",
            "severity": "major",
            "mitigation": "Base de conocimiento anonimizada, comprobación de PII y de memorización antes de "
            "cada versión.",
            "residual_risk": "low",
            "review_date": date(2027, 1, 31),
        },
    )
    records.do_create_incident(
        system,
        actor=author,
        data={
            "title": "Respuestas con tarifas antiguas",
            "description": "Durante dos horas el asistente citó las tarifas de septiembre tras el cambio del "
            "1 de octubre.",
            "occurred_at": datetime(2026, 10, 1, 9, 30, tzinfo=UTC),
            "severity": "medium",
            "status": "resolved",
            "resolution": "Se reindexó la base de conocimiento y se añadió una prueba de vigencia de tarifas.",
            "resolved_at": datetime(2026, 10, 1, 11, 40, tzinfo=UTC),
        },
    )
    records.do_import_feedback(
        system, actor=author, file=io.BytesIO(feedback_csv()), name="valoraciones-octubre-2026.csv"
    )
    records.do_create_applied_standard(
        system,
        actor=author,
        data={
            "name": "Sistema de gestión de IA",
            "kind": "standard",
            "reference": "ISO/IEC 42001:2023",
            "scope": "Gestión del ciclo de vida del asistente: roles, riesgos, controles y mejora continua.",
            "adopted_on": date(2026, 3, 1),
        },
    )
    records.do_create_applied_standard(
        system,
        actor=author,
        data={
            "name": "Gestión de riesgos de IA",
            "kind": "standard",
            "reference": "ISO/IEC 23894:2023",
            "scope": "Método del registro de riesgos.",
        },
    )
    records.do_create_oversight_measure(
        system,
        actor=author,
        data={
            "kind": "on_the_loop",
            "description": "Un agente supervisa en tiempo real las conversaciones marcadas como conflictivas "
            "y puede tomar el control.",
            "responsible": "Coordinador del turno de atención al cliente",
            "frequency": "Cada conversación marcada",
        },
    )
    records.do_create_oversight_measure(
        system,
        actor=author,
        data={
            "kind": "override",
            "description": "El responsable del servicio puede desactivar el asistente y derivar todo a agentes.",
            "responsible": "Responsable del servicio de atención al cliente",
            "frequency": "Cuando sea necesario",
        },
    )


PILOT_COLUMNS = ["fecha_apertura", "canal", "categoria", "resolucion", "satisfaccion"]
HOLDOUT = (DATA, "soporte/tickets/2026-09/control.csv")
PILOT = (DATA, "soporte/sinteticos/piloto-tabular/tickets.csv")


def pilot_tables(training: bytes, copied_share: float = 0.15, seed: int = 31) -> bytes:
    """A synthetic ticket table from a generator that samples each column on its own — and copies some rows.

    The copied rows are whole real tickets (without the personal columns, which the pilot drops):
    exactly what the memorisation check exists to catch.
    """
    import csv

    rng = random.Random(seed)
    rows = list(csv.DictReader(io.StringIO(training.decode())))
    columns = {name: [row[name] for row in rows] for name in PILOT_COLUMNS}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PILOT_COLUMNS)
    for _ in range(len(rows)):
        if rng.random() < copied_share:
            source = rng.choice(rows)
            writer.writerow([source[name] for name in PILOT_COLUMNS])
        else:
            writer.writerow([rng.choice(columns[name]) for name in PILOT_COLUMNS])
    return out.getvalue().encode()


def load_synthetic_pilot(*, team: Any, author: Actor, system: Any, actor: Actor) -> None:
    """A tabular generator pilot trained on the raw tickets, a holdout sample, and its memorisation check."""
    from registry.demo_files import tickets_csv
    from registry.models import SyntheticGenerator
    from registry.services import do_create_generator_version

    generator = SyntheticGenerator.objects.filter(owner_team=team).first()
    training = (
        DatasetVersion.objects.filter(dataset__owner_team=team, format="csv", contains_personal_data=True)
        .exclude(file="")
        .first()
    )
    if generator is None or training is None:
        return
    pilot = do_create_generator_version(
        generator,
        actor=author,
        data={
            "method": "gaussian_copula",
            "software": "prototipo interno 0.3",
            "parameters": {"columnas": PILOT_COLUMNS, "filas": 2000},
            "description": "Piloto tabular: metadatos de tickets (sin columnas personales) para pruebas de carga.",
        },
        training_datasets=[training],
    )
    holdout_dataset = do_create_asset(
        Dataset,
        actor=author,
        data={
            "name": "Tickets de control (no usados en entrenamiento)",
            "description": "Muestra de tickets de septiembre de 2026 apartada antes de entrenar: la referencia "
            "para comprobar si los datos sintéticos copian registros reales.",
            "owner_team": team,
        },
        tags=["control"],
    )
    holdout = do_create_dataset_version(
        holdout_dataset,
        actor=author,
        data={"uri": dataset_uri(*HOLDOUT), "origin": "collected", "contains_personal_data": True, "format": "csv"},
        upload=SimpleUploadedFile("tickets-control.csv", tickets_csv(rows=800, seed=8808), content_type="text/csv"),
    )
    synthetic_dataset = do_create_asset(
        Dataset,
        actor=author,
        data={
            "name": "Metadatos de tickets sintéticos (piloto)",
            "description": "Salida del piloto tabular del generador de tickets.",
            "owner_team": team,
        },
        tags=["sintetico"],
    )
    with training.file.open("rb") as handle:
        table = pilot_tables(handle.read())
    generated = do_create_dataset_version(
        synthetic_dataset,
        actor=author,
        data={
            "uri": dataset_uri(*PILOT),
            "origin": "synthetic",
            "generator_version": pilot,
            "contains_personal_data": False,
            "format": "csv",
        },
        upload=SimpleUploadedFile("tickets-sinteticos-piloto.csv", table, content_type="text/csv"),
    )
    # The jobs that set the holdout sample aside and ran the pilot, in the pipeline's lineage.
    for name, description, inputs, outputs in (
        (
            "soporte.apartar_muestra_control",
            "Aparta una muestra de tickets antes de entrenar.",
            [RAW_TICKETS],
            [HOLDOUT],
        ),
        ("soporte.generar_piloto_tabular", "Genera metadatos de tickets sintéticos.", [RAW_TICKETS], [PILOT]),
    ):
        for event in demo_run_events(name, description, datetime(2026, 10, 22, 8, 0, tzinfo=UTC), 20, inputs, outputs):
            ingest_event(event, actor=actor, team=team)
    do_request_check(
        CheckKind.MEMORISATION,
        actor=author,
        target=pilot,
        parameters={
            "mode": "synthetic",
            "training": str(training.uuid),
            "holdout": str(holdout.uuid),
            "columns": PILOT_COLUMNS,
        },
        input_dataset_version=generated,
        policy_system=system,
    )
