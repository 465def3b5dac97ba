"""The bias check: group fairness metrics of a predictions table, judged against the policy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from audits.checks import bias
from audits.choices import BiasMode, CheckKind
from audits.runners import CheckInputError, Outcome, Progress, TransientCheckError, register


@contextmanager
def open_input(run: Any) -> Iterator[tuple[IO[bytes], str]]:
    """The uploaded predictions file, or the file of the registered dataset version."""
    if run.input_file:
        field, name = run.input_file, run.input_name or run.input_file.name
    elif run.input_dataset_version_id is not None:
        version = run.input_dataset_version
        if not version.file:
            raise CheckInputError(
                f"Dataset version “{version}” has no uploaded file in Custodia (only its location "
                f"{version.uri} is registered), so the check cannot read it. Upload the predictions instead."
            )
        field, name = version.file, version.file.name
    else:
        raise CheckInputError("The check has no predictions table: upload one or choose a dataset version.")
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise CheckInputError(f"The input file {name} is no longer in storage.") from None
    except OSError as exc:
        raise TransientCheckError(f"The input file could not be opened: {exc}") from exc
    try:
        yield handle, name
    finally:
        handle.close()


def columns_from(parameters: dict[str, Any]) -> bias.BiasColumns:
    counterfactual = parameters.get("mode") == BiasMode.COUNTERFACTUAL
    return bias.BiasColumns(
        y_true=None if counterfactual else parameters.get("y_true") or None,
        y_pred=parameters.get("y_pred") or None,
        score=parameters.get("score") or None,
        sensitive=tuple(parameters.get("sensitive") or ()),
        positive_label=parameters.get("positive_label") or None,
        score_threshold=parameters.get("score_threshold"),
    )


class BiasRunner:
    def run(self, run: Any, thresholds: dict[str, Any], progress: Progress) -> Outcome:
        settings = dict(thresholds)
        n_boot = int(settings.pop("n_boot", 1000))
        columns = columns_from(run.parameters)
        progress(0.0, "Reading the predictions")
        with open_input(run) as (handle, name):
            try:
                result = bias.run_bias_check(
                    handle,
                    columns,
                    bias.BiasThresholds(**settings),
                    fmt=bias.format_from_name(name),
                    name=name.rsplit("/", 1)[-1],
                    progress=lambda fraction: progress(0.99 * fraction, "Counting predictions per group"),
                    n_boot=n_boot,
                    seed=int(run.parameters.get("seed", 0)),
                    chunk_rows=int(run.parameters.get("chunk_rows") or bias.DEFAULT_CHUNK_ROWS),
                )
            except bias.BiasInputError as exc:
                raise CheckInputError(str(exc)) from None
        progress(1.0, "Computed")
        findings = [
            {
                "severity": item["severity"],
                "title": item["title"],
                "detail": item.get("detail", ""),
                # Group rates and counts only: a bias finding never holds a person's data.
                "evidence": {
                    **(item.get("evidence") or {}),
                    **{key: item[key] for key in ("code", "grouping", "metric", "group") if item.get(key)},
                },
            }
            for item in result.findings
        ]
        return Outcome(result.to_dict(), result.verdict, list(result.reasons), findings)


register(CheckKind.BIAS, BiasRunner())
