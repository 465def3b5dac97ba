"""Bad input raises BiasInputError with a message a compliance officer can act on, never a pandas traceback."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audits.checks import bias

POLICY = bias.BiasThresholds()


def columns(**overrides: object) -> bias.BiasColumns:
    chosen: dict = {"y_true": "label", "y_pred": "pred", "sensitive": ("Gender",), **overrides}
    return bias.BiasColumns(**chosen)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"Gender": ["f", "m"] * 20, "label": [0, 1] * 20, "pred": [1, 0] * 20})


def error_of(call) -> str:
    with pytest.raises(bias.BiasInputError) as raised:
        call()
    return str(raised.value)


def csv_bytes(frame: pd.DataFrame) -> io.BytesIO:
    return io.BytesIO(frame.to_csv(index=False).encode())


def test_a_misnamed_column_is_named_with_the_available_columns_and_a_suggestion(frame: pd.DataFrame) -> None:
    expected = (
        "The column 'gender' (a sensitive feature) was not found in the table. Did you mean 'Gender'? "
        "The table has these columns: 'Gender', 'label', 'pred'."
    )
    assert error_of(lambda: bias.bias_from_frame(frame, columns(sensitive=("gender",)), POLICY)) == expected
    from_file = error_of(lambda: bias.run_bias_check(csv_bytes(frame), columns(sensitive=("gender",)), POLICY))
    assert from_file == expected


def test_a_missing_label_column_says_which_role_it_had(frame: pd.DataFrame) -> None:
    message = error_of(lambda: bias.bias_from_frame(frame, columns(y_true="outcome"), POLICY))
    assert message.startswith("The column 'outcome' (the true labels) was not found in the table.")
    assert "Did you mean" not in message


def test_labels_with_more_than_two_values_are_listed(frame: pd.DataFrame) -> None:
    table = frame.assign(pred=["approved", "pending", "rejected", "approved"] * 10)
    message = error_of(lambda: bias.bias_from_frame(table, columns(), POLICY))
    assert "The column 'pred' (the predicted labels) must hold two values" in message
    assert "it holds 3 different values: 'approved', 'pending', 'rejected'." in message


def test_scores_given_as_predictions_get_a_hint(frame: pd.DataFrame) -> None:
    table = frame.assign(pred=np.linspace(0, 1, 40))
    message = error_of(lambda: bias.bias_from_frame(table, columns(), POLICY))
    assert "40 different values: '0.0', '0.02564102564102564'" in message
    assert "and 30 more" in message
    assert "choose the column as the score column and give a threshold" in message


def test_two_unknown_label_words_ask_for_the_positive_label(frame: pd.DataFrame) -> None:
    table = frame.assign(label=["approved", "rejected"] * 20, pred=["rejected", "approved"] * 20)
    message = error_of(lambda: bias.bias_from_frame(table, columns(), POLICY))
    assert "holds 'approved', 'rejected', which are not 0/1, true/false or yes/no" in message
    assert "giving a positive label" in message
    result = bias.bias_from_frame(table, columns(positive_label=" Approved "), POLICY, n_boot=0)
    assert result.label_values["label"] == {"positive": ["approved"], "negative": ["rejected"]}
    assert result.metrics["overall"]["cells"] == {"tn": 0, "fp": 20, "fn": 20, "tp": 0}


def test_a_positive_label_that_never_occurs_is_reported(frame: pd.DataFrame) -> None:
    table = frame.assign(label=["approved", "rejected"] * 20, pred=["rejected", "approved"] * 20)
    message = error_of(lambda: bias.bias_from_frame(table, columns(positive_label="granted"), POLICY))
    assert message.startswith("The positive label 'granted' does not occur in the label columns")
    assert message.endswith("which hold 'approved', 'rejected'.")


@pytest.mark.parametrize(
    ("labels", "positive"),
    [
        ([0, 1], "1"),
        ([0.0, 1.0], "1.0"),
        (["0", "1"], "1"),
        ([True, False], "True"),
        (["True", "false"], "True"),
        (["yes", "No"], "yes"),
        ([-1, 1], "1"),
    ],
)
def test_usual_binary_labels_are_understood(labels: list, positive: str) -> None:
    table = pd.DataFrame({"Gender": ["f", "m"] * 20, "label": labels * 20, "pred": labels[::-1] * 20})
    result = bias.bias_from_frame(table, columns(), POLICY, n_boot=0)
    assert result.label_values["label"]["positive"] == [positive]
    assert result.metrics["overall"]["cells"]["tp"] == 0 and result.metrics["overall"]["cells"]["fn"] == 20


def test_empty_cells_are_counted_per_column(frame: pd.DataFrame) -> None:
    table = frame.astype(object)
    table.loc[[1, 2, 3], "label"] = np.nan
    table.loc[5, "Gender"] = None
    message = error_of(lambda: bias.bias_from_frame(table, columns(), POLICY))
    assert message.startswith(
        "Some rows have no value in a chosen column: 'label' (the true labels) in 3 rows; "
        "'Gender' (a sensitive feature) in 1 row."
    )


def test_empty_cells_in_a_csv_file_are_counted_too(frame: pd.DataFrame) -> None:
    text = frame.to_csv(index=False).replace("\nf,0,1\n", "\n,0,1\n", 2).replace("\nm,1,0\n", "\nm,NA,0\n", 1)
    message = error_of(lambda: bias.run_bias_check(io.BytesIO(text.encode()), columns(), POLICY))
    assert "'label' (the true labels) in 1 row; 'Gender' (a sensitive feature) in 2 rows" in message
    assert "NA, N/A, null or an empty cell count as missing" in message


def test_arrays_of_different_lengths_are_reported_with_their_lengths() -> None:
    message = error_of(
        lambda: bias.bias_from_arrays(
            y_true=[0, 1, 1], y_pred=[0, 1], sensitive_features={"sex": ["f", "m", "f"]}, thresholds=POLICY
        )
    )
    assert message == (
        "The inputs must have one value per row, but their lengths differ "
        "(the true labels: 3; the predicted labels: 2; the sensitive feature 'sex': 3)."
    )


def test_blank_group_values_are_an_empty_group(frame: pd.DataFrame) -> None:
    table = frame.copy()
    table.loc[[0, 2], "Gender"] = "  "
    message = error_of(lambda: bias.bias_from_frame(table, columns(), POLICY))
    assert message == (
        "The column 'Gender' (a sensitive feature) is blank in 2 rows, so those rows belong to no group. "
        "Fill in the group or remove the rows."
    )


def test_categories_without_rows_do_not_become_empty_groups(frame: pd.DataFrame) -> None:
    table = frame.assign(Gender=pd.Categorical(frame["Gender"], categories=["f", "m", "x"]))
    result = bias.bias_from_frame(table, columns(), POLICY, n_boot=0)
    assert [group["label"] for group in result.metrics["groupings"][0]["groups"]] == ["f", "m"]


def test_an_empty_table_is_reported(frame: pd.DataFrame) -> None:
    expected = "The table has no rows, so there is nothing to check."
    assert error_of(lambda: bias.bias_from_frame(frame.iloc[:0], columns(), POLICY)) == expected
    header_only = io.BytesIO(b"Gender,label,pred\n")
    assert error_of(lambda: bias.run_bias_check(header_only, columns(), POLICY, name="p.csv")) == expected
    assert error_of(lambda: bias.run_bias_check(io.BytesIO(b""), columns(), POLICY, name="p.csv")) == (
        "The file 'p.csv' is empty."
    )


def test_a_png_named_csv_is_recognised() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    message = error_of(lambda: bias.run_bias_check(io.BytesIO(png), columns(), POLICY, name="predictions.csv"))
    assert message == "The file 'predictions.csv' looks like a PNG image, not a table. Upload a CSV or Parquet file."


def test_random_bytes_named_csv_are_not_a_table(tmp_path: Path) -> None:
    noise = np.random.default_rng(0).bytes(4096)
    path = tmp_path / "predictions.csv"
    path.write_bytes(noise)
    message = error_of(lambda: bias.run_bias_check(path, columns(), POLICY))
    assert message == "The file 'predictions.csv' holds binary data, not a CSV table. Upload a CSV or Parquet file."
    without_zero_bytes = bytes(byte for byte in noise if byte)
    message = error_of(lambda: bias.run_bias_check(io.BytesIO(without_zero_bytes), columns(), POLICY, name="p.csv"))
    assert message.startswith("The file 'p.csv' is not UTF-8 text")
    assert "Save the table as 'CSV UTF-8' or as Parquet" in message


def test_text_in_another_encoding_is_reported() -> None:
    latin = "Gender,label,pred\nfé,1,0\n".encode("latin-1")
    message = error_of(lambda: bias.run_bias_check(io.BytesIO(latin), columns(), POLICY, name="p.csv"))
    assert message.startswith("The file 'p.csv' is not UTF-8 text")


def test_invalid_parquet_files_are_reported(frame: pd.DataFrame) -> None:
    csv_named_parquet = csv_bytes(frame)
    message = error_of(lambda: bias.run_bias_check(csv_named_parquet, columns(), POLICY, name="p.parquet"))
    assert message == "The file 'p.parquet' is not a valid Parquet file: it does not start with the Parquet signature."
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    cut = io.BytesIO(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    message = error_of(lambda: bias.run_bias_check(cut, columns(), POLICY, name="p.parquet"))
    assert message.startswith("The file 'p.parquet' is not a valid Parquet file; it may be damaged or cut short.")
    garbage = io.BytesIO(b"PAR1" + bytes(100) + b"PAR1")
    message = error_of(lambda: bias.run_bias_check(garbage, columns(), POLICY, name="upload"))
    assert message.startswith("The file 'upload' is not a valid Parquet file; it may be damaged or cut short.")


def test_a_missing_file_is_reported() -> None:
    message = error_of(lambda: bias.run_bias_check("/nonexistent/predictions.csv", columns(), POLICY))
    assert message == "The file 'predictions.csv' cannot be opened: No such file or directory."


def test_scores_that_are_not_numbers_are_reported(frame: pd.DataFrame) -> None:
    table = frame.assign(s=["0.5", "high"] * 20)
    message = error_of(lambda: bias.bias_from_frame(table, columns(score="s"), POLICY))
    assert message == "The column 's' (the scores) must hold numbers, but 20 rows do not, for example 'high'."


def test_too_many_groups_ask_for_bands() -> None:
    table = pd.DataFrame({"id": np.arange(5000).astype(str), "label": [0, 1] * 2500, "pred": [0, 1] * 2500})
    message = error_of(lambda: bias.bias_from_frame(table, columns(sensitive=("id",)), POLICY))
    assert "form 5000 groups, more than the 2000 the check handles" in message
    assert "The column 'id' has 5000 different values: group them into bands" in message


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ({"sensitive": ()}, "Choose at least one sensitive feature column"),
        ({"sensitive": ("a", "a")}, "Each sensitive feature column can be chosen only once."),
        ({"sensitive": ("label",)}, "The column 'label' is chosen both as the true labels and as a sensitive feature."),
        ({"y_pred": None}, "Choose the column with the predicted labels, or a score column with a threshold."),
        ({"y_pred": None, "score": "s"}, "give the score threshold at or above which a score in 's' counts"),
        ({"sensitive": ("_count",)}, "The column name '_count' is reserved by the check"),
    ],
)
def test_inconsistent_column_choices_are_explained(chosen: dict, expected: str) -> None:
    assert expected in error_of(lambda: columns(**chosen))


def test_a_text_mode_file_is_refused_with_advice() -> None:
    message = error_of(lambda: bias.run_bias_check(io.StringIO("Gender,label,pred\n"), columns(), POLICY))
    assert "open it in binary mode" in message


def test_every_bad_input_is_a_value_error_for_callers_that_catch_those() -> None:
    assert issubclass(bias.BiasInputError, ValueError)
