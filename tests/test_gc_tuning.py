"""The web processes' garbage-collector tuning (config/gc_tuning.py), and its switch."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from config.gc_tuning import GEN0_THRESHOLD, tune_gc


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_tuning_freezes_start_up_objects_and_raises_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GC_TUNING", raising=False)
    gc.unfreeze()
    tune_gc()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == GEN0_THRESHOLD


def test_gc_tuning_false_leaves_the_collector_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GC_TUNING", "false")
    gc.unfreeze()
    before = gc.get_threshold()
    tune_gc()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
