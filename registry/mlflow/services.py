"""Configuring MLflow servers (administrators only) and asking for a sync now; each change is audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from access.actors import Actor
from access.choices import Role
from registry.choices import MlflowCredentialSource
from registry.mlflow.credentials import ENV_NAME_RE, SECRET_FILE_RE
from registry.models import MlflowServer
from trail.services import diff, record, snapshot


def require_admin(actor: Actor) -> None:
    # A token acts for one team; configuring a server decides what every team imports.
    if actor.role != Role.ADMIN or actor.token is not None:
        raise PermissionDenied(_("Only administrators can configure MLflow servers."))


def _config(server: MlflowServer) -> dict[str, Any]:
    return snapshot(server, MlflowServer.CONFIG_FIELDS)


def validate_config(data: dict[str, Any]) -> None:
    uri = str(data.get("tracking_uri") or "").strip()
    if not uri.startswith(("http://", "https://")):
        raise ValidationError({"tracking_uri": _("Give the server's http:// or https:// address.")})
    source, name = data.get("auth_source"), str(data.get("auth_name") or "").strip()
    if source == MlflowCredentialSource.ENVIRONMENT and name and not ENV_NAME_RE.match(name):
        raise ValidationError(
            {"auth_name": _("An environment-variable prefix starts with MLFLOW_ (e.g. MLFLOW_PROD), in capitals.")}
        )
    if source == MlflowCredentialSource.FILE and not SECRET_FILE_RE.match(name):
        raise ValidationError({"auth_name": _("Give the secret file's name (no folder), e.g. mlflow-prod.")})


def do_create_mlflow_server(*, actor: Actor, data: dict[str, Any]) -> MlflowServer:
    require_admin(actor)
    validate_config(data)
    server = MlflowServer(**{key: value for key, value in data.items() if key in MlflowServer.CONFIG_FIELDS})
    server.tracking_uri = server.tracking_uri.strip()
    server.full_clean()
    with transaction.atomic():
        server.save(force_insert=True)
        record("create", actor=actor, obj=server, team_slug=server.owner_team.slug, changes=_config(server))
    return server


def do_update_mlflow_server(server: MlflowServer, *, actor: Actor, data: dict[str, Any]) -> MlflowServer:
    require_admin(actor)
    validate_config({**_config(server), **data})
    with transaction.atomic():
        locked = MlflowServer.objects.select_for_update().get(pk=server.pk)
        before = _config(locked)
        for key, value in data.items():
            if key in MlflowServer.CONFIG_FIELDS:
                setattr(locked, key, value)
        locked.tracking_uri = locked.tracking_uri.strip()
        locked.full_clean()
        locked.save()
        changes = diff(before, _config(locked))
        if changes:
            record("update", actor=actor, obj=locked, team_slug=locked.owner_team.slug, changes=changes)
    return locked


def do_request_mlflow_sync(server: MlflowServer, *, actor: Actor) -> None:
    """Queue a sync of the server once the request's transaction commits."""
    require_admin(actor)
    if not server.enabled:
        raise ValidationError(_("The server is disabled: enable it to sync."))
    from registry.tasks import sync_mlflow_server

    transaction.on_commit(lambda: sync_mlflow_server.delay(server.pk))
