"""What can go wrong talking to an MLflow server; ``status`` is what the server's settings page shows."""

from __future__ import annotations

from registry.choices import MlflowSyncStatus


class MlflowError(Exception):
    """The sync could not do something; ``status`` is what the server's settings page shows."""

    status: str = MlflowSyncStatus.FAILED


class MlflowUnavailable(MlflowError):
    """The server did not answer (refused, timed out, kept failing): worth trying again later."""

    status = MlflowSyncStatus.UNREACHABLE


class MlflowUnauthorized(MlflowError):
    status = MlflowSyncStatus.UNAUTHORIZED


class MlflowMisconfigured(MlflowError):
    status = MlflowSyncStatus.MISCONFIGURED


class MlflowNotFound(MlflowError):
    """The object does not exist upstream (any more)."""
