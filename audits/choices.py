from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckKind(models.TextChoices):
    BIAS = "bias", _("Bias (fairness)")
    EVALUATION = "evaluation", _("Evaluation results")
    PII = "pii", _("Personal data (PII)")
    MEMORISATION = "memorisation", _("Memorisation")


class RunState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINISHED_STATES = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED})


class Verdict(models.TextChoices):
    PASS = "pass", _("Pass")
    WARN = "warn", _("Warning")
    FAIL = "fail", _("Fail")
    INCONCLUSIVE = "inconclusive", _("Inconclusive")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")
    INFO = "info", _("Information")


# Severities that hold a model version back from approval while their finding is open.
BLOCKING_SEVERITIES = frozenset({Severity.CRITICAL, Severity.HIGH})
SEVERITY_ORDER = {s.value: i for i, s in enumerate(Severity)}


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED_RISK = "accepted_risk", _("Accepted risk")
    RESOLVED = "resolved", _("Resolved")
    FALSE_POSITIVE = "false_positive", _("False positive")


class TargetKind(models.TextChoices):
    DATASET_VERSION = "datasetversion", _("Dataset version")
    MODEL_VERSION = "modelversion", _("Model version")
    PROMPT_VERSION = "promptversion", _("Prompt version")
    GENERATOR_VERSION = "generatorversion", _("Generator version")
    SYSTEM = "aisystem", _("AI system")


class BiasMode(models.TextChoices):
    CLASSIFICATION = "classification", _("Predictions with true labels")
    COUNTERFACTUAL = "counterfactual", _("LLM outputs on counterfactual prompt variants")


class PiiLanguage(models.TextChoices):
    AUTO = "auto", _("Detect per record")
    SPANISH = "es", _("Spanish")
    ENGLISH = "en", _("English")


class MemorisationMode(models.TextChoices):
    TEXT = "text", _("Language model outputs against its training text")
    SYNTHETIC = "synthetic", _("Synthetic table against the real training table")


class Likelihood(models.TextChoices):
    RARE = "rare", _("Rare")
    UNLIKELY = "unlikely", _("Unlikely")
    POSSIBLE = "possible", _("Possible")
    LIKELY = "likely", _("Likely")
    ALMOST_CERTAIN = "almost_certain", _("Almost certain")


class Impact(models.TextChoices):
    NEGLIGIBLE = "negligible", _("Negligible")
    MINOR = "minor", _("Minor")
    MODERATE = "moderate", _("Moderate")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class RiskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MITIGATING = "mitigating", _("Being mitigated")
    ACCEPTED = "accepted", _("Accepted")
    CLOSED = "closed", _("Closed")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    INVESTIGATING = "investigating", _("Investigating")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class StandardKind(models.TextChoices):
    STANDARD = "standard", _("Standard")
    HARMONISED = "harmonised", _("Harmonised standard")
    POLICY = "policy", _("Internal policy")
    CODE = "code", _("Code of practice")
    REGULATION = "regulation", _("Regulation or guideline")


class OversightKind(models.TextChoices):
    IN_THE_LOOP = "in_the_loop", _("Human in the loop")
    ON_THE_LOOP = "on_the_loop", _("Human on the loop")
    IN_COMMAND = "in_command", _("Human in command")
    REVIEW = "review", _("Periodic review")
    OVERRIDE = "override", _("Override or stop")


class ReportKind(models.TextChoices):
    GOVERNANCE = "governance", _("Governance audit")
    MODEL = "model", _("Model audit")
    APPLICATION = "application", _("Application audit")


class ReportLanguage(models.TextChoices):
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")
