"""Forms of the audits pages: they parse input for the services; choices list only visible objects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.actors import Actor
from audits.choices import BiasMode, FindingStatus, PiiLanguage
from audits.models import AppliedStandard, Feedback, Incident, OversightMeasure, Risk
from audits.services.governance import DECIDED_RISK_STATUSES, feedback_import_limit, linkable_findings
from audits.services.policies import THRESHOLDS
from registry.forms import ServiceModelForm, UserChoiceField
from registry.models import AISystem, DatasetVersion


def split_names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class SystemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


def policy_system_field() -> SystemChoiceField:
    """The AI system whose policy judges a check (its queryset is set by the form to the visible ones)."""
    return SystemChoiceField(
        label=_("Judge with the policy of"),
        queryset=AISystem.objects.none(),
        required=False,
        empty_label=_("the organisation default"),
    )


class BiasCheckForm(forms.Form):
    mode = forms.ChoiceField(label=_("What is analysed"), choices=BiasMode.choices, initial=BiasMode.CLASSIFICATION)
    input_file = forms.FileField(
        label=_("Predictions table"),
        required=False,
        help_text=_("CSV with a header row, or Parquet: one row per prediction."),
    )
    input_dataset_version = forms.ModelChoiceField(
        label=_("…or a registered dataset version"),
        queryset=DatasetVersion.objects.none(),
        required=False,
        help_text=_("Only versions with a file uploaded to Custodia can be read."),
    )
    y_true = forms.CharField(label=_("True label column"), required=False, max_length=200)
    y_pred = forms.CharField(label=_("Predicted label column"), required=False, max_length=200)
    score = forms.CharField(label=_("Score column (optional)"), required=False, max_length=200)
    sensitive = forms.CharField(
        label=_("Sensitive feature columns"),
        max_length=1000,
        help_text=_(
            "Separate columns with commas, e.g. sex, age_group. For counterfactual prompts: the variant column."
        ),
    )
    positive_label = forms.CharField(
        label=_("Positive label (optional)"),
        required=False,
        max_length=200,
        help_text=_("The label value that counts as the favourable outcome, if not 1/true/yes."),
    )
    score_threshold = forms.FloatField(
        label=_("Score threshold (optional)"),
        required=False,
        help_text=_("Scores at or above it count as a positive outcome when there is no label column."),
    )
    policy_system = policy_system_field()

    def __init__(self, *args: Any, actor: Actor, systems: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["input_dataset_version"]).queryset = (
            DatasetVersion.objects.visible_to(actor)
            .exclude(file="")
            .select_related("dataset")
            .order_by("dataset__name", "-number")
        )
        cast(forms.ModelChoiceField, self.fields["policy_system"]).queryset = systems
        self.columns: list[str] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload, version = data.get("input_file"), data.get("input_dataset_version")
        if bool(upload) == bool(version):
            raise ValidationError(_("Upload a predictions table or choose a dataset version (one of the two)."))
        if upload is not None and upload.size > settings.CHECK_UPLOAD_MAX_BYTES:
            self.add_error(
                "input_file",
                _("The file is %(size)s; the limit is %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(settings.CHECK_UPLOAD_MAX_BYTES)},
            )
            return data
        sensitive = split_names(data.get("sensitive", ""))
        if not sensitive:
            self.add_error("sensitive", _("Name at least one sensitive feature column."))
        counterfactual = data.get("mode") == BiasMode.COUNTERFACTUAL
        if not counterfactual and not data.get("y_true"):
            self.add_error("y_true", _("Name the column with the true labels."))
        if not data.get("y_pred") and not data.get("score"):
            self.add_error("y_pred", _("Name the predicted label column (or a score column with a threshold)."))
        if data.get("score") and not data.get("y_pred") and data.get("score_threshold") is None:
            self.add_error(
                "score_threshold", _("Without a label column, give the threshold that makes a score positive.")
            )
        if self.errors:
            return data
        # Imported here: pandas and pyarrow cost every web process 0.7 s and 70 MB at start-up.
        from audits.checks.tables import TableError, table_columns

        try:
            if upload is not None:
                self.columns = table_columns(upload.file, upload.name or "")
            elif version is not None:
                with version.file.open("rb") as handle:
                    self.columns = table_columns(handle, version.file.name)
        except TableError as exc:
            self.add_error("input_file" if upload else "input_dataset_version", str(exc))
            return data
        except FileNotFoundError:
            self.add_error("input_dataset_version", _("The file of this dataset version is missing from storage."))
            return data
        wanted = {"y_true": data.get("y_true"), "y_pred": data.get("y_pred"), "score": data.get("score")}
        available = ", ".join(self.columns) or "—"
        for field, column in wanted.items():
            if column and column not in self.columns:
                self.add_error(
                    field,
                    _("The table has no column “%(column)s”. Its columns are: %(available)s.")
                    % {"column": column, "available": available},
                )
        missing = [name for name in sensitive if name not in self.columns]
        if missing:
            self.add_error(
                "sensitive",
                _("The table has no column %(missing)s. Its columns are: %(available)s.")
                % {"missing": ", ".join(f"“{m}”" for m in missing), "available": available},
            )
        data["sensitive_list"] = sensitive
        return data

    def parameters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "mode": data["mode"],
            "y_true": data.get("y_true") or "",
            "y_pred": data.get("y_pred") or "",
            "score": data.get("score") or "",
            "sensitive": data["sensitive_list"],
            "positive_label": data.get("positive_label") or "",
            "score_threshold": data.get("score_threshold"),
        }


class FindingStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=FindingStatus.choices)
    reason = forms.CharField(label=_("Justification"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class ApprovalExceptionForm(forms.Form):
    justification = forms.CharField(
        label=_("Justification"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text=_("Why the model version may be approved despite the failed checks or open findings."),
    )
    expires_on = forms.DateField(
        label=_("Valid until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("At most one year from today."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_on"].initial = timezone.localdate() + timedelta(days=90)


class PolicyForm(forms.Form):
    rerun_every_days = forms.IntegerField(
        label=_("Re-run checks every (days)"),
        required=False,
        min_value=1,
        max_value=366,
        help_text=_("Leave empty for no periodic re-runs (AI system policies only)."),
    )
    note = forms.CharField(label=_("Reason for the change"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args: Any, kind: str, current: dict[str, Any], for_system: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.threshold_names = list(THRESHOLDS[kind])
        for name, spec in THRESHOLDS[kind].items():
            field: forms.Field
            if spec.kind == "choice":
                field = forms.ChoiceField(choices=spec.choices)
            elif spec.kind == "list":
                field = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
                current = {**current, name: "\n".join(current.get(name) or [])}
            elif spec.integer:
                field = forms.IntegerField(min_value=int(spec.minimum), max_value=int(spec.maximum))
            else:
                field = forms.FloatField(min_value=spec.minimum, max_value=spec.maximum)
            field.label, field.help_text, field.initial = spec.label, spec.help_text, current.get(name, spec.default)
            self.fields[f"t_{name}"] = field
        self.order_fields([f"t_{n}" for n in self.threshold_names] + ["rerun_every_days", "note"])
        if not for_system:
            del self.fields["rerun_every_days"]

    def thresholds(self) -> dict[str, Any]:
        return {name: self.cleaned_data[f"t_{name}"] for name in self.threshold_names}


class EvaluationImportForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("e.g. Support answers — November run"))
    file = forms.FileField(
        label=_("Evaluation file"),
        help_text=_("CSV with a header row, or JSON Lines: question, ground_truth, answer, score (0–1), explanation."),
    )
    evaluation_set = forms.ModelChoiceField(
        label=_("Evaluation set"), queryset=DatasetVersion.objects.none(), required=False
    )
    judge = forms.CharField(
        label=_("Judge"), max_length=200, required=False, help_text=_("e.g. the judge model or rubric")
    )
    policy_system = policy_system_field()

    def __init__(self, *args: Any, actor: Actor, systems: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["evaluation_set"]).queryset = (
            DatasetVersion.objects.visible_to(actor).select_related("dataset").order_by("dataset__name", "-number")
        )
        cast(forms.ModelChoiceField, self.fields["policy_system"]).queryset = systems

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.CHECK_UPLOAD_MAX_BYTES:
            raise ValidationError(_("The file is too large."))
        return upload


class PiiCheckForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=PiiLanguage.choices, initial=PiiLanguage.AUTO)
    input_file = forms.FileField(
        label=_("File to scan"),
        required=False,
        help_text=_("Model outputs or application transcripts: CSV, Parquet, JSON Lines or plain text."),
    )
    sample_rows = forms.IntegerField(
        label=_("Rows to sample per table (optional)"),
        required=False,
        min_value=100,
        help_text=_("Leave empty to scan every row."),
    )
    policy_system = policy_system_field()

    def __init__(self, *args: Any, target: Any, systems: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["policy_system"]).queryset = systems
        self.needs_file = target._meta.model_name in ("modelversion", "aisystem", "generatorversion")
        if self.needs_file:
            self.fields["input_file"].required = True
        elif target._meta.model_name == "promptversion":
            del self.fields["input_file"]
            del self.fields["sample_rows"]
        else:
            self.fields["input_file"].help_text = _("Leave empty to scan the dataset version's own file.")

    def clean_input_file(self) -> Any:
        upload = self.cleaned_data.get("input_file")
        if upload is not None and upload.size > settings.CHECK_UPLOAD_MAX_BYTES:
            raise ValidationError(_("The file is too large."))
        return upload

    def parameters(self) -> dict[str, Any]:
        return {"language": self.cleaned_data["language"], "sample_rows": self.cleaned_data.get("sample_rows")}


def readable_versions(actor: Actor) -> Any:
    """Dataset versions the actor may see that have a file in Custodia (the only ones a check can read)."""
    return (
        DatasetVersion.objects.visible_to(actor)
        .exclude(file="")
        .select_related("dataset")
        .order_by("dataset__name", "-number")
    )


class MemorisationCheckForm(forms.Form):
    """A memorisation check: a model version's outputs against its training text, or a synthetic table."""

    training = forms.ModelMultipleChoiceField(
        label=_("Training text"),
        queryset=DatasetVersion.objects.none(),
        required=False,
        help_text=_(
            "Dataset versions the model was trained or fine-tuned on (plain text, JSON Lines or a CSV column). "
            "Leave empty to use the model version's training data."
        ),
    )
    text_field = forms.CharField(
        label=_("Text field"),
        max_length=200,
        initial="text",
        help_text=_("The JSON Lines field or CSV column holding the text; plain text is read paragraph by paragraph."),
    )
    input_file = forms.FileField(
        label=_("Model outputs"),
        required=False,
        help_text=_("Generations to check: one per line in plain text, JSON Lines, or a CSV column."),
    )
    input_dataset_version = forms.ModelChoiceField(
        label=_("…or a registered dataset version of outputs"), queryset=DatasetVersion.objects.none(), required=False
    )
    output_field = forms.CharField(
        label=_("Output field"),
        max_length=200,
        initial="text",
        help_text=_("The JSON Lines field or CSV column holding each output."),
    )
    extraction = forms.BooleanField(
        label=_("Run the extraction test on the serving endpoint"),
        required=False,
        initial=True,
        help_text=_(
            "Prompts the model with the first 50 tokens of sampled training documents and counts exact "
            "50-token continuations (greedy decoding)."
        ),
    )
    holdout = forms.ModelChoiceField(label=_("Holdout data"), queryset=DatasetVersion.objects.none(), required=False)
    window_tokens = forms.IntegerField(
        label=_("Verbatim window (tokens)"),
        required=False,
        min_value=8,
        max_value=1000,
        help_text=_("Leave empty for the policy's (50 by default)."),
    )
    columns = forms.CharField(
        label=_("Columns compared (optional)"),
        required=False,
        max_length=2000,
        help_text=_("Separate columns with commas; leave empty to compare every column the tables share."),
    )
    policy_system = policy_system_field()

    def __init__(self, *args: Any, actor: Actor, target: Any, systems: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        versions = readable_versions(actor)
        for name in ("training", "input_dataset_version", "holdout"):
            cast(forms.ModelChoiceField, self.fields[name]).queryset = versions
        cast(forms.ModelChoiceField, self.fields["policy_system"]).queryset = systems
        self.target = target
        self.synthetic = target._meta.model_name == "generatorversion"
        if self.synthetic:
            for name in ("text_field", "input_file", "output_field", "extraction", "window_tokens"):
                del self.fields[name]
            training = forms.ModelChoiceField(
                label=_("Real training data"),
                queryset=versions,
                required=False,
                help_text=_("The table the generator learned from; leave empty to use the generator version's own."),
            )
            self.fields["training"] = training
            self.fields["holdout"].required = True
            self.fields["holdout"].help_text = _("Real rows of the same population that the generator never saw.")
            self.fields["input_dataset_version"].label = _("Generated data")
            self.fields["input_dataset_version"].required = True
            self.fields["input_dataset_version"].help_text = _("The synthetic table the generator produced.")
            self.order_fields(["input_dataset_version", "training", "holdout", "columns", "policy_system"])
        else:
            del self.fields["columns"]
            self.fields["holdout"].help_text = _(
                "Documents of the same kind the model never saw: the extraction test's comparison group."
            )
            if not getattr(target, "serving_endpoint", ""):
                del self.fields["extraction"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.synthetic:
            if not data.get("training") and self.target.training_datasets.count() != 1:
                self.add_error(
                    "training",
                    _("The generator version does not name exactly one training dataset version: choose it here."),
                )
            return data
        if not data.get("training") and not self.target.training_datasets.exists():
            self.add_error("training", _("The model version lists no training data: choose the training text here."))
        upload, version = data.get("input_file"), data.get("input_dataset_version")
        if upload and version:
            self.add_error("input_file", _("Upload outputs or choose a dataset version, not both."))
        has_endpoint = bool(data.get("extraction")) and "extraction" in self.fields
        if not upload and not version and not has_endpoint:
            raise ValidationError(
                _("Upload the model's outputs, choose a dataset version of them, or run the extraction test.")
            )
        if upload is not None and upload.size > settings.CHECK_UPLOAD_MAX_BYTES:
            self.add_error("input_file", _("The file is too large."))
        return data

    def parameters(self) -> dict[str, Any]:
        data = self.cleaned_data
        if self.synthetic:
            return {
                "mode": "synthetic",
                "training": str(data["training"].uuid) if data.get("training") else "",
                "holdout": str(data["holdout"].uuid),
                "columns": split_names(data.get("columns") or ""),
            }
        return {
            "mode": "text",
            "training": [str(v.uuid) for v in data.get("training") or []],
            "text_field": data.get("text_field") or "text",
            "output_field": data.get("output_field") or "text",
            "extraction": bool(data.get("extraction")),
            "holdout": str(data["holdout"].uuid) if data.get("holdout") else "",
            "window_tokens": data.get("window_tokens"),
        }


class CanaryForm(forms.Form):
    value = forms.CharField(
        label=_("Planted string"),
        max_length=500,
        help_text=_("A made-up identifier planted in the fine-tuning data, e.g. a fake NIF or IBAN."),
    )
    label = forms.CharField(label=_("Label"), max_length=200, required=False)


# ---------------------------------------------------------------------------------------------
# Governance records of an AI system (risks, incidents, feedback, standards, oversight)


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class GovernanceRecordForm(ServiceModelForm):
    """A governance record of ``system``; the service validates it whole and saves it."""

    def __init__(self, *args: Any, actor: Actor, system: AISystem, **kwargs: Any) -> None:
        self.system = system
        super().__init__(*args, actor=actor, **kwargs)
        for field in self.fields.values():
            # Django's default of 10 rows; widgets given their own height in Meta keep it.
            if isinstance(field.widget, forms.Textarea) and str(field.widget.attrs.get("rows")) == "10":
                field.widget.attrs["rows"] = 3


class RiskForm(GovernanceRecordForm):
    class Meta:
        model = Risk
        fields = (
            "title",
            "description",
            "affected_people",
            "likelihood",
            "severity",
            "mitigation",
            "residual_risk",
            "owner",
            "review_date",
            "status",
        )
        widgets = {"review_date": DATE_WIDGET, "affected_people": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, actor: Actor, system: AISystem, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, system=system, **kwargs)
        self.fields["owner"] = UserChoiceField(
            queryset=get_user_model()
            .objects.filter(is_active=True, groups=system.owner_team.group_id)
            .order_by("username"),
            required=False,
            label=_("Risk owner"),
            help_text=_("The member of the owning team who answers for this risk."),
        )
        self.fields["severity"].help_text = _("How bad the harm would be.")
        self.fields["residual_risk"].help_text = _("The risk that remains once the mitigation is in place.")
        if not actor.may("approve"):
            # Accepting or closing a risk is a compliance officer's decision (the service enforces it).
            current = self.instance.status if self.instance.pk else None
            status = cast(forms.ChoiceField, self.fields["status"])
            offered = cast(list[tuple[str, Any]], status.choices)
            status.choices = [
                (value, label) for value, label in offered if value not in DECIDED_RISK_STATUSES or value == current
            ]
            status.help_text = _("Compliance officers accept or close risks.")


class FindingsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title} — {obj.get_severity_display()}, {obj.run.get_kind_display()}, {obj.created_at:%Y-%m-%d}"


class IncidentForm(GovernanceRecordForm):
    class Meta:
        model = Incident
        fields = ("title", "description", "occurred_at", "severity", "status", "resolution", "resolved_at")
        widgets = {"occurred_at": DATETIME_WIDGET, "resolved_at": DATETIME_WIDGET}

    def __init__(self, *args: Any, actor: Actor, system: AISystem, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.pk and "initial" not in kwargs:
            kwargs["initial"] = {"findings": list(instance.findings.all())}
        super().__init__(*args, actor=actor, system=system, **kwargs)
        self.fields["findings"] = FindingsChoiceField(
            queryset=linkable_findings(actor, system).select_related("run").order_by("-created_at"),
            required=False,
            label=_("Linked findings"),
            help_text=_("Findings of checks on this AI system or the versions it uses that relate to the incident."),
        )
        self.fields["resolution"].help_text = _("Required once the incident is resolved or closed.")
        self.fields["resolved_at"].help_text = _("Leave empty to use the time you mark it resolved.")
        if not self.is_bound and not self.instance.pk:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))

    def linked_findings(self) -> list[Any]:
        return list(self.cleaned_data.get("findings") or [])


class FeedbackForm(GovernanceRecordForm):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        coerce=int,
        choices=[(5, _("5 — good")), (4, "4"), (3, "3"), (2, "2"), (1, _("1 — bad"))],
    )

    class Meta:
        model = Feedback
        fields = ("interaction", "rating", "comment", "occurred_at", "source")
        widgets = {"occurred_at": DATETIME_WIDGET}

    def __init__(self, *args: Any, actor: Actor, system: AISystem, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, system=system, **kwargs)
        if not self.is_bound and not self.instance.pk:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))


class AppliedStandardForm(GovernanceRecordForm):
    class Meta:
        model = AppliedStandard
        fields = ("name", "kind", "reference", "scope", "adopted_on")
        widgets = {"adopted_on": DATE_WIDGET}


class OversightMeasureForm(GovernanceRecordForm):
    class Meta:
        model = OversightMeasure
        fields = ("kind", "description", "responsible", "frequency")


class FeedbackImportForm(forms.Form):
    file = forms.FileField(
        label=_("Feedback file"),
        help_text=_(
            "CSV with a header row, or JSON Lines: interaction, rating (1–5, or up/down), comment and occurred_at "
            "(ISO 8601; without a time zone it is read as UTC). An interaction already on record is updated."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = feedback_import_limit()
        if upload.size > limit:
            raise ValidationError(
                _("The file is %(size)s; the limit for feedback files is %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        return upload
