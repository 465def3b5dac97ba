"""The one way Custodia talks to an MLflow tracking server: its REST API through mlflow-skinny.

``connect(server)`` resolves the server's credentials (from the environment or a secret file, at
the moment of the call; never stored) and returns a ``Connection`` whose methods fetch plain
snapshots (``RegisteredModelInfo``, ``PromptInfo``…), so that everything a sync writes is read
before its transaction opens. MLflow's exceptions become ours: ``MlflowUnavailable`` (transient:
retry later), ``MlflowUnauthorized``, ``MlflowMisconfigured`` and ``MlflowError``.

The stores are built with this server's credentials rather than through ``MlflowClient``, which
reads them from process-wide ``MLFLOW_TRACKING_*`` variables: one worker syncs several servers.
Importing mlflow takes seconds, so only the sync path imports this module.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from mlflow.exceptions import MlflowException
from mlflow.prompt.registry_utils import add_prompt_filter_string
from mlflow.store.model_registry.rest_store import RestStore as RegistryStore
from mlflow.store.tracking.rest_store import RestStore as TrackingStore
from mlflow.utils.rest_utils import MlflowHostCreds

from registry.mlflow.credentials import Credentials, resolve_credentials
from registry.mlflow.errors import (
    MlflowError,
    MlflowMisconfigured,
    MlflowNotFound,
    MlflowUnauthorized,
    MlflowUnavailable,
)
from registry.models import MlflowServer

__all__ = [
    "Connection",
    "MlflowError",
    "MlflowMisconfigured",
    "MlflowNotFound",
    "MlflowUnauthorized",
    "MlflowUnavailable",
    "connect",
]

PAGE_SIZE = 200
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Keys MLflow keeps for itself on prompts and prompt versions (template, type, model config…).
INTERNAL_TAG_PREFIXES = ("mlflow.prompt.", "_mlflow")
CONTEXT_TAG = "mlflow.data.context"


def _configure_http() -> None:
    # MLflow reads its HTTP limits from these variables on every request (no per-call setting
    # reaches its REST stores); Custodia's settings decide them for the whole process. Its
    # defaults (7 retries, doubling from 2 s, 120 s timeout) would keep a sync on a dead server
    # for minutes; Celery retries the whole sync instead, a bounded number of times.
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(settings.MLFLOW_SYNC_HTTP_RETRIES)
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "1"
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(settings.MLFLOW_SYNC_HTTP_TIMEOUT)


def _root_cause(exc: BaseException) -> BaseException | None:
    seen = exc.__cause__ or exc.__context__
    while seen is not None and (seen.__cause__ or seen.__context__) is not None:
        seen = seen.__cause__ or seen.__context__
    return seen


def translate(exc: MlflowException, uri: str) -> MlflowError:
    """Our exception for one of MLflow's, with a message a person can act on."""
    import requests

    code = getattr(exc, "error_code", "")
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, requests.exceptions.RequestException):
        root = _root_cause(exc)
        if isinstance(cause, requests.exceptions.Timeout):
            reason = _("no answer within %(s)d s") % {"s": settings.MLFLOW_SYNC_HTTP_TIMEOUT}
        elif isinstance(cause, requests.exceptions.RetryError):
            reason = _("it kept answering with server errors")
        elif "refused" in str(root or cause).lower():
            reason = _("connection refused")
        else:
            reason = type(root or cause).__name__
        return MlflowUnavailable(
            _("Cannot reach the MLflow server at %(uri)s: %(reason)s.") % {"uri": uri, "reason": reason}
        )
    if code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return MlflowUnauthorized(
            _(
                "The MLflow server at %(uri)s refused the credentials (%(code)s). Check the server's credential "
                "settings and the user's permissions in MLflow."
            )
            % {"uri": uri, "code": code}
        )
    if code == "ENDPOINT_NOT_FOUND":
        return MlflowMisconfigured(
            _("No MLflow REST API answers at %(uri)s (HTTP 404): check the tracking URI.") % {"uri": uri}
        )
    if code == "RESOURCE_DOES_NOT_EXIST":
        return MlflowNotFound(str(exc.message if hasattr(exc, "message") else exc)[:500])
    if code in ("INTERNAL_ERROR", "TEMPORARILY_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"):
        return MlflowUnavailable(
            _("The MLflow server at %(uri)s failed: %(error)s") % {"uri": uri, "error": str(exc)[:300]}
        )
    return MlflowError(_("MLflow answered with an error: %(error)s") % {"error": str(exc)[:500]})


def _when(millis: int | None) -> datetime | None:
    if not millis:
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def _finite(value: Any) -> Any:
    # Metrics may be NaN or infinite; the audit trail stores JSON, which has neither.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _tags(tags: Any) -> dict[str, str]:
    items = tags.items() if isinstance(tags, dict) else ((tag.key, tag.value) for tag in tags or [])
    return {str(k): str(v) for k, v in items if not str(k).startswith(INTERNAL_TAG_PREFIXES)}


@dataclass
class DatasetInputInfo:
    name: str
    digest: str
    context: str
    source_type: str
    source: str
    sha256: str  # from an input tag ``sha256``, when the producer logged one

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "digest": self.digest,
            "context": self.context,
            "source_type": self.source_type,
            "source": self.source,
            "sha256": self.sha256,
        }


@dataclass
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    status: str
    user_id: str
    started_at: datetime | None
    ended_at: datetime | None
    metrics: dict[str, Any]
    params: dict[str, str]
    tags: dict[str, str]
    datasets: list[DatasetInputInfo]


@dataclass
class ModelVersionInfo:
    name: str
    version: int
    source: str
    run_id: str
    description: str
    status: str
    tags: dict[str, str]
    created_at: datetime | None
    run: RunInfo | None
    run_missing: bool


@dataclass
class RegisteredModelInfo:
    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: list[ModelVersionInfo]


@dataclass
class PromptVersionInfo:
    name: str
    version: int
    template: str
    variables: list[str]
    commit_message: str
    model_config: dict[str, Any]
    tags: dict[str, str]
    created_at: datetime | None


@dataclass
class PromptInfo:
    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: list[PromptVersionInfo]


def _name_filter(name: str) -> str:
    # MLflow's filter parser takes a double-quoted string where the name holds a single quote.
    if "'" not in name:
        return f"name = '{name}'"
    if '"' not in name:
        return f'name = "{name}"'
    raise MlflowError(_("A name with both kinds of quotes cannot be searched in MLflow; not imported."))


class Connection:
    """One server, with its credentials: each method is one or a few REST calls, errors translated."""

    def __init__(self, uri: str, credentials: Credentials) -> None:
        _configure_http()
        self.uri = uri.rstrip("/")

        def host_creds() -> MlflowHostCreds:
            return MlflowHostCreds(
                self.uri, username=credentials.username, password=credentials.password, token=credentials.token
            )

        self.tracking = TrackingStore(host_creds)
        self.registry = RegistryStore(host_creds)

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except MlflowException as exc:
            raise translate(exc, self.uri) from exc

    def check(self) -> None:
        """Fails fast, with the reason, when the server is unreachable or refuses the credentials."""
        self._call(self.registry.search_registered_models, None, 1, None, None)

    def _pages(self, method: Any, *args: Any) -> Iterator[Any]:
        token = None
        while True:
            page = self._call(method, *args, token)
            yield from page
            token = page.token
            if not token:
                return

    # Registered models ------------------------------------------------------------------------

    def registered_models(self) -> Iterator[Any]:
        """Every registered model (prompts excluded), as MLflow entities, page by page."""
        only_models = add_prompt_filter_string(None, False)
        yield from self._pages(
            lambda token: self.registry.search_registered_models(only_models, PAGE_SIZE, ["name ASC"], token)
        )

    def model_snapshot(self, entity: Any) -> RegisteredModelInfo:
        """A registered model with all its versions and their source runs, read in full."""
        versions = []
        runs: dict[str, tuple[RunInfo | None, bool]] = {}
        for mv in self._pages(
            lambda token: self.registry.search_model_versions(_name_filter(entity.name), PAGE_SIZE, None, token)
        ):
            run_id = mv.run_id or ""
            if run_id and run_id not in runs:
                runs[run_id] = self.run(run_id)
            run, missing = runs.get(run_id, (None, False))
            versions.append(
                ModelVersionInfo(
                    name=mv.name,
                    version=int(mv.version),
                    source=mv.source or "",
                    run_id=run_id,
                    description=mv.description or "",
                    status=str(mv.status or ""),
                    tags=_tags(mv.tags),
                    created_at=_when(mv.creation_timestamp),
                    run=run,
                    run_missing=missing,
                )
            )
        versions.sort(key=lambda v: v.version)
        return RegisteredModelInfo(
            name=entity.name,
            description=entity.description or "",
            tags=_tags(entity.tags),
            aliases={alias: int(version) for alias, version in (entity.aliases or {}).items()},
            versions=versions,
        )

    def run(self, run_id: str) -> tuple[RunInfo | None, bool]:
        """The run, or (None, True) when it no longer exists upstream."""
        try:
            run = self._call(self.tracking.get_run, run_id)
        except MlflowNotFound:
            return None, True
        datasets = []
        for item in run.inputs.dataset_inputs if run.inputs else []:
            input_tags = {tag.key: tag.value for tag in item.tags or []}
            sha = input_tags.get("sha256", "").strip().lower()
            datasets.append(
                DatasetInputInfo(
                    name=item.dataset.name or "",
                    digest=item.dataset.digest or "",
                    context=input_tags.get(CONTEXT_TAG, ""),
                    source_type=item.dataset.source_type or "",
                    source=item.dataset.source or "",
                    sha256=sha if SHA256_RE.match(sha) else "",
                )
            )
        info = run.info
        return (
            RunInfo(
                run_id=info.run_id,
                experiment_id=str(info.experiment_id or ""),
                run_name=info.run_name or "",
                status=str(info.status or ""),
                user_id=info.user_id or "",
                started_at=_when(info.start_time),
                ended_at=_when(info.end_time),
                metrics={key: _finite(value) for key, value in run.data.metrics.items()},
                params=dict(run.data.params),
                tags={k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
                datasets=datasets,
            ),
            False,
        )

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        from mlflow.entities.model_registry import ModelVersionTag

        self._call(self.registry.set_model_version_tag, name, str(version), ModelVersionTag(key, value))

    # Prompts ------------------------------------------------------------------------------------

    def prompts(self) -> Iterator[Any]:
        yield from self._pages(lambda token: self.registry.search_prompts(None, PAGE_SIZE, ["name ASC"], token))

    def prompt_snapshot(self, entity: Any) -> PromptInfo:
        # Search results carry no aliases; the registered model behind the prompt does.
        registered = self._call(self.registry.get_registered_model, entity.name)
        versions = []
        for pv in self._pages(lambda token: self.registry.search_prompt_versions(entity.name, PAGE_SIZE, token)):
            template = pv.template
            if not isinstance(template, str):  # a chat prompt: a list of messages
                template = json.dumps(template, indent=2, ensure_ascii=False)
            versions.append(
                PromptVersionInfo(
                    name=pv.name,
                    version=int(pv.version),
                    template=template,
                    variables=sorted(pv.variables or []),
                    commit_message=pv.commit_message or "",
                    model_config=dict(pv.model_config or {}),
                    tags=_tags(pv.tags),
                    created_at=_when(pv.creation_timestamp),
                )
            )
        versions.sort(key=lambda v: v.version)
        return PromptInfo(
            name=entity.name,
            description=entity.description or "",
            tags=_tags(entity.tags),
            aliases={alias: int(version) for alias, version in (registered.aliases or {}).items()},
            versions=versions,
        )


def connect(server: MlflowServer) -> Connection:
    if not server.tracking_uri.startswith(("http://", "https://")):
        raise MlflowMisconfigured(_("The tracking URI must start with http:// or https://."))
    return Connection(server.tracking_uri, resolve_credentials(server))
