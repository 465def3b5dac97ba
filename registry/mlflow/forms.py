"""The configuration form of an MLflow server (administrators only)."""

from __future__ import annotations

from typing import Any

from django import forms

from registry.models import MlflowServer


class MlflowServerForm(forms.ModelForm):
    class Meta:
        model = MlflowServer
        fields = list(MlflowServer.CONFIG_FIELDS)
        widgets = {
            "tracking_uri": forms.URLInput(attrs={"placeholder": "https://mlflow.example.org"}),
            "auth_name": forms.TextInput(attrs={"class": "mono", "spellcheck": "false"}),
        }

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in MlflowServer.CONFIG_FIELDS}
