"""Tables with exactly the confusion counts a test asks for, one row per prediction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def frame_from_cells(
    cells: Mapping[str | tuple[str, ...], tuple[int, int, int, int]], features: Sequence[str] = ("group",)
) -> pd.DataFrame:
    """``{group: (tn, fp, fn, tp)}`` → rows with columns ``y_true``, ``y_pred`` and the features."""
    parts = []
    for group, (tn, fp, fn, tp) in cells.items():
        values = group if isinstance(group, tuple) else (group,)
        y_true = np.repeat([0, 0, 1, 1], [tn, fp, fn, tp])
        y_pred = np.repeat([0, 1, 0, 1], [tn, fp, fn, tp])
        part = pd.DataFrame({"y_true": y_true, "y_pred": y_pred})
        for name, value in zip(features, values, strict=True):
            part[name] = value
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
