"""Prompt pages, prompt-version pages, aliases and the diff between two versions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from registry.filtersets import PromptFilterSet
from registry.forms import PromptAliasForm, PromptDiffForm, PromptForm, PromptVersionForm
from registry.models import Prompt, PromptAlias, PromptVersion
from registry.services import do_create_prompt_version, do_delete_prompt_alias, do_set_prompt_alias
from registry.services.prompts import prompt_diff
from registry.views.assets import AssetCreateView, AssetDeleteView, AssetDetailView, AssetListView, AssetUpdateView
from registry.views.base import ActorView, add_service_errors, allowed, detail_url, per_parent, visible_or_none
from registry.views.versions import VersionCreateView, VersionDeleteView, VersionDetailView, VersionEditView


def aliases_with_versions() -> Prefetch:
    return Prefetch("aliases", queryset=PromptAlias.objects.select_related("version").order_by("name"))


class PromptListView(AssetListView):
    model = Prompt
    filterset_class = PromptFilterSet

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .annotate(version_count=per_parent(PromptVersion, "prompt", Count("pk")))
            .prefetch_related(aliases_with_versions())
        )


class PromptDetailView(AssetDetailView):
    model = Prompt

    def get_versions(self) -> Any:
        return (
            self.object.versions.select_related("created_by", "parent").prefetch_related("aliases").order_by("-number")
        )

    def detail_context(self) -> dict[str, Any]:
        aliases = PromptAlias.objects.visible_to(self.actor).filter(prompt=self.object).select_related("version")
        can_change = allowed(self.actor, self.object, "change")
        return {
            "aliases": aliases,
            "alias_form": PromptAliasForm(actor=self.actor, prompt=self.object) if can_change else None,
        }


class PromptCreateView(AssetCreateView):
    model = Prompt
    form_class = PromptForm


class PromptUpdateView(AssetUpdateView):
    model = Prompt
    form_class = PromptForm


class PromptDeleteView(AssetDeleteView):
    model = Prompt


class PromptVersionCreateView(VersionCreateView):
    model = PromptVersion
    form_class = PromptVersionForm

    def form_kwargs(self) -> dict[str, Any]:
        return {"actor": self.actor, "prompt": self.asset}

    def get_initial(self) -> dict[str, Any]:
        # Start from the latest wording: a new version is usually an edit of it.
        latest = self.asset.versions.order_by("-number").first()
        if latest is None:
            return {}
        return {
            "template": latest.template,
            "model_settings": latest.model_settings,
            "model_version": latest.model_version_id,
        }

    def create(self, form: Any) -> PromptVersion:
        return do_create_prompt_version(self.asset, actor=self.actor, data=form.service_data())


class PromptVersionDetailView(VersionDetailView):
    model = PromptVersion
    content_fields = ("commit_message",)

    def version_select(self) -> tuple[str, ...]:
        return (*super().version_select(), "parent")

    def detail_context(self) -> dict[str, Any]:
        version = self.object
        model_version = visible_or_none(self.actor, version.model_version)
        return {
            "template_lines": version.template.splitlines(),
            "aliases": version.aliases.order_by("name"),
            "model_version": model_version,
            "model_version_hidden": version.model_version_id is not None and model_version is None,
            "children": version.children.order_by("number"),
        }


class PromptVersionEditView(VersionEditView):
    model = PromptVersion


class PromptVersionDeleteView(VersionDeleteView):
    model = PromptVersion


class PromptAliasSetView(ActorView):
    """Sets a new alias or moves an existing one to another version."""

    template_name = "registry/promptalias_form.html"
    prompt: Prompt

    def prepare(self) -> None:
        self.prompt = self.visible(Prompt, "change", select=("owner_team",), uuid=self.kwargs["uuid"])

    def render_form(self, form: PromptAliasForm) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(object=self.prompt, form=form, cancel_url=detail_url(self.prompt))
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        initial = {"name": request.GET.get("name", ""), "version": request.GET.get("version")}
        return self.render_form(PromptAliasForm(actor=self.actor, prompt=self.prompt, initial=initial))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = PromptAliasForm(request.POST, actor=self.actor, prompt=self.prompt)
        if form.is_valid():
            name, version = form.cleaned_data["name"], form.cleaned_data["version"]
            try:
                do_set_prompt_alias(self.prompt, actor=self.actor, name=name, version=version)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Alias “%(name)s” now points at version %(number)d.") % {"name": name, "number": version.number},
                )
                return redirect(detail_url(self.prompt))
        return self.render_form(form)


class PromptAliasDeleteView(ActorView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        prompt = self.visible(Prompt, "change", uuid=kwargs["uuid"])
        alias = get_object_or_404(
            PromptAlias.objects.visible_to(self.actor).select_related("prompt", "version"),
            prompt=prompt,
            name=kwargs["name"],
        )
        do_delete_prompt_alias(alias, actor=self.actor)
        messages.success(request, _("Alias “%(name)s” removed.") % {"name": alias.name})
        return redirect(detail_url(prompt))


class PromptDiffView(ActorView):
    """A line diff between any two versions of one prompt."""

    template_name = "registry/prompt_diff.html"
    prompt: Prompt

    def prepare(self) -> None:
        self.prompt = self.visible(Prompt, select=("owner_team",), uuid=self.kwargs["uuid"])

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        versions = list(PromptVersion.objects.visible_to(self.actor).filter(prompt=self.prompt).order_by("-number"))
        by_uuid = {str(v.uuid): v for v in versions}
        defaults = {}
        if versions:
            newest = versions[0]
            older = newest.parent if newest.parent_id in {v.pk for v in versions} else None
            defaults = {"new": str(newest.uuid), "old": str((older or versions[min(1, len(versions) - 1)]).uuid)}
        params = {key: request.GET.get(key) or defaults.get(key) for key in ("old", "new")}
        for value in params.values():
            if value and value not in by_uuid:
                raise Http404(_("No such version of this prompt."))
        form = PromptDiffForm(params if versions else None, versions=versions)
        old = by_uuid.get(params["old"] or "")
        new = by_uuid.get(params["new"] or "")
        rows = prompt_diff(old, new) if old is not None and new is not None else []
        context = self.get_context_data(
            object=self.prompt,
            form=form,
            old=old,
            new=new,
            rows=rows,
            inserted=sum(1 for r in rows if r["op"] == "insert"),
            deleted=sum(1 for r in rows if r["op"] == "delete"),
            detail_url=detail_url(self.prompt),
            diff_url=reverse("registry:prompt_diff", kwargs={"uuid": self.prompt.uuid}),
        )
        return self.render_to_response(context)
