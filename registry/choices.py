from django.db import models
from django.utils.translation import gettext_lazy as _


class RiskClass(models.TextChoices):
    PROHIBITED = "prohibited", _("Prohibited")
    HIGH = "high", _("High risk")
    LIMITED = "limited", _("Limited risk")
    MINIMAL = "minimal", _("Minimal risk")


class GeneralPurposeAI(models.TextChoices):
    NONE = "none", _("No general-purpose model")
    USES = "uses", _("Uses a general-purpose model")
    IS = "is", _("Is a general-purpose model")


class SystemStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DEVELOPMENT = "development", _("In development")
    PRODUCTION = "production", _("In production")
    SUSPENDED = "suspended", _("Suspended")
    RETIRED = "retired", _("Retired")


class ComponentKind(models.TextChoices):
    DATASET = "dataset", _("Dataset version")
    MODEL = "model", _("Model version")
    PROMPT = "prompt", _("Prompt version")


class ComponentRole(models.TextChoices):
    KNOWLEDGE_BASE = "knowledge_base", _("Knowledge base")
    EVALUATION_SET = "evaluation_set", _("Evaluation set")
    FINE_TUNING_DATA = "fine_tuning_data", _("Fine-tuning data")
    TRAINING_DATA = "training_data", _("Training data")
    REFERENCE_DATA = "reference_data", _("Reference data")
    PRIMARY_MODEL = "primary_model", _("Primary model")
    EMBEDDING_MODEL = "embedding_model", _("Embedding model")
    GUARDRAIL_MODEL = "guardrail_model", _("Guardrail model")
    SYSTEM_PROMPT = "system_prompt", _("System prompt")
    PROMPT_TEMPLATE = "prompt_template", _("Prompt template")


ROLE_KINDS: dict[str, str] = {
    ComponentRole.KNOWLEDGE_BASE: ComponentKind.DATASET,
    ComponentRole.EVALUATION_SET: ComponentKind.DATASET,
    ComponentRole.FINE_TUNING_DATA: ComponentKind.DATASET,
    ComponentRole.TRAINING_DATA: ComponentKind.DATASET,
    ComponentRole.REFERENCE_DATA: ComponentKind.DATASET,
    ComponentRole.PRIMARY_MODEL: ComponentKind.MODEL,
    ComponentRole.EMBEDDING_MODEL: ComponentKind.MODEL,
    ComponentRole.GUARDRAIL_MODEL: ComponentKind.MODEL,
    ComponentRole.SYSTEM_PROMPT: ComponentKind.PROMPT,
    ComponentRole.PROMPT_TEMPLATE: ComponentKind.PROMPT,
}


class DataFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON Lines"
    JSON = "json", "JSON"
    PARQUET = "parquet", "Parquet"
    TEXT = "text", _("Plain text")
    OTHER = "other", _("Other")


class DataOrigin(models.TextChoices):
    COLLECTED = "collected", _("Collected")
    ANNOTATED = "annotated", _("Annotated")
    SYNTHETIC = "synthetic", _("Synthetic")
    THIRD_PARTY = "third_party", _("Third-party")


class GeneratorMethod(models.TextChoices):
    LLM_PROMPTING = "llm_prompting", _("LLM prompting")
    CTGAN = "ctgan", "CTGAN"
    TVAE = "tvae", "TVAE"
    GAUSSIAN_COPULA = "gaussian_copula", _("Gaussian copula")
    RULES = "rules", _("Rules")
    OTHER = "other", _("Other")


class Modality(models.TextChoices):
    TEXT = "text", _("Text")
    IMAGE = "image", _("Image")
    AUDIO = "audio", _("Audio")
    TABULAR = "tabular", _("Tabular")
    MULTIMODAL = "multimodal", _("Multimodal")


class ModelStage(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    DEPLOYED = "deployed", _("Deployed")
    DEPRECATED = "deprecated", _("Deprecated")
    RETIRED = "retired", _("Retired")


# Allowed lifecycle moves. Moving back from review to draft is a rejection.
STAGE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ModelStage.DRAFT: (ModelStage.IN_REVIEW,),
    ModelStage.IN_REVIEW: (ModelStage.APPROVED, ModelStage.DRAFT),
    ModelStage.APPROVED: (ModelStage.DEPLOYED, ModelStage.DEPRECATED),
    ModelStage.DEPLOYED: (ModelStage.DEPRECATED,),
    ModelStage.DEPRECATED: (ModelStage.RETIRED, ModelStage.DEPLOYED),
    ModelStage.RETIRED: (),
}


class MlflowCredentialSource(models.TextChoices):
    NONE = "none", _("None (the server needs no sign-in)")
    ENVIRONMENT = "env", _("Environment variables")
    FILE = "file", _("Secret file")


class MlflowSyncStatus(models.TextChoices):
    NEVER = "never", _("Never synced")
    RUNNING = "running", _("Syncing")
    OK = "ok", _("Synced")
    PARTIAL = "partial", _("Synced with errors")
    UNREACHABLE = "unreachable", _("Server unreachable")
    UNAUTHORIZED = "unauthorized", _("Credentials refused")
    MISCONFIGURED = "misconfigured", _("Misconfigured")
    FAILED = "failed", _("Failed")


# Statuses that mean the last sync did not run to its end.
MLFLOW_FAILED_STATUSES = frozenset(
    {
        MlflowSyncStatus.UNREACHABLE,
        MlflowSyncStatus.UNAUTHORIZED,
        MlflowSyncStatus.MISCONFIGURED,
        MlflowSyncStatus.FAILED,
    }
)
