"""Memorisation check support: the reusable n-gram indexes of training text, and canaries on model versions."""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from access.actors import Actor
from audits.models import Canary, IndexState, MemorisationIndex
from registry.models import DatasetVersion, ModelVersion
from registry.services.access import lock_for
from trail.services import record

# How long an index build may stay silent before another worker takes it over.
INDEX_STALE = timedelta(seconds=120)
INDEX_WAIT_SECONDS = 3600
_HEARTBEAT_EVERY = 5.0


class IndexUnavailable(Exception):
    """The index could not be built; the message says why (shown as the check's failure reason)."""


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _index_row(version: DatasetVersion, field: str, window_tokens: int, tokenizer: str) -> MemorisationIndex:
    lookup = {"dataset_version": version, "text_field": field, "window_tokens": window_tokens, "tokenizer": tokenizer}
    try:
        with transaction.atomic():
            row, _created = MemorisationIndex.objects.get_or_create(**lookup, defaults={"state": IndexState.FAILED})
    except IntegrityError:  # another worker created it at the same moment
        row = MemorisationIndex.objects.get(**lookup)
    return row


def _claim(row: MemorisationIndex, me: str) -> bool:
    """Take the build over when nobody is building it (or its builder went silent); True when taken."""
    stale = timezone.now() - INDEX_STALE
    return bool(
        MemorisationIndex.objects.filter(pk=row.pk)
        .filter(~Q(state=IndexState.BUILDING) | Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
        .update(state=IndexState.BUILDING, worker=me, heartbeat_at=timezone.now(), error="")
    )


def ensure_index(
    version: DatasetVersion,
    *,
    field: str,
    window_tokens: int,
    documents: Callable[[Callable[[float], None]], Any],
    progress: Callable[[float, str], None],
) -> tuple[Any, MemorisationIndex, bool]:
    """The opened index of a dataset version's text, building it first when this worker has none.

    ``documents(report)`` gives the corpus documents and reports the fraction read. Returns the
    opened index, its row and whether it was built now. Two checks needing the same index build it
    once: the second waits for the first (and takes over if the first worker dies).
    """
    from audits.checks import memorisation

    tokenizer = memorisation.DEFAULT_TOKENIZER.name
    row = _index_row(version, field, window_tokens, tokenizer)
    me = _worker_name()
    deadline = time.monotonic() + INDEX_WAIT_SECONDS
    while True:
        row.refresh_from_db()
        if row.state == IndexState.READY and (row.directory / "meta.json").exists():
            try:
                return memorisation.MemorisationIndex.open(row.directory), row, False
            except memorisation.MemorisationInputError:
                pass  # damaged on disk: build it again below
        beat = row.heartbeat_at
        if (
            row.state == IndexState.BUILDING
            and row.worker != me
            and beat is not None
            and beat >= timezone.now() - INDEX_STALE
        ):
            if time.monotonic() > deadline:
                raise IndexUnavailable(_("The index of %(version)s took too long to build.") % {"version": version})
            progress(0.0, "Waiting for the index another check is building")
            time.sleep(2.0)
            continue
        if _claim(row, me):
            break
    index = _build(row, version, documents, progress)
    row.refresh_from_db()
    return index, row, True


def _build(row: MemorisationIndex, version: DatasetVersion, documents: Any, progress: Any) -> Any:
    from audits.checks import memorisation

    directory = row.directory
    shutil.rmtree(directory, ignore_errors=True)
    directory.parent.mkdir(parents=True, exist_ok=True)
    last_beat = [time.monotonic()]

    def report(fraction: float) -> None:
        progress(0.5 * fraction, "Indexing the training text")
        if time.monotonic() - last_beat[0] >= _HEARTBEAT_EVERY:
            MemorisationIndex.objects.filter(pk=row.pk).update(heartbeat_at=timezone.now())
            last_beat[0] = time.monotonic()

    try:
        info = memorisation.build_index(
            documents(report), directory, n=row.window_tokens, tokenizer=memorisation.DEFAULT_TOKENIZER
        )
    except Exception as exc:
        shutil.rmtree(directory, ignore_errors=True)
        MemorisationIndex.objects.filter(pk=row.pk).update(state=IndexState.FAILED, error=str(exc)[:2000])
        raise
    MemorisationIndex.objects.filter(pk=row.pk).update(
        state=IndexState.READY, info=info.to_dict(), built_at=timezone.now(), heartbeat_at=timezone.now()
    )
    return memorisation.MemorisationIndex.open(directory)


# Canaries ---------------------------------------------------------------------------------------


def do_add_canary(model_version: ModelVersion, *, actor: Actor, value: str, label: str = "") -> Canary:
    value = value.strip()
    if len(value) < 6:
        raise ValidationError({"value": _("A canary must be at least 6 characters long, or it will match by chance.")})
    with transaction.atomic():
        locked = lock_for(actor, model_version, "change")
        if Canary.objects.filter(model_version=locked, value=value).exists():
            raise ValidationError({"value": _("This canary is already registered on this model version.")})
        canary = Canary.objects.create(
            model_version=locked, value=value, label=label.strip()[:200], created_by=actor.user, actor_label=actor.label
        )
        # The trail keeps the label and a masked value: canaries look like personal data on purpose.
        record("create", actor=actor, obj=canary, changes={"label": canary.label, "value": masked_canary(value)})
    return canary


def do_remove_canary(canary: Canary, *, actor: Actor) -> None:
    with transaction.atomic():
        lock_for(actor, canary.model_version, "change")
        record("delete", actor=actor, obj=canary, changes={"label": canary.label, "value": masked_canary(canary.value)})
        canary.delete()


def masked_canary(value: str) -> str:
    from audits.checks.pii_results import mask

    return mask(value, "CANARY")
