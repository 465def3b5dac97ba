"""Forms of the registry pages: they parse input for the service functions and never save.

Every choice of a protected object is limited to what the acting user may see, so a form can
neither list nor accept an object outside the user's scope.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from access.actors import Actor
from registry.choices import ROLE_KINDS, ComponentKind, ComponentRole, ModelStage
from registry.models import (
    AISystem,
    Dataset,
    DatasetVersion,
    GeneratorVersion,
    Model,
    ModelVersion,
    Prompt,
    PromptVersion,
    SyntheticGenerator,
)

# ---------------------------------------------------------------------------------------------
# Fields


class TagsField(forms.CharField):
    """Tags typed as a comma-separated list; cleans to a list of names."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Tags"))
        kwargs.setdefault("help_text", _("Separate tags with commas, e.g. gdpr, customer-data."))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().clean(value) or ""
        return [part.strip() for part in text.split(",") if part.strip()]


class JSONTextField(forms.CharField):
    """JSON typed in a textarea, parsed with an error that says where it went wrong."""

    widget = forms.Textarea(attrs={"rows": 6, "class": "mono", "spellcheck": "false"})

    def __init__(self, *, expect: type = dict, **kwargs: Any) -> None:
        self.expect = expect
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict | list):
            return json.dumps(value, indent=2, ensure_ascii=False)
        return value

    def clean(self, value: Any) -> Any:
        text = (super().clean(value) or "").strip()
        if not text:
            return self.expect()
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _("This is not valid JSON: %(msg)s (line %(line)d, column %(col)d)."),
                code="invalid_json",
                params={"msg": exc.msg, "line": exc.lineno, "col": exc.colno},
            ) from exc
        if not isinstance(parsed, self.expect):
            if self.expect is dict:
                message = _('Enter a JSON object, e.g. {"temperature": 0.2}.')
            else:
                message = _('Enter a JSON list, e.g. [{"name": "age", "type": "integer"}].')
            raise ValidationError(message, code="invalid_json_type")
        return parsed


class VersionChoiceField(forms.ModelChoiceField):
    """A version select labelled "<asset> v<n>" (the queryset fetches the asset in the same query)."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class VersionMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.get_username()})" if full_name else obj.get_username()


def model_choices(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """A form's model-choice field, typed (to narrow its queryset to what the actor may see)."""
    return cast(forms.ModelChoiceField, form.fields[name])


def plain_choices(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


# ---------------------------------------------------------------------------------------------
# Base classes


class ServiceModelForm(forms.ModelForm):
    """A ModelForm that only parses input for a service function.

    The service validates the whole instance (constraints included) inside its transaction and
    raises ``ValidationError``, which the view puts back on the form; so the form does not run
    model validation a second time, and it refuses to save.
    """

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        self.actor = actor
        super().__init__(*args, **kwargs)

    def _post_clean(self) -> None:
        pass

    def save(self, commit: bool = True) -> Any:
        raise NotImplementedError("Registry forms never save: pass cleaned_data to the service function.")

    def service_data(self) -> dict[str, Any]:
        """The cleaned values of the model fields, as the service function takes them."""
        names = set(self._meta.fields or ())
        return {k: v for k, v in self.cleaned_data.items() if k in names}


def visible_versions(model: type[Any], actor: Actor) -> QuerySet[Any]:
    """Versions the actor may see, with their asset joined (their labels name it)."""
    return (
        model.objects.visible_to(actor)
        .select_related(model.ASSET_FIELD)
        .order_by(f"{model.ASSET_FIELD}__name", "-number")
    )


# ---------------------------------------------------------------------------------------------
# Assets


ASSET_FIELDS = ("name", "description", "owner_team", "owner")


class AssetForm(ServiceModelForm):
    """What every asset form has: name, description, owner team and owner, and tags."""

    tags = TagsField()

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.pk and "initial" not in kwargs:
            kwargs["initial"] = {"tags": [t.name for t in instance.tags.all()]}
        super().__init__(*args, actor=actor, **kwargs)
        from access.models import Team

        team_ids = [t.pk for t in actor.teams()]
        model_choices(self, "owner_team").queryset = Team.objects.filter(pk__in=team_ids)
        owner_field = UserChoiceField(
            queryset=get_user_model()
            .objects.filter(is_active=True, groups__team__in=team_ids)
            .distinct()
            .order_by("username"),
            required=False,
            label=self.fields["owner"].label,
            help_text=_("The person accountable for this asset."),
        )
        self.fields["owner"] = owner_field
        if len(team_ids) == 1 and not self.initial.get("owner_team") and not self.is_bound:
            self.initial["owner_team"] = team_ids[0]
        self.fields["description"].widget.attrs["rows"] = 3

    def asset_tags(self) -> list[str]:
        tags: list[str] = self.cleaned_data.get("tags") or []
        return tags


class AISystemForm(AssetForm):
    class Meta:
        model = AISystem
        fields = (
            "name",
            "description",
            "purpose",
            "intended_use",
            "deployment_context",
            "risk_class",
            "general_purpose_ai",
            "status",
            "owner_team",
            "owner",
        )
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "intended_use": forms.Textarea(attrs={"rows": 3}),
            "deployment_context": forms.Textarea(attrs={"rows": 3}),
        }


class DatasetForm(AssetForm):
    class Meta:
        model = Dataset
        fields = ASSET_FIELDS


class SyntheticGeneratorForm(AssetForm):
    class Meta:
        model = SyntheticGenerator
        fields = ASSET_FIELDS


# Not "ModelForm": that is Django's base class; this is the form of the registry's ML model.
class MLModelForm(AssetForm):
    class Meta:
        model = Model
        fields = ("name", "description", "provider", "owner_team", "owner")


class PromptForm(AssetForm):
    class Meta:
        model = Prompt
        fields = ASSET_FIELDS


# ---------------------------------------------------------------------------------------------
# Versions


class DatasetVersionForm(ServiceModelForm):
    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("Optional. Uploaded files are hashed and profiled (rows, columns) on arrival."),
    )
    column_schema = JSONTextField(
        expect=list,
        label=_("Column schema"),
        help_text=_('A JSON list such as [{"name": "age", "type": "integer"}]; filled in from an uploaded file.'),
    )

    class Meta:
        model = DatasetVersion
        fields = (
            "uri",
            "sha256",
            "format",
            "size_bytes",
            "row_count",
            "column_schema",
            "license",
            "origin",
            "contains_personal_data",
            "generator_version",
            "description",
            "motivation",
            "collection_process",
            "preprocessing",
            "intended_uses",
        )
        field_classes = {"generator_version": VersionChoiceField}
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in ("description", "motivation", "collection_process", "preprocessing", "intended_uses")
        }

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["uri"].required = False
        self.fields["uri"].help_text = _("Where the data lives, e.g. s3://bucket/path.csv. Optional with an upload.")
        self.fields["sha256"].help_text = _("Computed from an uploaded file; give it for data stored elsewhere.")
        model_choices(self, "generator_version").queryset = visible_versions(GeneratorVersion, actor)
        self.fields["generator_version"].help_text = _("Only for synthetic data: the generator version that made it.")

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        # Empty optional values are left out so the service (or the upload profile) decides them.
        for name in ("uri", "sha256", "size_bytes", "row_count", "column_schema"):
            if data.get(name) in ("", None, []):
                data.pop(name, None)
        return data


class GeneratorVersionForm(ServiceModelForm):
    parameters = JSONTextField(
        expect=dict, label=_("Parameters"), help_text=_('A JSON object, e.g. {"epochs": 300, "rows": 10000}.')
    )
    training_datasets = VersionMultipleChoiceField(
        queryset=DatasetVersion.objects.none(),
        required=False,
        label=_("Trained or conditioned on"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = GeneratorVersion
        fields = ("method", "software", "parameters", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        model_choices(self, "training_datasets").queryset = visible_versions(DatasetVersion, actor)


class ModelVersionForm(ServiceModelForm):
    training_datasets = VersionMultipleChoiceField(
        queryset=DatasetVersion.objects.none(),
        required=False,
        label=_("Training data"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = ModelVersion
        fields = (
            "label",
            "base_model",
            "fine_tuned_from",
            "license",
            "parameter_count",
            "modality",
            "context_window",
            "artifact_uri",
            "serving_endpoint",
            "description",
        )
        field_classes = {"fine_tuned_from": VersionChoiceField}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        model_choices(self, "training_datasets").queryset = visible_versions(DatasetVersion, actor)
        model_choices(self, "fine_tuned_from").queryset = visible_versions(ModelVersion, actor)


class PromptVersionForm(ServiceModelForm):
    model_settings = JSONTextField(
        expect=dict,
        label=_("Model settings"),
        help_text=_('A JSON object, e.g. {"temperature": 0.2, "max_tokens": 512}.'),
    )

    class Meta:
        model = PromptVersion
        fields = ("template", "commit_message", "model_version", "model_settings", "parent", "description")
        field_classes = {"model_version": VersionChoiceField, "parent": VersionChoiceField}
        widgets = {
            "template": forms.Textarea(attrs={"rows": 12, "class": "mono", "spellcheck": "false"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, actor: Actor, prompt: Prompt, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["template"].help_text = _("Variables are written {{ like_this }}.")
        model_choices(self, "model_version").queryset = visible_versions(ModelVersion, actor)
        model_choices(self, "parent").queryset = (
            PromptVersion.objects.visible_to(actor).filter(prompt=prompt).select_related("prompt").order_by("-number")
        )
        self.fields["parent"].help_text = _("Leave empty to build on the latest version.")

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if data.get("parent") is None:
            # Without a parent the service builds on the latest version.
            data.pop("parent", None)
        return data


class VersionMetadataForm(forms.Form):
    """What may change on an immutable version: its description."""

    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, version: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {name: getattr(version, name) for name in self.base_fields})
        super().__init__(*args, **kwargs)


class ModelVersionMetadataForm(VersionMetadataForm):
    serving_endpoint = forms.CharField(label=_("Serving endpoint"), required=False, max_length=1000)


# ---------------------------------------------------------------------------------------------
# AI system components, lifecycle, prompt aliases and diffs


PART_MODELS: dict[str, type[Any]] = {
    ComponentKind.DATASET: DatasetVersion,
    ComponentKind.MODEL: ModelVersion,
    ComponentKind.PROMPT: PromptVersion,
}


class SystemComponentForm(forms.Form):
    """Adds a dataset, model or prompt version (among those the user can see) to an AI system."""

    role = forms.ChoiceField(label=_("Role"), choices=ComponentRole.choices)
    part = forms.ChoiceField(label=_("Version"))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        groups: list[tuple[str, Any]] = [("", "---------")]
        for kind, model in PART_MODELS.items():
            options = [(f"{kind}:{v.uuid}", str(v)) for v in visible_versions(model, actor)]
            groups.append((str(ComponentKind(kind).label), options))
        plain_choices(self, "part").choices = groups

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        value = cleaned.get("part")
        if value:
            kind, _sep, uuid = str(value).partition(":")
            model = PART_MODELS.get(kind)
            part = model.objects.visible_to(self.actor).filter(uuid=uuid).first() if model else None
            if part is None:
                self.add_error("part", _("Choose a version from the list."))
            else:
                cleaned["part"] = part
                role = cleaned.get("role")
                if role and ROLE_KINDS.get(role) != kind:
                    self.add_error(
                        "role",
                        _("The role “%(role)s” is for a %(kind)s.")
                        % {
                            "role": ComponentRole(role).label,
                            "kind": ComponentKind(ROLE_KINDS[role]).label.lower(),
                        },
                    )
        return cleaned


class StageChangeForm(forms.Form):
    """Moves a model version along its lifecycle; approving or rejecting needs a reason."""

    to_stage = forms.ChoiceField(label=_("New stage"), choices=ModelStage.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to approve or reject; recorded in the stage history and the audit trail."),
    )


class PromptAliasForm(forms.Form):
    """Sets or moves a named pointer (e.g. production) to one version of a prompt."""

    name = forms.SlugField(
        label=_("Alias"), max_length=60, help_text=_("Letters, digits, hyphens or underscores, e.g. production.")
    )
    version = VersionChoiceField(label=_("Version"), queryset=PromptVersion.objects.none())

    def __init__(self, *args: Any, actor: Actor, prompt: Prompt, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choices(self, "version").queryset = (
            PromptVersion.objects.visible_to(actor).filter(prompt=prompt).select_related("prompt").order_by("-number")
        )


class PromptDiffForm(forms.Form):
    """Two versions of one prompt to compare."""

    old = forms.ChoiceField(label=_("From version"))
    new = forms.ChoiceField(label=_("To version"))

    def __init__(self, *args: Any, versions: Iterable[PromptVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(v.uuid), f"v{v.number} — {v.commit_message}"[:120]) for v in versions]
        plain_choices(self, "old").choices = choices
        plain_choices(self, "new").choices = choices
