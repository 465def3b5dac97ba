"""Sign-in pages and the management of one's own API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView, View

from access.actors import Actor
from access.forms import ApiTokenForm
from access.services import do_create_api_token, do_revoke_api_token, tokens_visible_to


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Signs out on POST only (a link cannot sign anybody out)."""


class ApiTokenListView(LoginRequiredMixin, TemplateView):
    """The user's own tokens and a form to create one; the key of a new token is shown once."""

    template_name = "access/apitoken_list.html"

    def actor(self) -> Actor:
        return Actor(user=self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        actor = self.actor()
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ApiTokenForm(actor=actor))
        context["tokens"] = tokens_visible_to(actor).filter(user=actor.user)
        context["has_teams"] = bool(actor.teams())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = self.actor()
        form = ApiTokenForm(request.POST, actor=actor)
        if form.is_valid():
            data = form.cleaned_data
            try:
                issued = do_create_api_token(actor=actor, team=data["team"], name=data["name"], scope=data["scope"])
            except ValidationError as exc:
                errors = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
                for field, field_errors in errors.items():
                    form.add_error(field if field in form.fields else None, ValidationError(field_errors))
            else:
                response = TemplateResponse(
                    request, "access/apitoken_created.html", {"issued": issued, "token": issued.token}
                )
                # The key is shown once: never from a cache, never again.
                response["Cache-Control"] = "no-store"
                return response
        return self.render_to_response(self.get_context_data(form=form))


class ApiTokenRevokeView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = Actor(user=request.user)
        token = get_object_or_404(tokens_visible_to(actor).filter(user=actor.user), uuid=kwargs["uuid"])
        do_revoke_api_token(actor=actor, token=token)
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
        return redirect("access:token_list")


api_token_list = never_cache(ApiTokenListView.as_view())
