"""Real OpenLineage clients post to the live server over HTTP; the graph API shows what they sent.

What the clients do (read in openlineage-python / openlineage-dbt 1.54.0, then seen on the wire):

openlineage-python, ``OpenLineageClient()`` with no arguments
- Config order: an explicit ``config=``; else ``$OPENLINEAGE_CONFIG``, ``./openlineage.yml`` or
  ``~/.openlineage/openlineage.yml``; else ``OPENLINEAGE__*`` variables (``__`` nests keys, values
  parsed as JSON when they parse); only when none of those sets ``transport.type`` does it fall
  back to ``OPENLINEAGE_URL`` (+ ``OPENLINEAGE_API_KEY``, ``OPENLINEAGE_ENDPOINT``) → sync ``http``
  transport. ``OPENLINEAGE_DISABLED=true`` turns it into a no-op. The tests therefore run the
  client with a clean env, an empty HOME and a clean working directory.
- URL: ``urljoin(OPENLINEAGE_URL, OPENLINEAGE_ENDPOINT or "api/v1/lineage")``, so exactly
  ``<url>/api/v1/lineage``, no trailing slash. A URL with a path keeps it only if it ends in "/"
  (``http://h/custodia`` → ``http://h/api/v1/lineage``; ``http://h/custodia/`` → ``…/custodia/api/v1/lineage``).
- One event per POST; no batch endpoint in this version. Body: JSON with sorted keys and nulls
  dropped. Headers: ``Content-Type: application/json`` (no charset), ``Authorization: Bearer
  <OPENLINEAGE_API_KEY>`` (absent when the key is unset), ``User-Agent: python-requests/…``.
- Timeout 5 s; urllib3 retries up to 5 times (backoff 0.3 s) on 500/502/503/504, connection and
  read errors, POST included: a slow or 5xx answer gets the same event again. 4xx is not retried;
  ``emit`` raises ``requests.HTTPError`` on any non-2xx. Redirects are followed (a 301/302 turns
  the POST into a body-less GET).
- gzip: ``OPENLINEAGE__TRANSPORT__COMPRESSION=gzip`` next to ``OPENLINEAGE_URL`` is silently
  ignored (the URL fallback takes no options). It works with either
  ``OPENLINEAGE__TRANSPORT__TYPE=async_http`` (URL and API key are then copied from
  ``OPENLINEAGE_URL``/``OPENLINEAGE_API_KEY``; httpx2 client, START held until accepted, up to 100
  requests in parallel, failures only logged and counted) or a full ``OPENLINEAGE__TRANSPORT__TYPE=http``
  + ``__URL`` + ``__AUTH='{"type": "api_key", "apiKey": "…"}'`` config. Compressed requests carry
  ``Content-Encoding: gzip`` (level 3) and still ``Content-Type: application/json``.
- Run ids from ``generate_new_uuid()`` are UUIDv7; eventTime is whatever the producer wrote.

dbt-ol (openlineage-dbt), default mode
- Runs ``dbt <args>`` from PATH, then reads ``<target-path>/manifest.json``, ``run_results.json``
  (and ``catalog.json`` if present); target path from ``--target-path``, ``DBT_TARGET_PATH``,
  dbt_project.yml, else ``target``. Emits nothing if run_results.json was not rewritten.
- Renders profiles.yml again itself (its own ``env_var``) for the dataset namespace
  ``postgres://<host>:<port>``; dataset names ``<database>.<schema>.<table>``.
- All events are posted after dbt finishes, in this order: wrapper START (job
  ``dbt-run-<project>``), every model START, every model COMPLETE, wrapper COMPLETE; so posting
  order is not eventTime order. 3 models → 8 events. Model jobs are named
  ``<database>.<schema>.<project>.<model>`` in namespace ``$OPENLINEAGE_NAMESPACE`` (default
  ``dbt``; not required), carry a ``parent`` facet pointing at the wrapper run, and list inputs and
  the output on both START and COMPLETE (with schema, columnLineage and SQL facets).
- eventTime: model events use dbt's ``…Z`` timings, the wrapper ``…+00:00``.
- Only model, source and snapshot parents become inputs: a seed read with ``ref()`` is dropped,
  so the test project reads its seeds through ``source()``. ``dbt-ol seed`` emits only the wrapper
  pair. ``--consume-structured-logs`` would keep ref()'d seeds but adds a ``.sql.N`` job per query.
- A failed POST is logged as a warning ("OpenLineage client failed to emit event") and does not
  change dbt-ol's exit code, so the test reads its output.

A capture of what ``dbt-ol run`` posts is in fixtures/dbt/captured_events.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import psycopg
import pytest
from django.conf import settings

pytestmark = [pytest.mark.django_db(transaction=True)]

DBT_PROJECT = Path(__file__).resolve().parent / "dbt_project"
# A venv of its own (made by `make dbt-venv`): dbt pins sqlparse, pathspec and python-dateutil
# below what Django, mypy and celery have in .venv.
DBT_BIN = Path(os.environ.get("CUSTODIA_DBT_VENV", Path(settings.BASE_DIR) / ".venv" / "dbt")) / "bin"
DBT_JOB_NAMESPACE = "dbt"  # dbt-ol's default when OPENLINEAGE_NAMESPACE is unset
PG = {
    "host": os.environ.get("CUSTODIA_DBT_HOST", "127.0.0.1"),
    "port": os.environ.get("CUSTODIA_DBT_PORT", "5432"),
    "user": os.environ.get("CUSTODIA_DBT_USER", "postgres"),
    "password": os.environ.get("CUSTODIA_DBT_PASSWORD", ""),
    "dbname": os.environ.get("CUSTODIA_DBT_DBNAME", "custodia_dbt"),
}
PG_NAMESPACE = f"postgres://{PG['host']}:{PG['port']}"

CLIENT_SCRIPT = r"""
import json, sys
from datetime import datetime, timezone

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.uuid import generate_new_uuid

job_namespace, job_name, in_namespace, in_name, out_namespace, out_name = sys.argv[1:]
client = OpenLineageClient()
transport = client.transport
print(json.dumps({"transport": transport.kind, "compression": str(getattr(transport, "compression", None) or "")}))
run = Run(runId=str(generate_new_uuid()))
job = Job(namespace=job_namespace, name=job_name)
for state in (RunState.START, RunState.COMPLETE):
    client.emit(
        RunEvent(
            eventType=state,
            eventTime=datetime.now(timezone.utc).isoformat(),
            run=run,
            job=job,
            producer="https://custodia.example.org/tests/lineage",
            inputs=[InputDataset(namespace=in_namespace, name=in_name)],
            outputs=[OutputDataset(namespace=out_namespace, name=out_name)],
        )
    )
client.close(timeout=30)
stats = transport.get_stats() if hasattr(transport, "get_stats") else None
if stats and stats["failed"]:
    sys.exit(f"the async transport could not deliver every event: {stats}")
"""

# Each variant is configured by environment variables only, as a pipeline would be.
GZIP_ASYNC = {"OPENLINEAGE__TRANSPORT__TYPE": "async_http", "OPENLINEAGE__TRANSPORT__COMPRESSION": "gzip"}


def gzip_sync_http(url: str, token: str) -> dict[str, str]:
    return {
        "OPENLINEAGE__TRANSPORT__TYPE": "http",
        "OPENLINEAGE__TRANSPORT__URL": url,
        "OPENLINEAGE__TRANSPORT__AUTH": json.dumps({"type": "api_key", "apiKey": token}),
        "OPENLINEAGE__TRANSPORT__COMPRESSION": "gzip",
    }


def client_env(home: Path, url: str, token: str, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "OPENLINEAGE_URL": url,
        "OPENLINEAGE_API_KEY": token,
        **extra,
    }


def run(cmd: list[str], *, env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def dataset_id(namespace: str, name: str) -> str:
    return f"dataset:{namespace}:{name}"


def job_id(namespace: str, name: str) -> str:
    return f"job:{namespace}:{name}"


def query_lineage(base_url: str, token: str, node_id: str, depth: int) -> dict[str, dict[str, Any]]:
    """GET /api/v1/lineage as a client would; the graph's nodes by id."""
    url = f"{base_url}/api/v1/lineage?{urlencode({'nodeId': node_id, 'depth': depth})}"
    request = Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    try:
        with urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
    except HTTPError as error:
        body = error.read().decode("utf-8", "replace")[:500]
        raise AssertionError(f"GET /api/v1/lineage?nodeId={node_id} answered {error.code}: {body}") from None
    nodes = {node["id"]: node for node in payload["graph"]}
    assert len(nodes) == len(payload["graph"]), "a node appears twice in the graph"
    return nodes


def edges(node: dict[str, Any], key: str) -> set[tuple[str, str]]:
    return {(edge["origin"], edge["destination"]) for edge in node[key]}


def assert_job_edges(nodes: dict[str, dict[str, Any]], job: str, inputs: set[str], outputs: set[str]) -> None:
    assert job in nodes, f"{job} is missing from the graph; it has {sorted(nodes)}"
    assert nodes[job]["type"] == "JOB"
    assert edges(nodes[job], "inEdges") == {(d, job) for d in inputs}, f"inputs of {job}"
    assert edges(nodes[job], "outEdges") == {(job, d) for d in outputs}, f"outputs of {job}"
    for dataset in inputs:
        assert dataset in nodes, f"input {dataset} of {job} is missing from the graph"
        assert nodes[dataset]["type"] == "DATASET"
        assert (dataset, job) in edges(nodes[dataset], "outEdges")
    for dataset in outputs:
        assert dataset in nodes, f"output {dataset} of {job} is missing from the graph"
        assert nodes[dataset]["type"] == "DATASET"
        assert (job, dataset) in edges(nodes[dataset], "inEdges")


# (a) openlineage-python ---------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["plain", "gzip-async-http", "gzip-http"])
def test_python_client_configured_by_env_posts_a_run_the_graph_shows(
    live_server: Any, personas: Any, tmp_path: Path, variant: str
) -> None:
    token = personas.write_token
    extra = {"plain": {}, "gzip-async-http": GZIP_ASYNC, "gzip-http": gzip_sync_http(live_server.url, token)}[variant]
    job = ("custodia-tests", f"etiquetar_tickets_{variant.replace('-', '_')}")
    source = ("s3://soporte-telco-demo", "crudo/tickets_2025_01.csv")
    target = (PG_NAMESPACE, "custodia_dbt.soporte.tickets_etiquetados")
    (tmp_path / "home").mkdir()

    result = run(
        [sys.executable, "-c", CLIENT_SCRIPT, *job, *source, *target],
        env=client_env(tmp_path / "home", live_server.url, token, **extra),
        cwd=tmp_path,
        timeout=120,
    )

    assert result.returncode == 0, f"the client failed:\n{result.stdout}\n{result.stderr}"
    used = json.loads(result.stdout.splitlines()[0])
    assert used["compression"] == ("" if variant == "plain" else "gzip"), used
    nodes = query_lineage(live_server.url, token, job_id(*job), depth=2)
    assert_job_edges(nodes, job_id(*job), inputs={dataset_id(*source)}, outputs={dataset_id(*target)})


@pytest.mark.parametrize("credential", ["unknown", "read-only", "revoked"])
def test_python_client_fails_with_a_token_that_may_not_write(
    live_server: Any, personas: Any, tmp_path: Path, credential: str
) -> None:
    token = {
        "unknown": "not-a-custodia-token",
        "read-only": personas.read_token,
        "revoked": personas.revoked_token,
    }[credential]
    job = ("custodia-tests", "etiquetar_tickets_sin_permiso")
    (tmp_path / "home").mkdir()

    result = run(
        [sys.executable, "-c", CLIENT_SCRIPT, *job, "s3://soporte-telco-demo", "crudo/a.csv", PG_NAMESPACE, "x.y.z"],
        env=client_env(tmp_path / "home", live_server.url, token),
        cwd=tmp_path,
        timeout=120,
    )

    assert result.returncode != 0, "the client should have failed"
    # requests' message for a 401/403; a 5xx would have been retried and read differently.
    assert re.search(r"\b40[13] Client Error", result.stderr), result.stderr[-2000:]
    url = f"{live_server.url}/api/v1/lineage?{urlencode({'nodeId': job_id(*job), 'depth': 1})}"
    request = Request(url, headers={"Authorization": f"Bearer {personas.write_token}"})
    try:
        with urlopen(request, timeout=30) as response:
            graph = json.loads(response.read())["graph"]
    except HTTPError as error:
        assert error.code == 404, f"unexpected answer {error.code} for a job that was never stored"
    else:
        assert job_id(*job) not in {node["id"] for node in graph}, "a rejected event was stored"


# (b) dbt-ol ---------------------------------------------------------------------------------


@pytest.fixture
def dbt_schema() -> Iterator[str]:
    """A fresh schema in the dbt database (created if missing), dropped afterwards."""
    if not (DBT_BIN / "dbt-ol").exists():
        pytest.fail(f"dbt-ol is not installed in {DBT_BIN.parent}: run `make dbt-venv`.")
    server = {k: v for k, v in PG.items() if k != "dbname"}
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=10, **server) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG["dbname"]]).fetchone():
                # Another test run may create it meanwhile.
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                    conn.execute(f'CREATE DATABASE "{PG["dbname"]}"')
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL for dbt is not reachable at {PG['host']}:{PG['port']}: {error}")
    schema = f"lineage_{uuid.uuid4().hex[:12]}"
    try:
        yield schema
    finally:
        with psycopg.connect(dbname=PG["dbname"], autocommit=True, connect_timeout=10, **server) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def relation_name(node: dict[str, Any]) -> str:
    table = node["identifier"] if node["resource_type"] == "source" else node["alias"]
    return ".".join(part for part in (node["database"], node["schema"], table) if part)


def test_dbt_ol_run_shows_every_model_and_seed_with_inputs_and_outputs(
    live_server: Any, personas: Any, tmp_path: Path, dbt_schema: str
) -> None:
    token = personas.write_token
    target_path = tmp_path / "target"
    (tmp_path / "home").mkdir()
    env = client_env(tmp_path / "home", live_server.url, token)
    env["PATH"] = f"{DBT_BIN}{os.pathsep}{env['PATH']}"  # dbt-ol runs `dbt` from PATH
    env.update({f"CUSTODIA_DBT_{key.upper()}": value for key, value in PG.items()})
    env["CUSTODIA_DBT_SCHEMA"] = dbt_schema
    paths = ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    paths += ["--target-path", str(target_path), "--log-path", str(tmp_path / "logs")]

    seeded = run(["dbt", "seed", *paths], env=env, cwd=tmp_path, timeout=300)
    assert seeded.returncode == 0, f"dbt seed failed:\n{seeded.stdout}\n{seeded.stderr}"
    ran = run(["dbt-ol", "run", *paths], env=env, cwd=tmp_path, timeout=600)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, f"dbt-ol run failed:\n{output}"

    manifest = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
    by_id = {**manifest["nodes"], **manifest["sources"]}
    models = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    seeds = [node for node in manifest["nodes"].values() if node["resource_type"] == "seed"]
    assert models and seeds, "the dbt project should have models and seeds"
    # dbt-ol swallows failed POSTs, so check its own account first: wrapper START/COMPLETE + 2 per model.
    emit_failures = [line for line in output.splitlines() if "failed to emit" in line]
    assert not emit_failures, "dbt-ol could not post its events:\n" + "\n".join(emit_failures[:4])
    assert f"Emitted {2 + 2 * len(models)} OpenLineage events" in output, output[-3000:]

    expected: dict[str, tuple[set[str], set[str]]] = {}
    for uid, node in models.items():
        job = job_id(DBT_JOB_NAMESPACE, f"{node['database']}.{node['schema']}.{uid.removeprefix('model.')}")
        inputs = {dataset_id(PG_NAMESPACE, relation_name(by_id[p])) for p in manifest["parent_map"][uid]}
        expected[job] = (inputs, {dataset_id(PG_NAMESPACE, relation_name(node))})
    leaves = [uid for uid in models if not any(child.startswith("model.") for child in manifest["child_map"][uid])]
    start = dataset_id(PG_NAMESPACE, relation_name(models[leaves[0]]))

    nodes = query_lineage(live_server.url, token, start, depth=2 * len(models) + 1)

    for job, (inputs, outputs) in expected.items():
        assert_job_edges(nodes, job, inputs, outputs)
    for seed in seeds:
        seed_dataset = dataset_id(PG_NAMESPACE, relation_name(seed))
        readers = {job for job, (inputs, _) in expected.items() if seed_dataset in inputs}
        assert readers, f"no model reads the seed {seed['name']} (read seeds through a source)"
        assert seed_dataset in nodes, f"seed {seed_dataset} is missing from the graph"
        assert {destination for _, destination in edges(nodes[seed_dataset], "outEdges")} == readers
    # One edge written out by hand, so that a wrong derivation above cannot pass unnoticed.
    clientes = dataset_id(PG_NAMESPACE, f"{PG['dbname']}.{dbt_schema}.clientes")
    joined = job_id(DBT_JOB_NAMESPACE, f"{PG['dbname']}.{dbt_schema}.custodia_soporte.tickets_con_cliente")
    assert (clientes, joined) in edges(nodes[joined], "inEdges")
