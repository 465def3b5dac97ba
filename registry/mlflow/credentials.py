"""Where an MLflow server's credentials come from: the environment or a secret file, read when used.

The database holds only where to look (an environment-variable prefix or a secret file name),
never a secret. Prefixes must start with ``MLFLOW_`` and files must lie in ``MLFLOW_SECRETS_DIR``,
so that configuring a server cannot send other secrets of the Custodia process to a server.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from registry.choices import MlflowCredentialSource
from registry.mlflow.errors import MlflowMisconfigured
from registry.models import MlflowServer

ENV_NAME_RE = re.compile(r"^MLFLOW_[A-Z0-9_]*$")
SECRET_FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Credentials:
    username: str | None = None
    password: str | None = None
    token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # never print a secret, not even in a traceback
        kind = "token" if self.token else ("basic" if self.username else "none")
        return f"Credentials({kind})"


def _from_environment(prefix: str) -> Credentials:
    prefix = prefix or "MLFLOW_TRACKING"
    if not ENV_NAME_RE.match(prefix):
        raise MlflowMisconfigured(
            _("The credentials prefix “%(prefix)s” must start with MLFLOW_ (e.g. MLFLOW_PROD).") % {"prefix": prefix}
        )
    token = os.environ.get(f"{prefix}_TOKEN", "").strip()
    if token:
        return Credentials(token=token)
    username = os.environ.get(f"{prefix}_USERNAME", "").strip()
    password = os.environ.get(f"{prefix}_PASSWORD", "")
    if username and password:
        return Credentials(username=username, password=password)
    raise MlflowMisconfigured(
        _(
            "Neither %(prefix)s_TOKEN nor %(prefix)s_USERNAME and %(prefix)s_PASSWORD is set in the environment "
            "of the Custodia worker."
        )
        % {"prefix": prefix}
    )


def _from_file(name: str) -> Credentials:
    if not SECRET_FILE_RE.match(name or ""):
        raise MlflowMisconfigured(
            _("“%(name)s” is not a secret file name: give a file name in the secrets folder, without a path.")
            % {"name": name}
        )
    path = Path(settings.MLFLOW_SECRETS_DIR) / name
    try:
        content = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise MlflowMisconfigured(
            _("The secret file %(path)s cannot be read (%(error)s).") % {"path": path, "error": exc.strerror or exc}
        ) from exc
    if not content:
        raise MlflowMisconfigured(_("The secret file %(path)s is empty.") % {"path": path})
    first_line = content.splitlines()[0]
    # HTTP basic auth forbids ":" in a user name, and tokens do not contain one.
    if ":" in first_line:
        username, _sep, password = first_line.partition(":")
        return Credentials(username=username, password=password)
    return Credentials(token=first_line)


def resolve_credentials(server: MlflowServer) -> Credentials:
    if server.auth_source == MlflowCredentialSource.ENVIRONMENT:
        return _from_environment(server.auth_name)
    if server.auth_source == MlflowCredentialSource.FILE:
        return _from_file(server.auth_name)
    return Credentials()
