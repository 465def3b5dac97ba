"""What every benchmark prints: ``figure <name> <value> <unit>`` lines, notes, and percentiles."""

from __future__ import annotations


def figure(name: str, value: float | int, unit: str) -> None:
    shown = (f"{value:.2f}" if abs(value) >= 1 else f"{value:.4f}") if isinstance(value, float) else str(value)
    print(f"figure {name} {shown} {unit}", flush=True)


def note(message: str) -> None:
    print(f"# {message}", flush=True)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of the samples."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]
