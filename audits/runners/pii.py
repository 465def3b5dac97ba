"""The PII check: personal data in a dataset version's file, a prompt version, or uploaded outputs or transcripts.

Large text and JSON Lines files are split at line boundaries into parts of ``CHECK_PART_BYTES`` that
any worker scans (``plan`` / ``run_part`` / ``finish``); the partial results hold counts and masked
snippets only and are merged in file order. Tables (CSV, Parquet) and prompts are scanned in one
piece, streamed in chunks.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from django.conf import settings as django_settings

from audits.choices import CheckKind, PiiLanguage
from audits.runners import CheckInputError, Outcome, Progress, TransientCheckError, register

TABLE_FORMATS = ("csv", "parquet")
TEXT_FORMATS = ("jsonl", "text")
BLOCK = 1024 * 1024


def pii_settings(run: Any, thresholds: dict[str, Any]) -> Any:
    from audits.checks import pii

    language = run.parameters.get("language") or PiiLanguage.AUTO
    languages = ("es", "en") if language == PiiLanguage.AUTO else (language,)
    sample = run.parameters.get("sample_rows")
    return pii.PiiSettings(
        languages=languages,
        allow_list=tuple(thresholds.get("allow_list") or ()),
        deny_list=tuple(thresholds.get("deny_list") or ()),
        sample_rows=int(sample) if sample else None,
        max_bytes=django_settings.CHECK_UPLOAD_MAX_BYTES,
    )


def pii_thresholds(thresholds: dict[str, Any]) -> Any:
    from audits.checks import pii

    return pii.PiiThresholds(
        fail_at=thresholds.get("fail_at", "high"),
        warn_at=thresholds.get("warn_at", "medium"),
        min_count=int(thresholds.get("min_count", 1)),
    )


def input_field(run: Any) -> tuple[Any, str]:
    """The file to scan and its display name: the upload, or the dataset version's own file."""
    if run.input_file:
        return run.input_file, run.input_name or run.input_file.name
    version = run.dataset_version or run.input_dataset_version
    if version is not None:
        if not version.file:
            raise CheckInputError(
                f"Dataset version “{version}” has no file in Custodia (only its location {version.uri} is "
                "registered), so it cannot be scanned. Upload the file to a new version, or upload it here."
            )
        return version.file, version.file.name
    raise CheckInputError("There is nothing to scan: upload the model outputs or transcripts as a file.")


def file_format(run: Any, name: str) -> str:
    version = run.dataset_version or run.input_dataset_version
    declared = getattr(version, "format", "") if version is not None and not run.input_file else ""
    lowered = name.lower()
    if declared in TABLE_FORMATS + TEXT_FORMATS:
        return str(declared)
    if lowered.endswith((".parquet", ".pq")):
        return "parquet"
    if lowered.endswith((".csv", ".tsv")):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    return "text"


@contextmanager
def opened(field: Any, name: str) -> Iterator[IO[bytes]]:
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise CheckInputError(f"The file {name} is no longer in storage.") from None
    except OSError as exc:
        raise TransientCheckError(f"The file could not be opened: {exc}") from exc
    try:
        yield handle
    finally:
        handle.close()


class ByteRange(io.RawIOBase):
    """Bytes ``start``..``end`` of a seekable binary file, read as a file of their own."""

    def __init__(self, handle: IO[bytes], start: int, end: int) -> None:
        self.handle, self.position, self.end = handle, start, end
        handle.seek(start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.end - self.position)
        if wanted <= 0:
            return 0
        data = self.handle.read(wanted)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def line_aligned_parts(handle: IO[bytes], size: int, part_bytes: int) -> list[dict[str, int]]:
    """Cut a file into ranges of about ``part_bytes`` ending at a newline, with the number of lines before each."""
    parts: list[dict[str, int]] = []
    start = start_record = position = lines = 0
    target = part_bytes
    handle.seek(0)
    while block := handle.read(BLOCK):
        search_from = 0
        while position + len(block) > target:
            cut = block.find(b"\n", max(search_from, target - position))
            if cut < 0:  # the next newline is in a later block
                break
            end = position + cut + 1
            parts.append({"start": start, "end": end, "start_record": start_record})
            start, start_record = end, lines + block.count(b"\n", 0, cut + 1)
            search_from, target = cut + 1, end + part_bytes
        lines += block.count(b"\n")
        position += len(block)
    if start < size:
        parts.append({"start": start, "end": size, "start_record": start_record})
    return parts


class PiiRunner:
    def plan(self, run: Any, thresholds: dict[str, Any]) -> list[dict[str, Any]] | None:
        if run.prompt_version_id is not None:
            return None
        field, name = input_field(run)
        fmt = file_format(run, name)
        if fmt not in TEXT_FORMATS:
            return None
        with opened(field, name) as handle:
            handle.seek(0, io.SEEK_END)
            size = handle.tell()
            part_bytes = django_settings.CHECK_PART_BYTES
            if size <= part_bytes:
                return None
            return [{**part, "format": fmt} for part in line_aligned_parts(handle, size, part_bytes)]

    def run_part(
        self, run: Any, parameters: dict[str, Any], thresholds: dict[str, Any], progress: Progress
    ) -> dict[str, Any]:
        from audits.checks import pii

        field, name = input_field(run)
        with opened(field, name) as handle:
            reader = io.BufferedReader(ByteRange(handle, parameters["start"], parameters["end"]))
            try:
                partial = pii.scan_text_stream(
                    reader,
                    pii_settings(run, thresholds),
                    fmt=parameters["format"],
                    name=name.rsplit("/", 1)[-1],
                    progress=lambda fraction: progress(fraction, "Scanning for personal data"),
                    start_record=parameters["start_record"],
                )
            except pii.PiiInputError as exc:
                raise CheckInputError(str(exc)) from None
        return dict(partial.to_dict())

    def finish(self, run: Any, partials: list[dict[str, Any]], thresholds: dict[str, Any]) -> Outcome:
        from audits.checks import pii

        merged = pii.merge([pii.PiiPartial.from_dict(partial) for partial in partials])
        return self.outcome(merged, thresholds)

    def outcome(self, partial: Any, thresholds: dict[str, Any]) -> Outcome:
        from audits.checks import pii

        try:
            result = pii.judge(partial, pii_thresholds(thresholds))
        except pii.PiiInputError as exc:
            raise CheckInputError(str(exc)) from None
        data = result.to_dict()
        findings = [
            {
                "severity": item["severity"],
                "title": item["title"],
                "detail": item.get("detail", ""),
                # Counts, locations and masked snippets: the scan never hands over a raw value.
                "evidence": {**(item.get("evidence") or {}), "entity": item.get("entity"), "code": item.get("code")},
            }
            for item in data["findings"]
        ]
        return Outcome(data, data["verdict"], list(data["reasons"]), findings)

    def run(self, run: Any, thresholds: dict[str, Any], progress: Progress) -> Outcome:
        from audits.checks import pii

        settings = pii_settings(run, thresholds)
        report = lambda fraction: progress(0.99 * fraction, "Scanning for personal data")  # noqa: E731
        try:
            if run.prompt_version_id is not None:
                version = run.prompt_version
                examples = [str(v) for v in (version.model_settings or {}).get("examples", []) if isinstance(v, str)]
                partial = pii.scan_prompt(version.template, examples, settings)
            else:
                field, name = input_field(run)
                fmt = file_format(run, name)
                display = name.rsplit("/", 1)[-1]
                with opened(field, name) as handle:
                    if fmt in TABLE_FORMATS:
                        partial = pii.scan_table(handle, settings, fmt=fmt, name=display, progress=report)
                    else:
                        partial = pii.scan_text_stream(handle, settings, fmt=fmt, name=display, progress=report)
        except pii.PiiInputError as exc:
            raise CheckInputError(str(exc)) from None
        progress(1.0, "Scanned")
        return self.outcome(partial, thresholds)


register(CheckKind.PII, PiiRunner())
