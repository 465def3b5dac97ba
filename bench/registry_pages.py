#!/usr/bin/env python
"""Benchmark: the registry's permission-filtered list pages at 10,000 systems and 100,000 model versions.

Run with no arguments (``.venv/bin/python bench/registry_pages.py``). It builds its own database
(a temporary SQLite file; with DATABASE_URL set, a fresh ``custodia_bench`` database on that
server, dropped afterwards), bulk-loads one team's catalogue with django-guardian group object
permissions, then requests the main list pages as a contributor of that team — not an
administrator, so the permission filter runs — through Django's test client:

* UI ``/systems/`` and ``/models/``; API ``/api/v1/ai-systems/`` and ``/api/v1/model-versions/``;
* at page sizes 10 and 100, 50 timed requests each after a warm-up;
* p50/p95 latency, and the queries of one extra request per page (counted separately so that
  query capture does not distort the timings).

The baseline, in the same run, is the count + page query issued straight through the ORM without
any permission filtering. Every result is printed as ``figure <name> <value> <unit>``.
"""

from __future__ import annotations

import importlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reporting import figure, note, percentile  # noqa: E402

SYSTEMS = 10_000
MODELS = 10_000
VERSIONS_PER_MODEL = 10  # 100,000 model versions
OTHER_TEAM_SYSTEMS = 200  # owned by another team: the permission filter must leave them out
PAGE_SIZES = (10, 100)
REQUESTS = 50
WARMUP = 5
BATCH = 2_000

TARGETS = (
    # name, path, kind of rows (for the ORM baseline)
    ("ui_systems", "/systems/", "systems"),
    ("ui_models", "/models/", "models"),
    ("api_ai_systems", "/api/v1/ai-systems/", "systems"),
    ("api_model_versions", "/api/v1/model-versions/", "model_versions"),
)


def configure() -> tuple[Path, bool]:
    """Settings for a production-like run (DEBUG off: no query log) on a throwaway database."""
    tmp = Path(tempfile.mkdtemp(prefix="custodia-bench-"))
    given_db = bool(os.environ.get("DATABASE_URL"))
    if not given_db:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    defaults = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CUSTODIA_VAR_DIR": str(tmp),
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
    return tmp, given_db


@dataclass
class Timing:
    p50: float
    p95: float


def time_calls(call: Callable[[], Any]) -> Timing:
    for _ in range(WARMUP):
        call()
    samples = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return Timing(statistics.median(samples), percentile(samples, 95))


def load_catalogue() -> Any:
    """One team's 10,000 systems and 10,000 models × 10 versions, with group object permissions."""
    from django.contrib.auth.models import Permission, User

    from access.actors import Actor
    from access.choices import Role
    from access.services import do_create_team, do_set_membership, do_set_role
    from registry.choices import ModelStage, RiskClass, SystemStatus
    from registry.models import (
        AISystem,
        AISystemGroupObjectPermission,
        Model,
        ModelGroupObjectPermission,
        ModelVersion,
    )

    system = Actor.for_system("bench")
    team = do_create_team(actor=system, slug="bench", name="Bench team")
    other = do_create_team(actor=system, slug="others", name="Another team")
    user = User.objects.create_user("bench-contributor")
    do_set_role(actor=system, user=user, role=Role.CONTRIBUTOR)
    do_set_membership(actor=system, team=team, user=user, member=True)

    risks = list(RiskClass.values)
    statuses = list(SystemStatus.values)
    stages = list(ModelStage.values)

    def grant(model: Any, perm_model: Any, owner: Any) -> None:
        perms = list(
            Permission.objects.filter(
                content_type__app_label="registry",
                codename__in=[f"{a}_{model._meta.model_name}" for a in ("view", "change", "delete")],
            )
        )
        ids = model.objects.filter(owner_team=owner).values_list("pk", flat=True).iterator()
        rows = [perm_model(permission=p, group=owner.group, content_object_id=pk) for pk in ids for p in perms]
        perm_model.objects.bulk_create(rows, batch_size=BATCH)

    for owner, count in ((team, SYSTEMS), (other, OTHER_TEAM_SYSTEMS)):
        AISystem.objects.bulk_create(
            [
                AISystem(
                    name=f"{owner.slug} system {i:05d}",
                    owner_team=owner,
                    purpose="Benchmark fixture.",
                    risk_class=risks[i % len(risks)],
                    status=statuses[i % len(statuses)],
                )
                for i in range(count)
            ],
            batch_size=BATCH,
        )
        grant(AISystem, AISystemGroupObjectPermission, owner)
        Model.objects.bulk_create(
            [Model(name=f"{owner.slug} model {i:05d}", owner_team=owner, provider="bench") for i in range(count)],
            batch_size=BATCH,
        )
        grant(Model, ModelGroupObjectPermission, owner)
    model_ids = list(Model.objects.filter(owner_team=team).values_list("pk", flat=True))
    versions = (
        ModelVersion(model_id=pk, number=n, label=f"v{n}", base_model="bench-base", stage=stages[n % len(stages)])
        for pk in model_ids
        for n in range(1, VERSIONS_PER_MODEL + 1)
    )
    batch: list[ModelVersion] = []
    for version in versions:
        batch.append(version)
        if len(batch) == BATCH:
            ModelVersion.objects.bulk_create(batch)
            batch = []
    if batch:
        ModelVersion.objects.bulk_create(batch)
    from django.db import connection

    if connection.vendor == "postgresql":
        # Planner statistics, as autovacuum keeps them on a live server. (SQLite is left as
        # Django leaves it, without ANALYZE statistics.)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return user


def baseline_call(kind: str, size: int, user: Any = None) -> Callable[[], Any]:
    """The count + page through the ORM: without the permission filter, or ``visible_to(user)``."""
    from registry.models import AISystem, Model, ModelVersion

    querysets = {
        "systems": lambda: AISystem.objects.select_related("owner_team").order_by("name"),
        "models": lambda: Model.objects.select_related("owner_team").order_by("name"),
        "model_versions": lambda: ModelVersion.objects.select_related("model").order_by("model_id", "-number"),
    }
    make = querysets[kind]

    def call() -> None:
        qs = make() if user is None else make().visible_to(user)
        qs.count()
        list(qs[:size])

    return call


def page_url(path: str, size: int) -> str:
    # The UI and the API may name the page-size parameter differently; unknown ones are ignored.
    return f"{path}?page_size={size}&per_page={size}"


def rows_in(response: Any) -> int | None:
    if response.get("Content-Type", "").startswith("application/json"):
        data = response.json()
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            return len(data["results"])
        if isinstance(data, list):
            return len(data)
    return None


def main() -> int:
    tmp, given_db = configure()
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import Resolver404, resolve

    setup_test_environment()
    # The server's own start-up path (config/wsgi.py), GC tuning included, as gunicorn runs it.
    importlib.import_module("config.wsgi")
    started = time.perf_counter()
    if given_db:
        # Never touch the named database itself: build a fresh one beside it, dropped afterwards.
        connection.settings_dict.setdefault("TEST", {})
        connection.settings_dict["TEST"]["NAME"] = (
            str(tmp / "bench.sqlite3") if connection.vendor == "sqlite" else "custodia_bench"
        )
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    else:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        old_name = None
    note(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    try:
        user = load_catalogue()
        figure("registry_bench_load_s", time.perf_counter() - started, "s")
        return measure(user, Client, CaptureQueriesContext, resolve, Resolver404)
    finally:
        if old_name is not None:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def measure(user: Any, client_class: Any, capture: Any, resolve: Any, not_found: Any) -> int:
    from django.db import connection

    client = client_class()
    client.force_login(user)
    worst_p95 = 0.0
    worst_ratio = 0.0
    max_queries = 0
    grows = False
    measured = 0
    # The permission filter alone, straight through the ORM: what any list page pays at least.
    for kind in ("systems", "model_versions"):
        for size in PAGE_SIZES:
            visible = time_calls(baseline_call(kind, size, user))
            base = time_calls(baseline_call(kind, size))
            figure(f"orm_visible_{kind}_page{size}_p95_ms", visible.p95, "ms")
            figure(f"orm_baseline_{kind}_page{size}_p95_ms", base.p95, "ms")
            figure(f"orm_visible_{kind}_page{size}_p95_ratio_to_orm_baseline", visible.p95 / base.p95, "x")
    for name, path, kind in TARGETS:
        try:
            resolve(path)
        except not_found:
            note(f"{path} does not resolve in this build; {name} skipped")
            continue
        queries_by_size: dict[int, int] = {}
        for size in PAGE_SIZES:
            url = page_url(path, size)
            response = client.get(url)
            if response.status_code != 200:
                note(f"{url} answered {response.status_code}; {name} at page size {size} skipped")
                continue
            rows = rows_in(response)
            if rows is not None and rows != size:
                note(f"{url} returned {rows} rows (the page-size parameter may have another name)")
            timing = time_calls(lambda url=url: client.get(url))
            with capture(connection) as ctx:
                client.get(url)
            queries = len(ctx.captured_queries)
            base = time_calls(baseline_call(kind, size))
            figure(f"{name}_page{size}_p50_ms", timing.p50, "ms")
            figure(f"{name}_page{size}_p95_ms", timing.p95, "ms")
            figure(f"{name}_page{size}_queries", queries, "queries")
            figure(f"orm_baseline_{name}_page{size}_p50_ms", base.p50, "ms")
            figure(f"orm_baseline_{name}_page{size}_p95_ms", base.p95, "ms")
            figure(f"{name}_page{size}_p95_ratio_to_orm_baseline", timing.p95 / base.p95, "x")
            queries_by_size[size] = queries
            worst_p95 = max(worst_p95, timing.p95)
            worst_ratio = max(worst_ratio, timing.p95 / base.p95)
            max_queries = max(max_queries, queries)
            measured += 1
        if len(queries_by_size) == len(PAGE_SIZES):
            small, large = (queries_by_size[s] for s in PAGE_SIZES)
            if large > small:
                grows = True
                note(f"{name}: {small} queries at page size {PAGE_SIZES[0]} but {large} at {PAGE_SIZES[-1]} (N+1)")
    if not measured:
        note("no list page could be measured")
        return 1
    figure("registry_list_p95_ms", worst_p95, "ms")
    figure("registry_list_p95_ratio_to_orm_baseline", worst_ratio, "x")
    figure("registry_list_queries", max_queries, "queries")
    figure("registry_list_queries_grow_with_page_size", int(grows), "bool")
    note("query count grows with page size" if grows else "query count does not grow with page size")
    return 0


if __name__ == "__main__":
    sys.exit(main())
