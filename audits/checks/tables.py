"""Reading user-supplied tables (CSV or Parquet; a path or a binary file object) in chunks.

Checks stream large files instead of loading them whole: ``read_table_chunks`` returns a
single-pass iterable of DataFrames whose ``fraction`` attribute says how much of the file has been
read, for progress reporting. Anything wrong with the file itself (not a table, not UTF-8 text,
corrupt Parquet, missing columns) raises ``TableError`` with a sentence a compliance officer
can act on, never a parser traceback.

The format is taken from the content first (Parquet files start with ``PAR1``), then from the
explicit ``fmt``, then from the file name; images, PDFs and archives are recognised by their
signature so that the message can say what the file is.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_CHUNK_ROWS = 250_000
PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel workbook is one)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\xd0\xcf\x11\xe0", "an old-style Microsoft Office document"),
)

Source = str | os.PathLike[str] | IO[bytes]


class TableError(ValueError):
    """The file cannot be read as a table, or lacks columns it needs; the message says why."""


class ColumnsNotFoundError(TableError):
    """Some requested columns are not in the table; callers may reword this with the columns' roles."""

    def __init__(self, missing: Sequence[str], available: Sequence[str]) -> None:
        self.missing = list(missing)
        self.available = list(available)
        super().__init__(describe_missing_columns(self.missing, self.available))


def describe_missing_columns(
    missing: Sequence[str], available: Sequence[str], roles: dict[str, str] | None = None
) -> str:
    """One sentence per missing column, with the table's columns and the closest match if any."""
    sentences = []
    for name in missing:
        role = f" ({roles[name]})" if roles and name in roles else ""
        sentence = f"The column '{name}'{role} was not found in the table."
        lowered = {column.strip().lower(): column for column in available}
        close = lowered.get(name.strip().lower()) or next(
            iter(difflib.get_close_matches(name, list(available), n=1, cutoff=0.75)), None
        )
        if close is not None:
            sentence += f" Did you mean '{close}'?"
        sentences.append(sentence)
    shown = ", ".join(f"'{column}'" for column in available) if available else "none"
    sentences.append(f"The table has these columns: {shown}.")
    return " ".join(sentences)


def _display_name(source: Source, name: str = "") -> str:
    if name:
        return Path(name).name
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return Path(str(getattr(source, "name", "") or "")).name or "uploaded file"


def _peek(handle: IO[bytes]) -> bytes:
    start = handle.tell()
    head = handle.read(_SNIFF_BYTES)
    handle.seek(start)
    if isinstance(head, str):
        raise TableError("The file was opened as text; open it in binary mode ('rb') so it can be read as a table.")
    return bytes(head)


def detect_format(head: bytes, name: str, fmt: str | None) -> str:
    """``"csv"`` or ``"parquet"``, or TableError saying what the file is instead."""
    if fmt not in (None, "csv", "parquet"):
        raise TableError(f"Unknown table format '{fmt}'. Use 'csv' or 'parquet'.")
    if not head:
        raise TableError(f"The file '{name}' is empty.")
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise TableError(f"The file '{name}' looks like {what}, not a table. Upload a CSV or Parquet file.")
    suffix = Path(name).suffix.lower()
    if fmt == "parquet" or (fmt is None and suffix in (".parquet", ".pq")):
        raise TableError(
            f"The file '{name}' is not a valid Parquet file: it does not start with the Parquet signature."
        )
    if b"\x00" in head:
        raise TableError(f"The file '{name}' holds binary data, not a CSV table. Upload a CSV or Parquet file.")
    return "csv"


def _sniff_text(head: bytes, name: str) -> str:
    try:
        # An incremental decoder tolerates a character cut in two at the end of the sample.
        return codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as error:
        raise TableError(
            f"The file '{name}' is not UTF-8 text (byte {error.start} cannot be read). "
            "Save the table as 'CSV UTF-8' or as Parquet and upload it again."
        ) from None


def sniff_delimiter(text: str) -> str:
    """The separator of the header line: the candidate seen most often, a comma if none is."""
    first_line = text.splitlines()[0] if text else ""
    counts = {delimiter: first_line.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _check_columns(wanted: Sequence[str] | None, available: Sequence[str]) -> None:
    if wanted is None:
        return
    missing = [column for column in wanted if column not in available]
    if missing:
        raise ColumnsNotFoundError(missing, available)


class TableChunks:
    """A single pass over a table in chunks of DataFrames; ``fraction`` is how much has been read."""

    def __init__(
        self,
        source: Source,
        *,
        fmt: str | None = None,
        name: str = "",
        columns: Sequence[str] | None = None,
        text_columns: Sequence[str] = (),
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ) -> None:
        if chunk_rows < 1:
            raise TableError("The chunk size must be at least one row.")
        self.name = _display_name(source, name)
        self.fraction = 0.0
        self._columns = list(dict.fromkeys(columns)) if columns is not None else None
        self._text_columns = [column for column in text_columns if self._columns is None or column in self._columns]
        self._chunk_rows = chunk_rows
        self._owned: IO[bytes] | None = None
        self._handle: IO[bytes]
        self._start = 0
        if isinstance(source, str | os.PathLike):
            try:
                self._owned = self._handle = open(source, "rb")  # noqa: SIM115 -- closed when the pass ends
            except OSError as error:
                raise TableError(f"The file '{self.name}' cannot be opened: {error.strerror}.") from None
        else:
            self._handle = source
            if not (hasattr(source, "seekable") and source.seekable()):
                # Parquet needs random access and sniffing needs a second look at the start.
                self._handle = io.BytesIO(source.read())
        try:
            self._start = self._handle.tell()
            self._size = self._handle.seek(0, io.SEEK_END) - self._start
            self._handle.seek(self._start)
            head = _peek(self._handle)
            self.format = detect_format(head, self.name, fmt)
            if self.format == "csv":
                text = _sniff_text(head, self.name)
                self._delimiter = sniff_delimiter(text)
                self.columns = self._csv_header(text)
            else:
                self._parquet = self._open_parquet()
                self.columns = list(self._parquet.schema_arrow.names)
            _check_columns(self._columns, self.columns)
        except BaseException:
            self.close()
            raise
        self._consumed = False

    def _csv_header(self, text: str) -> list[str]:
        try:
            header = pd.read_csv(io.StringIO(text), sep=self._delimiter, nrows=0)
        except pd.errors.EmptyDataError:
            raise TableError(f"The file '{self.name}' has no header row, so it is not a table.") from None
        except (pd.errors.ParserError, ValueError, csv.Error) as error:
            raise TableError(f"The file '{self.name}' could not be read as a CSV table: {error}") from None
        return [str(column) for column in header.columns]

    def _open_parquet(self) -> pq.ParquetFile:
        try:
            return pq.ParquetFile(self._handle)
        except (pa.ArrowException, OSError, ValueError) as error:
            raise TableError(
                f"The file '{self.name}' is not a valid Parquet file; it may be damaged or cut short. ({error})"
            ) from None

    def close(self) -> None:
        """Close a file this object opened; put a caller's file object back where it was."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None
        elif not getattr(self._handle, "closed", False):
            self._handle.seek(self._start)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        if self._consumed:
            raise RuntimeError("A TableChunks object can be read only once.")
        self._consumed = True
        try:
            yield from self._csv_chunks() if self.format == "csv" else self._parquet_chunks()
            self.fraction = 1.0
        finally:
            self.close()

    def _csv_chunks(self) -> Iterator[pd.DataFrame]:
        reader = pd.read_csv(
            self._handle,
            sep=self._delimiter,
            usecols=self._columns,
            # Categories keep every value as the text in the file (no per-chunk type guessing that
            # would turn "01" into 1 in one chunk and not another) and group by integer codes.
            dtype=dict.fromkeys(self._text_columns, "category"),
            chunksize=self._chunk_rows,
            encoding="utf-8-sig",
        )
        try:
            with reader:
                for chunk in reader:
                    if self._size > 0:
                        self.fraction = min(1.0, max(self.fraction, (self._handle.tell() - self._start) / self._size))
                    yield chunk
        except UnicodeDecodeError:
            raise TableError(
                f"The file '{self.name}' is not UTF-8 text throughout. "
                "Save the table as 'CSV UTF-8' and upload it again."
            ) from None
        except (pd.errors.ParserError, csv.Error, ValueError) as error:
            raise TableError(f"The file '{self.name}' could not be read as a CSV table: {error}") from None

    def _parquet_chunks(self) -> Iterator[pd.DataFrame]:
        total = self._parquet.metadata.num_rows
        done = 0
        try:
            for batch in self._parquet.iter_batches(batch_size=self._chunk_rows, columns=self._columns):
                done += batch.num_rows
                self.fraction = done / total if total else 1.0
                yield batch.to_pandas()
        except (pa.ArrowException, OSError) as error:
            raise TableError(
                f"The file '{self.name}' is not a valid Parquet file; it may be damaged or cut short. ({error})"
            ) from None


def read_table_chunks(
    source: Source,
    *,
    fmt: str | None = None,
    name: str = "",
    columns: Sequence[str] | None = None,
    text_columns: Sequence[str] = (),
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> TableChunks:
    """Open ``source`` and return its chunks; only ``columns`` are read when given.

    ``text_columns`` are read from CSV as the text in the file (Parquet keeps its stored types).
    The file is checked (format, header, columns) before this returns; a path is closed when the
    pass ends, a caller's file object is left open.
    """
    return TableChunks(source, fmt=fmt, name=name, columns=columns, text_columns=text_columns, chunk_rows=chunk_rows)


def format_from_name(name: str) -> str | None:
    """``"parquet"`` or ``"csv"`` from a file name's suffix, None when the name does not say."""
    suffix = Path(name).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    return None


def table_columns(source: Source, name: str = "", *, fmt: str | None = None) -> list[str]:
    """The column names of a table, read from its header (CSV) or schema (Parquet) only.

    A caller's file object is left open at the position it had, so it can still be saved or read.
    """
    chunks = TableChunks(source, fmt=fmt, name=name)
    chunks.close()
    return list(chunks.columns)
