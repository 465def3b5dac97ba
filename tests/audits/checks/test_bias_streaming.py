"""Files stream in chunks with progress, and give exactly the in-memory result (CSV, Parquet, file objects)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audits.checks import bias
from audits.checks.tables import TableError, table_columns

COLUMNS = bias.BiasColumns(y_true="outcome", y_pred="decision", score="score", sensitive=("sex", "age_band"))
POLICY = bias.BiasThresholds()
ROWS = 5_500


def same_result(streamed: dict, in_memory: dict) -> None:
    """Equal in everything; mean scores to 1e-12, as CSV text parses to floats within an ulp and chunks sum in
    another order."""
    for first, second in ((streamed, in_memory), (in_memory, streamed)):
        assert first.keys() == second.keys()
    means = []
    for result in (streamed, in_memory):
        found = [result["metrics"]["overall"].pop("mean_score")]
        for grouping in result["metrics"]["groupings"]:
            found += [group.pop("mean_score") for group in grouping["groups"]]
        means.append(found)
    assert streamed == in_memory
    assert means[0] == pytest.approx(means[1], rel=1e-12)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    sex = rng.choice(["female", "male", "non-binary"], ROWS, p=[0.48, 0.48, 0.04])
    band = rng.choice(["18-25", "26-40", "41-65", "65+"], ROWS)
    outcome = rng.random(ROWS) < 0.4
    score = np.clip(rng.normal(np.where(outcome, 0.6, 0.4) - (sex == "female") * 0.05, 0.15), 0, 1)
    return pd.DataFrame(
        {
            "id": np.arange(ROWS),
            "sex": sex,
            "age_band": band,
            "outcome": outcome.astype(int),
            "decision": (score >= 0.5).astype(int),
            "score": score,
            # A wide column the check does not read: ~3 MB of file, so that progress (measured in bytes
            # read, which pandas takes 256 KB at a time) moves with every chunk.
            "notes": "free text, with a comma; " * 20,
        }
    )


def test_a_csv_larger_than_a_chunk_gives_the_in_memory_result(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "predictions.csv"
    frame.to_csv(path, index=False)
    fractions: list[float] = []
    streamed = bias.run_bias_check(path, COLUMNS, POLICY, chunk_rows=1_000, n_boot=200, progress=fractions.append)
    in_memory = bias.bias_from_frame(frame, COLUMNS, POLICY, n_boot=200)
    same_result(streamed.to_dict(), in_memory.to_dict())
    assert len(fractions) >= 6  # six chunks, then the metrics
    assert fractions == sorted(set(fractions))
    assert 0 < fractions[0] < 0.5 and fractions[-1] == 1.0


def test_parquet_streams_by_batches_with_the_same_result(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "predictions.parquet"
    pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=800)
    fractions: list[float] = []
    streamed = bias.run_bias_check(path, COLUMNS, POLICY, chunk_rows=1_000, n_boot=200, progress=fractions.append)
    assert streamed.to_dict() == bias.bias_from_frame(frame, COLUMNS, POLICY, n_boot=200).to_dict()
    assert fractions == sorted(set(fractions)) and len(fractions) >= 6 and fractions[-1] == 1.0


def test_parquet_keeps_categorical_and_integer_groups(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "region": pd.Categorical(["north", "south"] * 50),
            "cohort": [2019, 2020, 2021, 2022] * 25,
            "label": [True, False, False, True] * 25,
            "pred": [True, True, False, False] * 25,
        }
    )
    path = tmp_path / "p.parquet"
    table.to_parquet(path)
    chosen = bias.BiasColumns(y_true="label", y_pred="pred", sensitive=("region", "cohort"))
    result = bias.run_bias_check(path, chosen, POLICY, n_boot=0)
    assert [group["label"] for group in result.metrics["groupings"][1]["groups"]] == ["2019", "2020", "2021", "2022"]
    assert result.to_dict() == bias.bias_from_frame(table, chosen, POLICY, n_boot=0).to_dict()


def test_an_uploaded_file_object_is_read_and_left_open(frame: pd.DataFrame) -> None:
    upload = io.BytesIO(frame.to_csv(index=False).encode())
    result = bias.run_bias_check(upload, COLUMNS, POLICY, n_boot=0, name="upload.csv")
    assert not upload.closed
    assert result.metrics["rows"] == ROWS


def test_a_file_object_that_cannot_seek_is_read_too(frame: pd.DataFrame) -> None:
    class Stream(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
            return self._inner.readinto(buffer)

    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    result = bias.run_bias_check(Stream(buffer.getvalue()), COLUMNS, POLICY, n_boot=0)
    assert result.metrics["rows"] == ROWS


def test_semicolon_separated_csv_with_a_byte_order_mark_is_read(frame: pd.DataFrame) -> None:
    text = "\ufeff" + frame.drop(columns=["notes"]).to_csv(index=False, sep=";")
    result = bias.run_bias_check(io.BytesIO(text.encode()), COLUMNS, POLICY, n_boot=0)
    same_result(result.to_dict(), bias.bias_from_frame(frame, COLUMNS, POLICY, n_boot=0).to_dict())


def test_group_values_keep_the_text_of_the_file() -> None:
    data = b"zip,label,pred\n01000,1,0\n01000,0,0\n2000,1,1\n2000,0,1\n"
    result = bias.run_bias_check(
        io.BytesIO(data), bias.BiasColumns(y_true="label", y_pred="pred", sensitive=("zip",)), POLICY, n_boot=0
    )
    # "01000" stays as written (not 1000), and sorts as a number before 2000.
    assert [group["label"] for group in result.metrics["groupings"][0]["groups"]] == ["01000", "2000"]


def test_table_columns_reads_only_the_header_and_rewinds(frame: pd.DataFrame, tmp_path: Path) -> None:
    upload = io.BytesIO(frame.to_csv(index=False).encode())
    upload.seek(0)
    assert table_columns(upload, "upload.csv") == list(frame.columns)
    assert upload.tell() == 0
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    with path.open("rb") as handle:
        assert table_columns(handle, "p.parquet") == [*frame.columns]
        assert handle.tell() == 0
    with pytest.raises(TableError, match="looks like a PDF document"):
        table_columns(io.BytesIO(b"%PDF-1.7\n..."), "report.csv")
