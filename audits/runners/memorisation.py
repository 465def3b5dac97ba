"""The memorisation check: does a model, or a synthetic-data generator, reproduce its training data?

*Model versions* (language models): the training text (the model version's training dataset
versions, or those chosen) is indexed once per dataset version (every n-token window, see
``audits.checks.memorisation``) and each output — from an uploaded file of generations, a
registered dataset version of them, or collected here from the model's serving endpoint — is
checked for verbatim windows, confirmed on the text. With an endpoint, the extraction test of
Carlini et al. (2023) prompts with the first 50 tokens of sampled training documents and of
held-out documents and counts exact 50-token continuations. Canaries registered on the model
version must never appear in outputs. Every verbatim span is scanned for personal data.

*Generator versions* (synthetic tables): the generated table is compared with the real training
table and a holdout table of the same population (``audits.checks.synthetic``).

Evidence is masked: excerpts keep their shape with digits, capitalised words and personal data
hidden, and canaries are shown masked.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings

from audits.choices import CheckKind, MemorisationMode
from audits.runners import CheckInputError, Outcome, Progress, register
from audits.runners.pii import opened

OUTPUT_BATCH = 5000
EXAMPLES = 20
MAX_OUTPUTS = 1_000_000
_COMPACT = re.compile(r"[\s\-.]+")


def _format(version: Any, name: str) -> str:
    from audits.checks import text_records

    return text_records.format_from_name(name, getattr(version, "format", "") or "")


def _version_file(version: Any, role: str) -> tuple[Any, str]:
    if not version.file:
        raise CheckInputError(
            f"The {role} “{version}” has no file in Custodia (only its location {version.uri} is registered), "
            "so it cannot be read. Upload the file to a new version."
        )
    return version.file, version.file.name


def _records(
    version_or_file: tuple[Any, str],
    fmt: str,
    text_field: str,
    split: str,
    report: Callable[[float], None] | None = None,
) -> Iterator[str]:
    from audits.checks import text_records

    file_field, name = version_or_file
    display = name.rsplit("/", 1)[-1]
    with opened(file_field, name) as handle:
        size = max(1, getattr(file_field, "size", 0) or 1)
        progress = (lambda consumed: report(min(1.0, consumed / size))) if report else None
        try:
            yield from text_records.iter_records(
                handle, fmt=fmt, field=text_field, name=display, split=split, progress=progress
            )
        except text_records.RecordsError as exc:
            raise CheckInputError(str(exc)) from None


def _load(model: Any, value: Any, role: str) -> Any:
    if not value:
        return None
    obj = model.objects.filter(uuid=value).first()
    if obj is None:
        raise CheckInputError(f"The {role} chosen for this check no longer exists.")
    return obj


@dataclass
class TextTally:
    """What the outputs showed, accumulated batch by batch."""

    outputs: int = 0
    windows: int = 0
    matched_windows: int = 0
    memorised: int = 0
    longest: int = 0
    collisions: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    pii: dict[str, int] = field(default_factory=dict)
    pii_examples: dict[str, list[str]] = field(default_factory=dict)
    canaries: dict[int, dict[str, Any]] = field(default_factory=dict)


class MemorisationRunner:
    def run(self, run: Any, thresholds: dict[str, Any], progress: Progress) -> Outcome:
        mode = run.parameters.get("mode") or (
            MemorisationMode.SYNTHETIC if run.generator_version_id else MemorisationMode.TEXT
        )
        if mode == MemorisationMode.SYNTHETIC:
            return self.run_synthetic(run, thresholds, progress)
        return self.run_text(run, thresholds, progress)

    # Language models -----------------------------------------------------------------------------

    def corpus_versions(self, run: Any) -> list[Any]:
        from registry.models import DatasetVersion

        chosen = run.parameters.get("training") or []
        if chosen:
            versions = list(DatasetVersion.objects.filter(uuid__in=chosen))
            if len(versions) != len(set(chosen)):
                raise CheckInputError("A training dataset version chosen for this check no longer exists.")
        elif run.model_version_id is not None:
            versions = list(run.model_version.training_datasets.all())
        else:
            versions = []
        if not versions:
            raise CheckInputError(
                "There is no training text to compare with: the model version lists no training dataset "
                "versions and none was chosen for the check."
            )
        return sorted(versions, key=lambda v: v.pk)

    def run_text(self, run: Any, thresholds: dict[str, Any], progress: Progress) -> Outcome:
        from audits.checks import memorisation
        from audits.services.memorisation import IndexUnavailable, ensure_index

        params = run.parameters
        n = int(params.get("window_tokens") or thresholds.get("window_tokens", memorisation.DEFAULT_N))
        text_field = params.get("text_field") or "text"
        versions = self.corpus_versions(run)
        indexes: list[tuple[Any, Any, Any, bool]] = []
        for number, version in enumerate(versions):
            source = _version_file(version, "training dataset version")
            fmt = _format(version, source[1])

            def documents(report: Callable[[float], None], source: Any = source, fmt: str = fmt) -> Iterator[str]:
                return _records(source, fmt, text_field, "paragraph", report)

            def step(fraction: float, message: str, number: int = number) -> None:
                progress((number + fraction) / len(versions) * 0.5, message)

            try:
                index, row, built = ensure_index(
                    version, field=text_field, window_tokens=n, documents=documents, progress=step
                )
            except memorisation.MemorisationInputError as exc:
                raise CheckInputError(f"{version}: {exc}") from None
            except IndexUnavailable as exc:
                raise CheckInputError(str(exc)) from None
            indexes.append((version, index, row, built))

        canaries = list(run.model_version.canaries.all()) if run.model_version_id else []
        tally = TextTally()
        extraction = None
        endpoint = self.endpoint(run)
        if endpoint is not None and params.get("extraction", True):
            progress(0.5, "Running the extraction test on the serving endpoint")
            extraction, generated = self.extraction_test(run, endpoint, versions, text_field, thresholds, progress)
            self.check_outputs(indexes, generated, tally, canaries, start=0, n=n)
        if run.input_file or run.input_dataset_version_id:
            source = (
                (run.input_file, run.input_name or run.input_file.name)
                if run.input_file
                else _version_file(run.input_dataset_version, "dataset version of outputs")
            )
            fmt = _format(None if run.input_file else run.input_dataset_version, source[1])
            batch: list[str] = []
            start = tally.outputs

            def report(fraction: float) -> None:
                progress(0.75 + 0.24 * fraction, "Comparing the outputs with the training text")

            for text in _records(source, fmt, params.get("output_field") or "text", "line", report):
                batch.append(text)
                if len(batch) >= OUTPUT_BATCH:
                    self.check_outputs(indexes, batch, tally, canaries, start=start, n=n)
                    start += len(batch)
                    batch = []
                if tally.outputs + len(batch) > MAX_OUTPUTS:
                    raise CheckInputError(f"The file holds more than {MAX_OUTPUTS:,} outputs; check a sample of them.")
            self.check_outputs(indexes, batch, tally, canaries, start=start, n=n)
        elif extraction is None:
            raise CheckInputError(
                "There are no outputs to check: upload a file of the model's generations, choose a dataset version "
                "that holds them, or register the model version's serving endpoint."
            )
        if tally.outputs == 0:
            raise CheckInputError("The outputs file holds no text to check.")
        progress(1.0, "Checked")
        return self.judge_text(run, n, indexes, tally, extraction, canaries, thresholds)

    def endpoint(self, run: Any) -> Any:
        from audits.checks.completions import CompletionsClient

        version = run.model_version
        if version is None or not version.serving_endpoint or run.parameters.get("extraction") is False:
            return None
        return CompletionsClient(
            endpoint=version.serving_endpoint,
            model=run.parameters.get("endpoint_model") or "",
            api_key=getattr(django_settings, "MEMORISATION_ENDPOINT_API_KEY", ""),
            timeout=float(getattr(django_settings, "MEMORISATION_ENDPOINT_TIMEOUT", 60)),
        )

    def sample_documents(self, versions: Sequence[Any], text_field: str, count: int, seed: int) -> list[str]:
        """A seeded sample of documents long enough to split into a 50-token prompt and a 50-token suffix."""
        rng = random.Random(seed)
        reservoir: list[str] = []
        seen = 0
        wanted = count * 3
        for version in versions:
            source = _version_file(version, "dataset version")
            for text in _records(source, _format(version, source[1]), text_field, "paragraph"):
                if len(text) < 200:  # cheap pre-filter: 100 tokens are never fewer characters than this
                    continue
                seen += 1
                if len(reservoir) < wanted:
                    reservoir.append(text)
                else:
                    slot = rng.randrange(seen)
                    if slot < wanted:
                        reservoir[slot] = text
        rng.shuffle(reservoir)
        return reservoir

    def extraction_test(
        self,
        run: Any,
        client: Any,
        versions: Sequence[Any],
        text_field: str,
        thresholds: dict[str, Any],
        progress: Progress,
    ) -> tuple[dict[str, Any], list[str]]:
        from audits.checks import memorisation
        from audits.checks.completions import EndpointError
        from registry.models import DatasetVersion

        count = int(run.parameters.get("extraction_samples") or thresholds.get("extraction_samples", 100))
        seed = int(run.parameters.get("seed", 0))
        groups: dict[str, list[Any]] = {"members": list(versions)}
        holdout = _load(DatasetVersion, run.parameters.get("holdout"), "holdout dataset version")
        if holdout is not None:
            groups["non_members"] = [holdout]
        result: dict[str, Any] = {"endpoint": client.url, "prefix_tokens": 50, "suffix_tokens": 50}
        generated: list[str] = []
        for group_number, (group, group_versions) in enumerate(groups.items()):
            samples = []
            for text in self.sample_documents(group_versions, text_field, count, seed):
                split = memorisation.split_for_extraction(text, 50, 50)
                if split is not None:
                    samples.append(split)
                if len(samples) >= count:
                    break
            if not samples:
                raise CheckInputError(
                    "No document of the "
                    + ("training text" if group == "members" else "holdout dataset version")
                    + " is long enough for the extraction test (100 tokens are needed)."
                )
            hits = 0
            for number, (prompt, expected) in enumerate(samples):
                try:
                    generation = client.complete(prompt, max_tokens=len(expected) * 2)
                except EndpointError as exc:
                    raise CheckInputError(str(exc)) from None
                generated.append(generation)
                hits += memorisation.suffix_matches(generation, expected)
                done = (group_number + (number + 1) / len(samples)) / len(groups)
                progress(0.5 + 0.25 * done, "Running the extraction test on the serving endpoint")
            low, high = memorisation.binomial_interval(hits, len(samples))
            result[group] = {
                "samples": len(samples),
                "extracted": hits,
                "rate": hits / len(samples),
                "interval": [low, high],
            }
        return result, generated

    def check_outputs(
        self,
        indexes: Sequence[tuple[Any, Any, Any, bool]],
        outputs: list[str],
        tally: TextTally,
        canaries: Sequence[Any],
        *,
        start: int,
        n: int,
    ) -> None:
        if not outputs:
            return
        per_index = [index.check(outputs) for _version, index, _row, _built in indexes]
        for offset, text in enumerate(outputs):
            number = start + offset
            results = [found[offset] for found in per_index]
            first = results[0]
            tally.outputs += 1
            tally.windows += first.windows
            tally.collisions += sum(r.collisions for r in results)
            matched = _union_windows(results, n)
            tally.matched_windows += matched
            spans = [(version, span) for (version, *_rest), r in zip(indexes, results, strict=True) for span in r.spans]
            if spans:
                tally.memorised += 1
                version, longest = max(spans, key=lambda item: item[1].tokens)
                tally.longest = max(tally.longest, longest.tokens)
                self.scan_spans(text, spans, tally)
                if len(tally.examples) < EXAMPLES or longest.tokens > min(
                    e["longest_span_tokens"] for e in tally.examples
                ):
                    tally.examples.append(
                        {
                            "output": number,
                            "tokens": first.tokens,
                            "fraction": matched / first.windows if first.windows else 0.0,
                            "longest_span_tokens": longest.tokens,
                            "excerpt": _masked_excerpt(text[longest.start : longest.end]),
                            "source": {
                                "dataset_version": str(version.uuid),
                                "label": str(version),
                                "document": longest.document,
                            },
                        }
                    )
                    tally.examples.sort(key=lambda e: (-e["longest_span_tokens"], e["output"]))
                    del tally.examples[EXAMPLES:]
            if canaries:
                compact = _COMPACT.sub("", text)
                for canary in canaries:
                    if canary.value in text or _COMPACT.sub("", canary.value) in compact:
                        entry = tally.canaries.setdefault(canary.pk, {"canary": canary, "outputs": []})
                        if len(entry["outputs"]) < 50:
                            entry["outputs"].append(number)
                        entry["count"] = entry.get("count", 0) + 1

    def scan_spans(self, text: str, spans: Sequence[tuple[Any, Any]], tally: TextTally) -> None:
        """Personal data inside a memorised span: the worst case, counted per entity with masked snippets."""
        from audits.checks import pii
        from audits.checks.pii_results import masked_snippet

        settings = pii.PiiSettings()
        for _version, span in spans:
            segment = text[span.start : span.end]
            hits = pii.scan_text(segment, settings)
            for hit in hits:
                tally.pii[hit.entity] = tally.pii.get(hit.entity, 0) + 1
                examples = tally.pii_examples.setdefault(hit.entity, [])
                if len(examples) < 5:
                    examples.append(masked_snippet(segment, hit, hits))

    def judge_text(
        self,
        run: Any,
        n: int,
        indexes: Sequence[tuple[Any, Any, Any, bool]],
        tally: TextTally,
        extraction: dict[str, Any] | None,
        canaries: Sequence[Any],
        thresholds: dict[str, Any],
    ) -> Outcome:
        from audits.services.memorisation import masked_canary

        max_share = float(thresholds.get("max_memorised_share", 0.0))
        max_rate = float(thresholds.get("max_extractable_rate", 0.01))
        share = tally.memorised / tally.outputs
        reasons: list[str] = []
        findings: list[dict[str, Any]] = []
        verdict = "pass"
        corpus = [
            {
                "dataset_version": str(version.uuid),
                "label": str(version),
                "built_now": built,
                **{key: row.info.get(key) for key in ("documents", "tokens", "windows", "index_bytes", "seconds")},
            }
            for version, _index, row, built in indexes
        ]
        if tally.memorised:
            over = share > max_share
            verdict = "fail" if over else "warn"
            reasons.append(
                f"{tally.memorised} of {tally.outputs} outputs ({share:.1%}) repeat at least {n} consecutive tokens of "
                f"the training text verbatim; the longest copied passage is {tally.longest} tokens"
                + (f" (the policy allows {max_share:.1%})." if over else ", within the policy's allowance.")
            )
            findings.append(
                {
                    "severity": "high" if over else "medium",
                    "title": f"Outputs reproduce training text verbatim ({tally.memorised} of {tally.outputs})",
                    "detail": reasons[-1],
                    "evidence": {
                        "code": "memorised_outputs",
                        "outputs": tally.memorised,
                        "longest_span_tokens": tally.longest,
                        "examples": tally.examples[:10],
                    },
                }
            )
        else:
            reasons.append(f"None of the {tally.outputs} outputs repeats {n} consecutive tokens of the training text.")
        if tally.pii:
            verdict = "fail"
            listed = ", ".join(f"{entity} ×{count}" for entity, count in sorted(tally.pii.items()))
            reasons.append(f"Memorised passages hold personal data: {listed}.")
            findings.append(
                {
                    "severity": "critical",
                    "title": "Personal data in memorised training text",
                    "detail": reasons[-1],
                    "evidence": {"code": "memorised_pii", "entities": tally.pii, "snippets": tally.pii_examples},
                }
            )
        found_canaries = []
        for entry in tally.canaries.values():
            canary = entry["canary"]
            found_canaries.append(
                {
                    "label": canary.label,
                    "masked": masked_canary(canary.value),
                    "count": entry["count"],
                    "outputs": entry["outputs"],
                }
            )
            findings.append(
                {
                    "severity": "critical",
                    "title": f"Canary found in outputs: {canary.label or masked_canary(canary.value)}",
                    "detail": f"The canary planted in the fine-tuning data appears in {entry['count']} outputs.",
                    "evidence": {
                        "code": "canary",
                        "canary": masked_canary(canary.value),
                        "outputs": entry["outputs"][:20],
                    },
                }
            )
        if found_canaries:
            verdict = "fail"
            reasons.append(f"{len(found_canaries)} of {len(canaries)} registered canaries appear in the outputs.")
        elif canaries:
            reasons.append(f"None of the {len(canaries)} registered canaries appears in the outputs.")
        if extraction is not None:
            members = extraction["members"]
            text = (
                f"Extraction test: {members['extracted']} of {members['samples']} training documents continued "
                f"verbatim for 50 tokens from their first 50 (rate {members['rate']:.1%}, 95 % interval "
                f"{members['interval'][0]:.1%}–{members['interval'][1]:.1%})"
            )
            if "non_members" in extraction:
                other = extraction["non_members"]
                text += f"; held-out documents: {other['extracted']} of {other['samples']} ({other['rate']:.1%})"
            reasons.append(text + ".")
            if members["rate"] > max_rate:
                verdict = "fail"
                findings.append(
                    {
                        "severity": "high",
                        "title": "Training documents are extractable from the model",
                        "detail": reasons[-1],
                        "evidence": {"code": "extractable", **{k: v for k, v in extraction.items() if k != "endpoint"}},
                    }
                )
        if tally.collisions:
            reasons.append(f"{tally.collisions} index candidates were hash collisions, rejected on the text.")
        metrics = {
            "check": "memorisation",
            "kind": "text",
            "version": 1,
            "window_tokens": n,
            "corpus": corpus,
            "outputs": {
                "count": tally.outputs,
                "memorised": tally.memorised,
                "memorised_share": share,
                "windows": tally.windows,
                "matched_windows": tally.matched_windows,
                "matched_share": tally.matched_windows / tally.windows if tally.windows else 0.0,
                "longest_span_tokens": tally.longest,
                "collisions": tally.collisions,
            },
            "examples": tally.examples,
            "pii": tally.pii,
            "canaries": {"registered": len(canaries), "found": found_canaries},
            "extraction": extraction,
            "thresholds": {"max_memorised_share": max_share, "max_extractable_rate": max_rate, "window_tokens": n},
        }
        return Outcome(metrics, verdict, reasons, findings)

    # Synthetic tables ----------------------------------------------------------------------------

    def run_synthetic(self, run: Any, thresholds: dict[str, Any], progress: Progress) -> Outcome:
        from audits.checks import synthetic
        from registry.models import DatasetVersion

        generator = run.generator_version
        training = _load(DatasetVersion, run.parameters.get("training"), "training dataset version")
        if training is None and generator is not None:
            candidates = list(generator.training_datasets.all())
            if len(candidates) == 1:
                training = candidates[0]
        if training is None:
            raise CheckInputError("Choose the real training dataset version the generator learned from.")
        holdout = _load(DatasetVersion, run.parameters.get("holdout"), "holdout dataset version")
        if holdout is None:
            raise CheckInputError(
                "Choose a holdout dataset version: real rows of the same population not used in training."
            )
        generated = run.input_dataset_version
        if generated is None:
            raise CheckInputError("Choose the dataset version of generated (synthetic) rows.")
        columns = tuple(run.parameters.get("columns") or ()) or None
        settings = synthetic.SyntheticSettings(
            columns=columns,
            max_synthetic_rows=int(thresholds.get("max_synthetic_rows", 5000)),
            max_reference_rows=int(thresholds.get("max_reference_rows", 5000)),
            min_holdout_rows=int(thresholds.get("min_holdout_rows", 50)),
            ims_margin=float(thresholds.get("ims_margin", 0.01)),
            alpha=float(thresholds.get("alpha", 0.05)),
            seed=int(run.parameters.get("seed", 0)),
        )
        tables: dict[str, Any] = {}
        totals: dict[str, int] = {}
        roles = (("training", training), ("holdout", holdout), ("synthetic", generated))
        for number, (role, version) in enumerate(roles):
            progress(0.6 * number / 3, f"Reading the {role} table")
            file_field, name = _version_file(version, f"{role} dataset version")
            limit = settings.max_synthetic_rows if role == "synthetic" else settings.max_reference_rows
            with opened(file_field, name) as handle:
                try:
                    tables[role], totals[role] = synthetic.read_sample(
                        handle,
                        fmt=_table_format(version, name),
                        name=f"{role} table ({name.rsplit('/', 1)[-1]})",
                        max_rows=limit,
                        seed=settings.seed,
                    )
                except synthetic.SyntheticInputError as exc:
                    raise CheckInputError(str(exc)) from None
        progress(0.6, "Measuring distances to the closest records")
        try:
            result = synthetic.evaluate(
                tables["training"], tables["holdout"], tables["synthetic"], settings, totals=totals
            )
        except synthetic.SyntheticInputError as exc:
            raise CheckInputError(str(exc)) from None
        progress(1.0, "Computed")
        data = result.to_dict()
        data["inputs"] = {role: {"dataset_version": str(v.uuid), "label": str(v)} for role, v in roles}
        findings = [
            {
                "severity": item["severity"],
                "title": item["title"],
                "detail": item.get("detail", ""),
                "evidence": {**(item.get("evidence") or {}), "code": item.get("code")},
            }
            for item in data.get("findings", [])
        ]
        return Outcome(data, data["verdict"], list(data["reasons"]), findings)


def _table_format(version: Any, name: str) -> str | None:
    declared = getattr(version, "format", "")
    if declared in ("csv", "parquet"):
        return str(declared)
    lowered = name.lower()
    if lowered.endswith((".parquet", ".pq")):
        return "parquet"
    return "csv" if lowered.endswith((".csv", ".tsv", ".txt")) else None


def _union_windows(results: Sequence[Any], n: int) -> int:
    """Windows of one output found in any of the corpora: the window starts inside each verbatim span."""
    if len(results) == 1:
        return int(results[0].matched_windows)
    covered: set[int] = set()
    for result in results:
        for span in result.spans:
            covered.update(range(span.token_start, span.token_end - n + 1))
    return len(covered)


def _masked_excerpt(text: str) -> str:
    from audits.checks import pii
    from audits.checks.pii_results import masked_text

    return masked_text(text, pii.scan_text(text[:400], pii.PiiSettings()), limit=240)


register(CheckKind.MEMORISATION, MemorisationRunner())
