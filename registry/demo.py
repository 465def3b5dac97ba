"""Demo data: the support chatbot of the telecom provider UnaEmpresa (content in Spanish).

Everything is created through the service functions, as the people who would do it in real
life: the system actor sets up the team and the users, the contributor registers the assets and
the officer approves the model (four-eyes rule). The audit trail therefore reads like a real one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from access.actors import Actor
from access.choices import Role
from access.models import Team
from access.services import do_create_team, do_set_membership, do_set_role
from registry import demo_files
from registry.choices import ComponentRole, ModelStage
from registry.models import AISystem, Dataset, Model, Prompt, SyntheticGenerator
from registry.services import (
    do_add_component,
    do_create_asset,
    do_create_dataset_version,
    do_create_generator_version,
    do_create_model_version,
    do_create_prompt_version,
    do_set_prompt_alias,
    do_transition_model_version,
    do_update_asset,
)
from trail.services import record

DEMO_PASSWORD = "custodia-demo"  # noqa: S105 - printed by `make run`; demo accounts only
TEAM_SLUG = "unaempresa"
TEAM_NAME = "UnaEmpresa — Atención al cliente"
SYSTEM_NAME = "Asistente de soporte UnaEmpresa"
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    # username, role, full name
    ("admin", Role.ADMIN, "Ana Administradora"),
    ("officer", Role.OFFICER, "Olga Oficial de Cumplimiento"),
    ("contributor", Role.CONTRIBUTOR, "Carlos Contribuidor"),
    ("auditor", Role.AUDITOR, "Aurora Auditora"),
)

SYSTEM = Actor.for_system("load_demo")


def demo_sha256(name: str) -> str:
    """A stable stand-in for the hash of a file the demo does not ship."""
    return hashlib.sha256(f"custodia-demo:{name}".encode()).hexdigest()


@dataclass
class DemoResult:
    created: bool
    system: AISystem | None = None
    message: str = ""


def load_demo(*, if_empty: bool = False) -> DemoResult:
    """Load the demo; with ``if_empty`` only into a registry without AI systems. Never duplicates."""
    if if_empty and AISystem.objects.exists():
        return DemoResult(False, message="The registry already has AI systems; demo data not loaded.")
    existing = AISystem.objects.filter(name=SYSTEM_NAME, owner_team__slug=TEAM_SLUG).first()
    if existing is not None:
        return DemoResult(False, existing, "The demo data is already loaded.")
    with transaction.atomic():
        users = _users_and_team()
        system = _catalogue(users)
    return DemoResult(True, system, "Demo data loaded.")


def _users_and_team() -> dict[str, Any]:
    User = get_user_model()
    team = Team.objects.filter(slug=TEAM_SLUG).first()
    if team is None:
        team = do_create_team(
            actor=SYSTEM,
            slug=TEAM_SLUG,
            name=TEAM_NAME,
            description="Equipo responsable del asistente virtual de soporte a clientes de UnaEmpresa.",
        )
    users: dict[str, Any] = {"team": team}
    for username, role, full_name in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            first, _, last = full_name.partition(" ")
            is_admin = role == Role.ADMIN
            user = User(
                username=username,
                email=f"{username}@unaempresa.example",
                first_name=first,
                last_name=last,
                is_staff=is_admin,
                is_superuser=is_admin,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            record(
                "create",
                actor=SYSTEM,
                object_type="auth.user",
                object_id=str(user.pk),
                object_repr=username,
                team_slug="",
                changes={"username": username, "email": user.email, "is_staff": is_admin},
            )
        do_set_role(actor=SYSTEM, user=user, role=role)
        if not user.groups.filter(pk=team.group_id).exists():
            do_set_membership(actor=SYSTEM, team=team, user=user, member=True)
        users[username] = user
    return users


TICKET_COLUMNS = [
    {"name": "id_ticket", "type": "integer"},
    {"name": "fecha_apertura", "type": "string"},
    {"name": "canal", "type": "string"},
    {"name": "nombre_cliente", "type": "string"},
    {"name": "telefono", "type": "string"},
    {"name": "email", "type": "string"},
    {"name": "dni", "type": "string"},
    {"name": "categoria", "type": "string"},
    {"name": "texto", "type": "string"},
    {"name": "resolucion", "type": "string"},
    {"name": "satisfaccion", "type": "integer"},
]
ARTICLE_COLUMNS = [
    {"name": "id_articulo", "type": "string"},
    {"name": "titulo", "type": "string"},
    {"name": "categoria", "type": "string"},
    {"name": "contenido", "type": "string"},
    {"name": "actualizado", "type": "string"},
]
CHAT_COLUMNS = [
    {"name": "id_conversacion", "type": "string"},
    {"name": "categoria", "type": "string"},
    {"name": "mensajes", "type": "array"},
]
EVAL_COLUMNS = [
    {"name": "id_caso", "type": "string"},
    {"name": "pregunta", "type": "string"},
    {"name": "respuesta_esperada", "type": "string"},
    {"name": "categoria", "type": "string"},
    {"name": "dificultad", "type": "string"},
]

PROMPT_V1 = """Eres el asistente virtual de atención al cliente de UnaEmpresa.
Saluda a {{ nombre_cliente }} y ayúdale con su consulta sobre su tarifa {{ plan_contratado }}.
Responde siempre en español, de forma breve y amable."""

PROMPT_V2 = """Eres el asistente virtual de atención al cliente de UnaEmpresa.
Saluda a {{ nombre_cliente }} y ayúdale con su consulta sobre su tarifa {{ plan_contratado }}.
Responde siempre en español, de forma breve y amable.
Usa solo la información de la base de conocimiento; si no sabes la respuesta, dilo.
Nunca pidas contraseñas, números de tarjeta ni el DNI completo."""

PROMPT_V3 = """Eres el asistente virtual de atención al cliente de UnaEmpresa.
Hoy es {{ fecha_actual }}.
Saluda a {{ nombre_cliente }} y ayúdale con su consulta sobre su tarifa {{ plan_contratado }}.
Responde siempre en español, de forma breve y amable.
Usa solo la información de la base de conocimiento; si no sabes la respuesta, dilo.
Nunca pidas contraseñas, números de tarjeta ni el DNI completo.
Recuerda al cliente que está hablando con un sistema de inteligencia artificial.
Si el cliente lo pide, o tras dos respuestas sin resolver su problema, ofrece pasar con un agente humano
(horario de atención: {{ horario_agentes }})."""


def _catalogue(users: dict[str, Any]) -> AISystem:
    team = users["team"]
    author = Actor(user=users["contributor"])
    officer = Actor(user=users["officer"])

    # Datasets.
    tickets = do_create_asset(
        Dataset,
        actor=author,
        data={
            "name": "Tickets de soporte (brutos)",
            "description": "Exportación mensual de los tickets del CRM de atención al cliente, sin anonimizar.",
            "owner_team": team,
            "owner": users["officer"],
        },
        tags=["datos-personales", "rgpd", "soporte"],
    )
    tickets_v1 = do_create_dataset_version(
        tickets,
        actor=author,
        data={
            "uri": "s3://unaempresa-datos/soporte/tickets/2026-09/tickets.csv",
            "format": "csv",
            "column_schema": TICKET_COLUMNS,
            "license": "Propietaria — uso interno de UnaEmpresa",
            "origin": "collected",
            "contains_personal_data": True,
            "description": "Muestra de 2.000 tickets de septiembre de 2026 (personas ficticias).",
            "motivation": "Entender los motivos de contacto de los clientes y entrenar el generador de tickets "
            "sintéticos sin exponer datos personales al modelo de producción.",
            "collection_process": "Exportación automática del CRM (teléfono, chat web y correo) el primer día de "
            "cada mes; los clientes aceptan la política de privacidad al abrir un ticket.",
            "preprocessing": "Ninguno: datos brutos. Contienen nombre, teléfono, correo electrónico y DNI.",
            "intended_uses": "Solo análisis interno y entrenamiento del generador sintético en un entorno "
            "aislado. No debe usarse directamente para entrenar ni para evaluar modelos.",
        },
        upload=SimpleUploadedFile("tickets-2026-09.csv", demo_files.tickets_csv(), content_type="text/csv"),
    )
    knowledge = do_create_asset(
        Dataset,
        actor=author,
        data={
            "name": "Base de conocimiento anonimizada",
            "description": "Artículos de ayuda y respuestas validadas, sin datos de clientes.",
            "owner_team": team,
        },
        tags=["soporte", "rag"],
    )
    knowledge_v1 = do_create_dataset_version(
        knowledge,
        actor=author,
        data={
            "uri": "s3://unaempresa-datos/soporte/base-conocimiento/v1/articulos.jsonl",
            "format": "jsonl",
            "column_schema": ARTICLE_COLUMNS,
            "license": "CC BY 4.0",
            "origin": "annotated",
            "contains_personal_data": False,
            "motivation": "Dar al asistente respuestas correctas y actualizadas sobre tarifas, facturación, "
            "averías y portabilidad.",
            "collection_process": "Redactada por el equipo de contenidos a partir de los artículos de ayuda "
            "públicos y de las respuestas de agentes mejor valoradas.",
            "preprocessing": "Anonimización con detección de entidades (nombres, teléfonos, correos, DNI) y "
            "revisión manual de una muestra del 5 %; eliminación de duplicados.",
            "intended_uses": "Recuperación de contexto (RAG) y ajuste fino del asistente de soporte.",
        },
        upload=SimpleUploadedFile(
            "articulos.jsonl", demo_files.knowledge_base_jsonl(), content_type="application/x-ndjson"
        ),
    )
    generator = do_create_asset(
        SyntheticGenerator,
        actor=author,
        data={
            "name": "Generador de tickets sintéticos",
            "description": "Genera conversaciones de soporte verosímiles a partir de las categorías reales.",
            "owner_team": team,
        },
        tags=["sintetico"],
    )
    generator_v1 = do_create_generator_version(
        generator,
        actor=author,
        data={
            "method": "llm_prompting",
            "software": "Llama 3.1 70B Instruct (vLLM 0.6.3)",
            "parameters": {
                "temperature": 0.9,
                "conversaciones_por_categoria": 2000,
                "categorias": ["facturación", "averías", "portabilidad", "tarifas", "roaming"],
                "filtro_pii": True,
            },
            "description": "Condicionado con estadísticas por categoría de los tickets brutos; "
            "las salidas pasan un filtro de datos personales.",
        },
        training_datasets=[tickets_v1],
    )
    synthetic = do_create_asset(
        Dataset,
        actor=author,
        data={
            "name": "Tickets sintéticos",
            "description": "Conversaciones de soporte generadas, sin clientes reales.",
            "owner_team": team,
        },
        tags=["sintetico", "soporte"],
    )
    synthetic_v1 = do_create_dataset_version(
        synthetic,
        actor=author,
        data={
            "uri": "s3://unaempresa-datos/soporte/sinteticos/v1/conversaciones.jsonl",
            "sha256": demo_sha256("tickets-sinteticos-v1.jsonl"),
            "format": "jsonl",
            "size_bytes": 36_902_117,
            "row_count": 10_000,
            "column_schema": CHAT_COLUMNS,
            "license": "Propietaria — uso interno de UnaEmpresa",
            "origin": "synthetic",
            "generator_version": generator_v1,
            "contains_personal_data": False,
            "motivation": "Ampliar los ejemplos de conversación para el ajuste fino sin usar datos personales.",
            "collection_process": "Producido por el generador de tickets sintéticos v1.",
            "preprocessing": "Filtro automático de datos personales, deduplicación y revisión manual de "
            "500 conversaciones.",
            "intended_uses": "Ajuste fino del modelo del asistente de soporte.",
        },
    )
    evaluation = do_create_asset(
        Dataset,
        actor=author,
        data={
            "name": "Conjunto de evaluación",
            "description": "Preguntas reales reformuladas con la respuesta esperada, revisadas por agentes.",
            "owner_team": team,
        },
        tags=["evaluacion"],
    )
    evaluation_v1 = do_create_dataset_version(
        evaluation,
        actor=author,
        data={
            "uri": "s3://unaempresa-datos/soporte/evaluacion/v1/casos.jsonl",
            "sha256": demo_sha256("conjunto-evaluacion-v1.jsonl"),
            "format": "jsonl",
            "size_bytes": 1_204_880,
            "row_count": 1_200,
            "column_schema": EVAL_COLUMNS,
            "license": "Propietaria — uso interno de UnaEmpresa",
            "origin": "annotated",
            "contains_personal_data": False,
            "motivation": "Medir la exactitud y el tono de las respuestas antes de cada despliegue.",
            "collection_process": "Preguntas frecuentes de 2026 reformuladas por agentes senior, con la "
            "respuesta correcta redactada y validada por dos personas.",
            "preprocessing": "Sin datos personales desde su redacción; equilibrado por categoría.",
            "intended_uses": "Solo evaluación: no debe usarse para entrenar.",
        },
    )

    # Models: the general-purpose base model and the in-house fine-tune.
    base = do_create_asset(
        Model,
        actor=author,
        data={
            "name": "Llama 3.1 8B Instruct",
            "description": "Modelo de lenguaje de propósito general de Meta, con pesos abiertos.",
            "owner_team": team,
            "provider": "Meta",
        },
        tags=["gpai", "llm"],
    )
    base_v1 = do_create_model_version(
        base,
        actor=author,
        data={
            "label": "3.1-8B-Instruct",
            "base_model": "meta-llama/Llama-3.1-8B-Instruct",
            "license": "llama3.1",
            "parameter_count": 8_030_000_000,
            "modality": "text",
            "context_window": 131_072,
            "artifact_uri": "s3://unaempresa-ml/modelos-base/llama-3.1-8b-instruct/",
            "description": "Pesos originales publicados por Meta (Llama 3.1 Community License).",
        },
    )
    do_transition_model_version(base_v1, actor=author, to_stage=ModelStage.IN_REVIEW)
    do_transition_model_version(
        base_v1,
        actor=officer,
        to_stage=ModelStage.APPROVED,
        reason="Licencia Llama 3.1 revisada por el departamento jurídico: permite el uso comercial "
        "(menos de 700 millones de usuarios activos). Aprobado como modelo base.",
    )
    assistant = do_create_asset(
        Model,
        actor=author,
        data={
            "name": "Asistente UnaEmpresa (Llama 3.1 8B ajustado)",
            "description": "Ajuste fino LoRA de Llama 3.1 8B Instruct para el soporte de UnaEmpresa.",
            "owner_team": team,
            "owner": users["officer"],
            "provider": "UnaEmpresa (interno)",
        },
        tags=["llm"],
    )
    assistant_v1 = do_create_model_version(
        assistant,
        actor=author,
        data={
            "label": "2026-10",
            "base_model": "meta-llama/Llama-3.1-8B-Instruct",
            "fine_tuned_from": base_v1,
            "license": "llama3.1",
            "parameter_count": 8_030_000_000,
            "modality": "text",
            "context_window": 131_072,
            "artifact_uri": "s3://unaempresa-ml/modelos/asistente-soporte/2026-10/",
            "serving_endpoint": "https://llm.unaempresa.internal/v1/asistente-soporte",
            "description": "LoRA (r=16) durante 3 épocas; exactitud del 91 % en el conjunto de evaluación.",
        },
        training_datasets=[knowledge_v1, synthetic_v1],
    )
    do_transition_model_version(assistant_v1, actor=author, to_stage=ModelStage.IN_REVIEW)
    do_transition_model_version(
        assistant_v1,
        actor=officer,
        to_stage=ModelStage.APPROVED,
        reason="Entrenado solo con datos sin información personal (base de conocimiento anonimizada y tickets "
        "sintéticos); 91 % de exactitud y sin fugas de datos personales en el conjunto de evaluación.",
    )
    do_transition_model_version(
        assistant_v1,
        actor=officer,
        to_stage=ModelStage.DEPLOYED,
        reason="Despliegue en producción tras la aprobación.",
    )

    # The system prompt, versioned like code.
    prompt = do_create_asset(
        Prompt,
        actor=author,
        data={
            "name": "Prompt de sistema del asistente",
            "description": "Instrucciones de sistema del asistente de soporte.",
            "owner_team": team,
        },
    )
    settings_v = {"temperature": 0.3, "top_p": 0.9, "max_tokens": 800}
    do_create_prompt_version(
        prompt,
        actor=author,
        data={
            "template": PROMPT_V1,
            "commit_message": "Primera versión del prompt de sistema.",
            "model_version": assistant_v1,
            "model_settings": settings_v,
        },
    )
    do_create_prompt_version(
        prompt,
        actor=author,
        data={
            "template": PROMPT_V2,
            "commit_message": "Limitar las respuestas a la base de conocimiento y no pedir datos sensibles.",
            "model_version": assistant_v1,
            "model_settings": settings_v,
        },
    )
    prompt_v3 = do_create_prompt_version(
        prompt,
        actor=author,
        data={
            "template": PROMPT_V3,
            "commit_message": "Transparencia (art. 50 del Reglamento de IA) y derivación a un agente humano.",
            "model_version": assistant_v1,
            "model_settings": {**settings_v, "temperature": 0.2},
        },
    )
    do_set_prompt_alias(prompt, actor=author, name="production", version=prompt_v3)

    # The AI system and its parts.
    system = do_create_asset(
        AISystem,
        actor=author,
        data={
            "name": SYSTEM_NAME,
            "description": "Chatbot de atención al cliente en la web y la app de UnaEmpresa.",
            "owner_team": team,
            "owner": users["officer"],
            "purpose": "Responder a las consultas de los clientes de UnaEmpresa sobre tarifas, facturación, "
            "averías y portabilidad, y derivar a un agente humano cuando haga falta.",
            "intended_use": "Atención de primer nivel a clientes particulares, en español, las 24 horas. No toma "
            "decisiones contractuales ni sobre impagos: solo informa y deriva.",
            "deployment_context": "Chat de la web y de la app móvil de UnaEmpresa en España; el cliente sabe que "
            "habla con una IA y puede pedir un agente humano en cualquier momento.",
            "risk_class": "limited",
            "general_purpose_ai": "uses",
            "status": "development",
        },
        tags=["soporte", "chatbot"],
    )
    do_add_component(system, actor=author, role=ComponentRole.PRIMARY_MODEL, part=assistant_v1)
    do_add_component(system, actor=author, role=ComponentRole.SYSTEM_PROMPT, part=prompt_v3)
    do_add_component(system, actor=author, role=ComponentRole.KNOWLEDGE_BASE, part=knowledge_v1)
    do_add_component(system, actor=author, role=ComponentRole.FINE_TUNING_DATA, part=synthetic_v1)
    do_add_component(system, actor=author, role=ComponentRole.FINE_TUNING_DATA, part=knowledge_v1)
    do_add_component(system, actor=author, role=ComponentRole.EVALUATION_SET, part=evaluation_v1)
    system = do_update_asset(system, actor=officer, data={"status": "production"})
    return system
