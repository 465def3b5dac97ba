"""The text records of a file, streamed: JSON Lines fields, a CSV or Parquet column, lines or paragraphs.

The memorisation check reads training corpora and model outputs through this. Plain text is split
into paragraphs (records separated by a blank line, for corpora) or lines (one output per line);
JSON Lines records give the named field (or the record itself when it is a string); tables give
the named column. Anything wrong with the file raises ``RecordsError`` with a sentence naming the
file, the line and what to do, never a parser traceback.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from typing import IO

from audits.checks import tables

FORMATS = ("text", "jsonl", "csv", "parquet")
_BLOCK = 1024 * 1024


class RecordsError(ValueError):
    """The file cannot be read as the text records it should hold; the message says why."""


def format_from_name(name: str, declared: str = "") -> str:
    if declared in FORMATS:
        return declared
    lowered = name.lower()
    if lowered.endswith((".parquet", ".pq")):
        return "parquet"
    if lowered.endswith((".csv", ".tsv")):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "text"


def _lines(handle: IO[bytes], name: str, progress: Callable[[int], None] | None) -> Iterator[tuple[int, str]]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    number = 0
    consumed = 0
    while True:
        block = handle.read(_BLOCK)
        if b"\x00" in block[:_BLOCK] and number == 0 and consumed == 0:
            raise RecordsError(f"{name} is a binary file, not text: it cannot be read as text records.")
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError:
            raise RecordsError(
                f"{name} is not UTF-8 text (undecodable bytes after line {number + pending.count(chr(10))}). "
                "Save it as UTF-8 and upload it again."
            ) from None
        consumed += len(block)
        pending += text
        lines = pending.split("\n")
        pending = lines.pop()
        for line in lines:
            number += 1
            yield number, line.rstrip("\r")
        if progress is not None:
            progress(consumed)
        if not block:
            break
    if pending:
        yield number + 1, pending.rstrip("\r")


def iter_records(
    handle: IO[bytes],
    *,
    fmt: str,
    field: str = "text",
    name: str = "the file",
    split: str = "paragraph",
    progress: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The non-empty text records of the file, in order; ``progress(bytes_read)`` now and then."""
    if fmt in ("csv", "parquet"):
        yield from _table_records(handle, fmt=fmt, field=field, name=name)
    elif fmt == "jsonl":
        yield from _jsonl_records(handle, field=field, name=name, progress=progress)
    elif split == "line":
        for _number, line in _lines(handle, name, progress):
            if line.strip():
                yield line
    else:
        paragraph: list[str] = []
        for _number, line in _lines(handle, name, progress):
            if line.strip():
                paragraph.append(line)
            elif paragraph:
                yield "\n".join(paragraph)
                paragraph = []
        if paragraph:
            yield "\n".join(paragraph)


def _table_records(handle: IO[bytes], *, fmt: str, field: str, name: str) -> Iterator[str]:
    try:
        chunks = tables.read_table_chunks(handle, fmt=fmt, name=name, columns=[field], text_columns=[field])
        for chunk in chunks:
            for value in chunk[field].tolist():
                if isinstance(value, str) and value.strip():
                    yield value
    except tables.TableError as exc:
        raise RecordsError(str(exc)) from None


def _jsonl_records(
    handle: IO[bytes], *, field: str, name: str, progress: Callable[[int], None] | None
) -> Iterator[str]:
    found = False
    for number, line in _lines(handle, name, progress):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise RecordsError(
                f"Line {number} of {name} is not valid JSON; each line must be one JSON record."
            ) from None
        if isinstance(record, str):
            value = record
        elif isinstance(record, dict):
            if field not in record:
                if not found:
                    keys = ", ".join(f"'{key}'" for key in list(record)[:12]) or "none"
                    raise RecordsError(
                        f"The records of {name} have no field '{field}' (line {number} has: {keys}). "
                        "Name the field that holds the text."
                    )
                continue
            value = record[field]
        else:
            raise RecordsError(f"Line {number} of {name} is not a JSON object or string.")
        if not isinstance(value, str):
            raise RecordsError(f"The field '{field}' on line {number} of {name} is not text.")
        found = True
        if value.strip():
            yield value
