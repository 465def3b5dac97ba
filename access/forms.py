"""Forms of the access pages (API tokens)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from access.actors import Actor
from access.choices import TokenScope
from access.models import ApiToken, Team


class ApiTokenForm(forms.ModelForm):
    """A new API token: a name, one of the user's teams and a scope. It never saves itself."""

    class Meta:
        model = ApiToken
        fields = ("name", "team", "scope")
        help_texts = {
            "name": _("What the token is for, e.g. “nightly dbt run”."),
            "scope": _("Read tokens can only read; read-and-write tokens can register versions."),
        }

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = actor.teams()
        team = cast(forms.ModelChoiceField, self.fields["team"])
        team.queryset = Team.objects.filter(pk__in=[t.pk for t in teams])
        team.empty_label = None
        if not actor.may("add"):
            cast(forms.ChoiceField, self.fields["scope"]).choices = [(TokenScope.READ, TokenScope.READ.label)]

    def _post_clean(self) -> None:
        # The service validates and creates the token; the form only parses input.
        pass

    def save(self, commit: bool = True) -> Any:
        raise NotImplementedError("Use access.services.do_create_api_token.")
