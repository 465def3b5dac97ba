#!/usr/bin/env python
"""Benchmark: a model audit report for a model version with a long history, against bare WeasyPrint.

Run with no arguments (``.venv/bin/python bench/reports.py``). It builds a throwaway SQLite
database, registers a model with 50 versions, two training dataset versions and an AI system
using the latest version, and puts 20 check runs on the latest version and its data — 5 bias
checks with real per-group results (computed by the bias check on a generated table) and 15
personal-data scans — with 1,000 findings between them. Then, in the same run:

* after one untimed run of each (imports, fonts, template compilation), times the whole report
  generation as the worker does it (``audits.reports.services.generate``:
  collect the evidence through the visibility filters, freeze and hash it, render the HTML and the
  PDF, store the file), median of three;
* times WeasyPrint alone rendering the same final HTML to PDF, median of three — the floor (the
  report's own work is the rest: collecting, hashing, the HTML template, storing);
* checks that the stored PDF is the one the snapshot renders to, byte for byte.

Figures: ``report_seconds`` (goal ≤ 10 s), ``report_overhead_vs_weasyprint`` (goal ≤ 1.3×),
``report_weasyprint_seconds``, ``report_pages``.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reporting import figure, note  # noqa: E402

VERSIONS = 50
RUNS = 20
BIAS_RUNS = 5
FINDINGS = 1_000
REPEATS = 3


def configure() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="custodia-bench-reports-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    defaults = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CUSTODIA_VAR_DIR": str(tmp),
        "MEDIA_ROOT": str(tmp / "media"),
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "q8Vz3kLm0pR7sT2wX5yB" * 3,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "STATIC_MANIFEST": "false",
        "LOG_LEVEL": "error",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    return tmp


def bias_metrics() -> dict[str, Any]:
    """A real bias result (per-group rates, intervals, disparities) on a generated predictions table."""
    import io

    from audits.checks import bias

    rng = random.Random(4)
    lines = ["y_true,y_pred,sex,age"]
    for _ in range(20_000):
        sex, age = rng.choice(["F", "M"]), rng.choice(["18-34", "35-54", "55+"])
        truth = rng.random() < 0.3
        pred = truth if rng.random() < (0.8 if sex == "M" else 0.7) else not truth
        lines.append(f"{int(truth)},{int(pred)},{sex},{age}")
    result = bias.run_bias_check(
        io.BytesIO("\n".join(lines).encode()),
        bias.BiasColumns(y_true="y_true", y_pred="y_pred", score=None, sensitive=("sex", "age")),
        bias.BiasThresholds(),
        fmt="csv",
        name="predictions.csv",
        n_boot=200,
    )
    return result.to_dict()


def build() -> Any:
    from django.contrib.auth.models import User

    from access.actors import Actor
    from access.choices import Role
    from access.services import do_create_team, do_set_membership, do_set_role
    from audits.models import CheckRun, Finding
    from registry.models import AISystem, Dataset, Model
    from registry.services import do_add_component, do_create_asset, do_create_dataset_version, do_create_model_version

    system_actor = Actor.for_system("bench")
    team = do_create_team(actor=system_actor, slug="ml", name="ML platform")
    officer = User.objects.create_user("officer", password="x")
    do_set_role(actor=system_actor, user=officer, role=Role.OFFICER)
    do_set_membership(actor=system_actor, team=team, user=officer, member=True)
    actor = Actor(user=officer)
    datasets = []
    for name in ("Support tickets 2026", "Knowledge base"):
        dataset = do_create_asset(Dataset, actor=actor, data={"name": name, "owner_team": team})
        datasets.append(
            do_create_dataset_version(
                dataset,
                actor=actor,
                data={
                    "uri": f"s3://bench/{name.lower().replace(' ', '-')}.jsonl",
                    "origin": "collected",
                    "motivation": "Fine-tuning the support assistant.",
                    "preprocessing": "Anonymised and deduplicated.",
                },
            )
        )
    model = do_create_asset(
        Model, actor=actor, data={"name": "Support assistant", "owner_team": team, "provider": "in-house"}
    )
    version = None
    for number in range(VERSIONS):
        version = do_create_model_version(
            model,
            actor=actor,
            data={"label": f"2026-{number:02d}", "base_model": "llama-3.1-8b", "license": "llama3.1"},
            training_datasets=datasets,
        )
    system = do_create_asset(
        AISystem,
        actor=actor,
        data={"name": "Support chatbot", "owner_team": team, "purpose": "Answer customers", "risk_class": "limited"},
    )
    do_add_component(system, actor=actor, role="primary_model", part=version)
    metrics = bias_metrics()
    runs = []
    for number in range(RUNS):
        is_bias = number < BIAS_RUNS
        runs.append(
            CheckRun.objects.create(
                kind="bias" if is_bias else "pii",
                model_version=version if is_bias or number % 2 else None,
                dataset_version=None if is_bias or number % 2 else datasets[number % 2],
                state="succeeded",
                verdict="fail" if number % 3 == 0 else "pass",
                verdict_reasons=[f"Reason {number}: the selection rate ratio for group F is 0.71 (policy ≥ 0.8)."],
                metrics=metrics if is_bias else {},
                actor_label="bench",
            )
        )
    severities = ["critical", "high", "medium", "low", "info"]
    Finding.objects.bulk_create(
        Finding(
            run=runs[i % RUNS],
            severity=severities[i % len(severities)],
            title=f"Finding {i}: disparity in selection rate for an age band",
            detail="The 95 % bootstrap interval of the ratio lies entirely below the policy threshold.",
            evidence={"code": "bench", "index": i},
        )
        for i in range(FINDINGS)
    )
    return actor, version


def main() -> int:
    configure()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    import weasyprint

    from audits.models import Report
    from audits.reports import render
    from audits.reports.services import do_request_report, generate

    actor, version = build()
    note(
        f"model version with {VERSIONS} versions of history, {RUNS} check runs ({BIAS_RUNS} bias), {FINDINGS} findings"
    )

    # One untimed generation first: imports, font loading and template compilation happen once per worker.
    warm = do_request_report("model", actor=actor, model_version=version)
    assert generate(warm.pk) == "succeeded"
    generation, reports = [], []
    for _ in range(REPEATS):
        report = do_request_report("model", actor=actor, model_version=version)
        started = time.perf_counter()
        assert generate(report.pk) == "succeeded"
        generation.append(time.perf_counter() - started)
        reports.append(Report.objects.get(pk=report.pk))
    last = reports[-1]
    html = render.render_html(last.snapshot)
    if os.environ.get("BENCH_REPORT_HTML"):
        Path(os.environ["BENCH_REPORT_HTML"]).write_text(html)
    bare = []
    weasyprint.HTML(string=html).write_pdf()  # warm-up, as for the generation
    for _ in range(REPEATS):
        started = time.perf_counter()
        pdf = weasyprint.HTML(string=html).write_pdf()
        bare.append(time.perf_counter() - started)
    stored = last.pdf.read()
    if render.render_pdf(last.snapshot) != stored:
        print("the stored PDF is not what its snapshot renders to", file=sys.stderr)
        return 1
    pages_path = Path(os.environ["CUSTODIA_VAR_DIR"]) / "bench-report.pdf"
    pages_path.write_bytes(stored)
    info = subprocess.run(["pdfinfo", str(pages_path)], capture_output=True, text=True).stdout
    pages = next((int(line.split()[-1]) for line in info.splitlines() if line.startswith("Pages:")), 0)
    report_seconds = statistics.median(generation)
    weasyprint_seconds = statistics.median(bare)
    runs = ", ".join(f"{s:.2f}" for s in generation)
    floors = ", ".join(f"{s:.2f}" for s in bare)
    note(f"generation runs: {runs} s; bare WeasyPrint: {floors} s")
    note(f"bare WeasyPrint PDF {len(pdf):,} bytes; stored PDF {len(stored):,} bytes")
    figure("report_seconds", report_seconds, "s")
    figure("report_weasyprint_seconds", weasyprint_seconds, "s")
    figure("report_overhead_vs_weasyprint", report_seconds / weasyprint_seconds, "x")
    figure("report_pages", pages, "pages")
    goals = report_seconds <= 10 and report_seconds / weasyprint_seconds <= 1.3
    note(f"goals (≤ 10 s, ≤ 1.3× WeasyPrint): {'met' if goals else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
