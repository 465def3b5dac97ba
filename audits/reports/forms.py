"""Forms of the report pages."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from access.actors import Actor
from access.models import Team
from audits.choices import ReportLanguage


class ReportRequestForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=ReportLanguage.choices, initial=ReportLanguage.ENGLISH)
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("the whole organisation (what you may see)"),
        help_text=_("Governance audits: the team whose AI systems are audited."),
    )

    def __init__(self, *args: Any, actor: Actor, governance: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if governance:
            teams = (
                Team.objects.all()
                if actor.sees_everything
                else Team.objects.filter(pk__in=[t.pk for t in actor.teams()])
            )
            cast(forms.ModelChoiceField, self.fields["team"]).queryset = teams.order_by("name")
        else:
            del self.fields["team"]


class SignReportForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    role = forms.CharField(label=_("Your role"), max_length=200, initial=_("Compliance officer"))
    statement = forms.CharField(
        label=_("Statement"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        initial=_("I have reviewed this report and confirm that it reflects the record at the time of generation."),
    )


class VerifyReportForm(forms.Form):
    file = forms.FileField(label=_("Report PDF"), help_text=_("The PDF to check against the reports on record."))
