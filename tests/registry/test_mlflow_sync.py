"""Importing from a real MLflow tracking server (full ``mlflow`` 3.17.2 from ``.venv/mlflow``).

One server per module: SQLite backend, artifacts in a temporary folder, its basic-auth app on (so
credentials are real), ``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``. The mlflow venv's python logs
and registers what a team's training code would (``SEED_SCRIPT``): a model with two versions and
an alias, trained on a CSV file that Custodia has registered, and a prompt with two versions.
Later changes upstream are made with mlflow-skinny's ``MlflowClient`` from this process. The
server outlives each test's database, so a test that changes something upstream uses objects no
other test asserts on.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from access.actors import Actor
from registry.choices import MlflowCredentialSource, MlflowSyncStatus, ModelStage
from registry.models import (
    Dataset,
    MlflowModelLink,
    MlflowModelVersionLink,
    MlflowPromptLink,
    MlflowServer,
    Model,
    ModelTrainingData,
    ModelVersion,
    Prompt,
    PromptAlias,
    PromptVersion,
)
from registry.services import do_create_asset, do_create_dataset_version, do_transition_model_version
from tests.conftest import Personas
from trail.models import AuditEntry

MLFLOW_BIN = Path(os.environ.get("CUSTODIA_MLFLOW_VENV", Path(settings.BASE_DIR) / ".venv" / "mlflow")) / "bin"
ADMIN_PASSWORD = "custodia-test-" + secrets.token_hex(8)
STARTUP_TIMEOUT = 90.0
SYNC = "system:mlflow-sync"

SEED_SCRIPT = r"""
import hashlib, json, sys, warnings
from pathlib import Path

warnings.filterwarnings("ignore")
import mlflow
import pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

uri, train_csv = sys.argv[1], Path(sys.argv[2])
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("churn")
client = MlflowClient()
df = pd.read_csv(train_csv)
sha256 = hashlib.sha256(train_csv.read_bytes()).hexdigest()
X, y = df[["tenure", "spend"]], df["churned"]
runs = []
for i, c in enumerate([0.5, 1.0], start=1):
    with mlflow.start_run(run_name=f"train-{i}") as run:
        # MLflow keeps at most 36 characters of a digest: the start of the file's SHA-256.
        train = mlflow.data.from_pandas(
            df, source=train_csv.as_uri(), name="churn-train", digest=sha256[:36], targets="churned"
        )
        mlflow.log_input(train, context="training")
        # MLflow's own digest, and the file's hash as an input tag.
        evaluation = mlflow.data.from_pandas(df.head(5), name="churn-eval")
        mlflow.log_input(evaluation, context="evaluation", tags={"sha256": sha256})
        mlflow.log_input(mlflow.data.from_pandas(df.tail(5), name="churn-holdout"), context="testing")
        mlflow.log_params({"C": c, "solver": "lbfgs"})
        model = LogisticRegression(C=c).fit(X, y)
        mlflow.log_metric("accuracy", float(model.score(X, y)))
        mlflow.log_metric("loss", 0.5 / i, step=0)
        mlflow.log_metric("loss", 0.25 / i, step=1)
        mlflow.set_tag("owner", "alpha")
        # Naming the requirements skips MLflow's inference of them (a subprocess, seconds per model).
        mlflow.sklearn.log_model(
            model, name="model", registered_model_name="churn-classifier", pip_requirements=["scikit-learn"]
        )
        runs.append(run.info.run_id)
client.update_registered_model("churn-classifier", description="Predicts churn")
client.set_registered_model_tag("churn-classifier", "domain", "retention")
client.set_registered_model_alias("churn-classifier", "champion", "2")
client.update_model_version("churn-classifier", "2", description="Retrained with C=1.0")
client.set_model_version_tag("churn-classifier", "2", "validated", "yes")
# A second registered model over the same runs, for the tests that change things upstream.
client.create_registered_model("drift-model")
for run_id in runs:
    client.create_model_version("drift-model", source=f"runs:/{run_id}/model", run_id=run_id)
client.set_registered_model_alias("drift-model", "champion", "1")
mlflow.genai.register_prompt(
    name="support-reply",
    template="Hello {{customer}}, thanks for writing.",
    commit_message="First draft",
    tags={"task": "support"},
)
mlflow.genai.register_prompt(
    name="support-reply",
    template="Dear {{ customer }},\nabout {{topic}}: we are on it.",
    commit_message="More formal",
    model_config={"temperature": 0.2, "model_name": "gpt-x"},
)
mlflow.genai.set_prompt_alias("support-reply", alias="production", version=1)
print(json.dumps({"runs": runs, "sha256": sha256}))
"""


def basic_auth(username: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Upstream:
    uri: str
    runs: list[str]
    train_csv: Path
    sha256: str
    log_path: Path

    def client(self, monkeypatch: pytest.MonkeyPatch) -> Any:
        """mlflow-skinny's client in this process, signed in as MLflow's admin."""
        from mlflow import MlflowClient

        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)


def write_training_csv(path: Path) -> None:
    rows = ["tenure,spend,churned"]
    for i in range(40):
        tenure = (i * 7) % 60 + 1
        rows.append(f"{tenure},{10 + (i * 13) % 90}.5,{int(tenure < 20)}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def wait_until_up(uri: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited ({process.returncode}):\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"mlflow server did not start within {STARTUP_TIMEOUT:.0f} s:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    if not (MLFLOW_BIN / "mlflow").exists():
        pytest.fail(f"mlflow is not installed in {MLFLOW_BIN.parent}: run `make mlflow-venv`.")
    root = tmp_path_factory.mktemp("mlflow")
    auth_ini = root / "basic_auth.ini"
    auth_ini.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{root / 'auth.db'}\n"
        "admin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "grant_default_workspace_access = false\n"
        # Without a cache every request pays a PBKDF2 check: seeding takes three times as long.
        "auth_cache_ttl_seconds = 600\n",
        encoding="utf-8",
    )
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(root),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_AUTH_CONFIG_PATH": str(auth_ini),
        "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
    }
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    log_path = root / "server.log"
    command = [
        str(MLFLOW_BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--app-name",
        "basic-auth",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_up(uri, process, log_path)
        train_csv = root / "churn.csv"
        write_training_csv(train_csv)
        script = root / "seed.py"
        script.write_text(SEED_SCRIPT, encoding="utf-8")
        seeded = subprocess.run(
            [str(MLFLOW_BIN / "python"), str(script), uri, str(train_csv)],
            cwd=root,
            env={**env, "MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert seeded.returncode == 0, f"seeding MLflow failed:\n{seeded.stdout}\n{seeded.stderr[-4000:]}"
        out = json.loads(seeded.stdout.strip().splitlines()[-1])
        yield Upstream(uri, out["runs"], train_csv, out["sha256"], log_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture(autouse=True)
def quick_failures(settings: Any) -> None:
    # A dead server fails at once instead of after MLflow's HTTP retries.
    settings.MLFLOW_SYNC_HTTP_RETRIES = 0
    settings.MLFLOW_SYNC_HTTP_TIMEOUT = 10
    settings.MLFLOW_SYNC_MAX_ATTEMPTS = 2


@pytest.fixture
def eager_celery() -> Iterator[None]:
    from config.celery import app as celery_app

    # The app reads Django's CELERY_* settings: ``conf.task_always_eager = …`` would not stick.
    eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = True
    try:
        yield
    finally:
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = eager


def make_server(personas: Personas, uri: str, **extra: Any) -> MlflowServer:
    fields: dict[str, Any] = {
        "name": "tracking",
        "tracking_uri": uri,
        "auth_source": MlflowCredentialSource.ENVIRONMENT,
        "auth_name": "MLFLOW_CUSTODIA_TEST",
        "owner_team": personas.team,
        **extra,
    }
    return MlflowServer.objects.create(**fields)


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_CUSTODIA_TEST_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_CUSTODIA_TEST_PASSWORD", ADMIN_PASSWORD)


def register_training_data(personas: Personas, upstream: Upstream) -> Any:
    """The CSV the model was trained on, registered in Custodia with its SHA-256 (as a data team would)."""
    actor = Actor(user=personas.contributor)
    dataset = do_create_asset(Dataset, actor=actor, data={"name": "Churn training data", "owner_team": personas.team})
    return do_create_dataset_version(
        dataset, actor=actor, data={"uri": upstream.train_csv.as_uri(), "sha256": upstream.sha256, "format": "csv"}
    )


def sync(server: MlflowServer) -> Any:
    from registry.mlflow.runs import run_sync

    outcome = run_sync(server.pk)
    server.refresh_from_db()
    return outcome


def imported_state() -> dict[str, Any]:
    return {
        "models": sorted(Model.objects.values_list("name", "description")),
        "versions": sorted(ModelVersion.objects.values_list("model__name", "number", "description", "stage")),
        "prompts": sorted(Prompt.objects.values_list("name", "description")),
        "prompt_versions": sorted(PromptVersion.objects.values_list("prompt__name", "number", "template")),
        "aliases": sorted(PromptAlias.objects.values_list("prompt__name", "name", "version__number")),
        "links": sorted(MlflowModelVersionLink.objects.values_list("name", "version", "metrics", "aliases")),
        "training": ModelTrainingData.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


# The import -----------------------------------------------------------------------------------


def test_sync_imports_models_versions_runs_and_prompts_with_their_fields(
    personas: Personas, upstream: Upstream, credentials: None
) -> None:
    training_data = register_training_data(personas, upstream)
    server = make_server(personas, upstream.uri)

    outcome = sync(server)

    assert outcome.status == MlflowSyncStatus.OK, outcome.message
    assert server.status == MlflowSyncStatus.OK
    assert server.last_success_at is not None
    model = Model.objects.get(name="churn-classifier")
    assert model.owner_team == personas.team
    assert model.description == "Predicts churn"
    assert model.mlflow_link.tags == {"domain": "retention"}
    assert model.mlflow_link.aliases == {"champion": 2}
    v1, v2 = model.versions.order_by("number")
    assert (v1.number, v2.number) == (1, 2)
    assert v2.description == "Retrained with C=1.0"
    assert v2.artifact_uri.startswith("models:/")
    assert v1.stage == v2.stage == ModelStage.DRAFT  # importing never approves anything
    link1, link2 = v1.mlflow_link, v2.mlflow_link
    assert (link1.run_id, link2.run_id) == tuple(upstream.runs)
    assert (link1.version, link2.version) == (1, 2)
    assert link2.aliases == ["champion"] and link1.aliases == []
    assert link2.tags == {"validated": "yes"}
    assert link2.metrics == {"accuracy": pytest.approx(link2.metrics["accuracy"]), "loss": 0.125}
    assert 0.5 <= link2.metrics["accuracy"] <= 1.0
    assert link1.metrics["loss"] == 0.25
    assert link1.params == {"C": "0.5", "solver": "lbfgs"} and link2.params["C"] == "1.0"
    assert link2.run_name == "train-2" and link2.run_status == "FINISHED" and link2.run_user == "admin"
    assert link2.run_tags == {"owner": "alpha"}
    assert link2.experiment_id and link2.created_upstream_at is not None
    # Input datasets: matched by hash (the digest's start, or a sha256 input tag); only training data is linked.
    by_name = {row["name"]: row for row in link2.datasets}
    assert by_name["churn-train"]["dataset_version"] == str(training_data.uuid)
    assert by_name["churn-train"]["training"] is True and by_name["churn-train"]["digest"] == upstream.sha256[:36]
    assert by_name["churn-eval"]["dataset_version"] == str(training_data.uuid)
    assert by_name["churn-eval"]["training"] is False and by_name["churn-eval"]["context"] == "evaluation"
    assert by_name["churn-holdout"]["dataset_version"] is None  # MLflow's own 8-character digest matches nothing
    assert list(v2.training_datasets.all()) == [training_data]
    assert list(v1.training_datasets.all()) == [training_data]
    # Prompts.
    prompt = Prompt.objects.get(name="support-reply")
    assert prompt.owner_team == personas.team
    assert prompt.mlflow_link.tags == {"task": "support"}
    p1, p2 = prompt.versions.order_by("number")
    assert p1.template == "Hello {{customer}}, thanks for writing."
    assert p2.template == "Dear {{ customer }},\nabout {{topic}}: we are on it."
    assert p1.variables == ["customer"] and p2.variables == ["customer", "topic"]
    assert (p1.commit_message, p2.commit_message) == ("First draft", "More formal")
    assert p2.model_settings == {"temperature": 0.2, "model_name": "gpt-x"}
    assert p2.parent == p1
    assert p1.mlflow_link.version == 1 and p2.mlflow_link.version == 2
    assert [(a.name, a.version.number) for a in prompt.aliases.all()] == [("production", 1)]
    # Everything was recorded as done by the sync.
    entries = AuditEntry.objects.filter(object_id__in=[str(model.uuid), str(v2.uuid), str(prompt.uuid), str(p2.uuid)])
    assert entries.filter(action="create").count() == 4
    assert set(entries.values_list("actor_label", flat=True)) == {SYNC}
    created_v2 = entries.get(object_id=str(v2.uuid), action="create")
    assert created_v2.team_slug == "alpha"
    assert created_v2.changes["mlflow"]["run_id"] == upstream.runs[1]
    assert created_v2.changes["training_datasets"] == [str(training_data.uuid)]


def test_a_second_sync_changes_nothing(personas: Personas, upstream: Upstream, credentials: None) -> None:
    register_training_data(personas, upstream)
    server = make_server(personas, upstream.uri)
    assert sync(server).status == MlflowSyncStatus.OK
    before = imported_state()

    outcome = sync(server)

    assert outcome.status == MlflowSyncStatus.OK
    assert imported_state() == before
    assert "Nothing changed." in outcome.message
    assert all(key.endswith(" seen") for key in outcome.summary["counts"])


def test_a_dataset_version_registered_later_is_linked_by_the_next_sync(
    personas: Personas, upstream: Upstream, credentials: None
) -> None:
    server = make_server(personas, upstream.uri)
    sync(server)
    version = ModelVersion.objects.get(model__name="churn-classifier", number=2)
    assert not version.training_datasets.exists()

    training_data = register_training_data(personas, upstream)
    sync(server)

    assert list(version.training_datasets.all()) == [training_data]
    entry = AuditEntry.objects.filter(object_id=str(version.uuid), action="update").latest("seq")
    assert entry.actor_label == SYNC
    assert entry.changes["training_datasets"] == {"added": [str(training_data.uuid)]}


# Changes upstream -----------------------------------------------------------------------------


def test_an_alias_moved_upstream_is_recorded_in_the_audit_trail(
    personas: Personas, upstream: Upstream, credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server(personas, upstream.uri)
    sync(server)
    model = Model.objects.get(name="drift-model")
    client = upstream.client(monkeypatch)
    old = client.get_registered_model("drift-model").aliases["champion"]
    new = "2" if old == "1" else "1"

    client.set_registered_model_alias("drift-model", "champion", new)
    client.update_model_version("drift-model", new, description=f"Champion since test {secrets.token_hex(3)}")
    client.set_model_version_tag("drift-model", new, "reviewed", "yes")
    outcome = sync(server)

    assert outcome.status == MlflowSyncStatus.OK, outcome.message
    entry = AuditEntry.objects.filter(object_id=str(model.uuid), action="update").latest("seq")
    assert entry.actor_label == SYNC
    assert entry.team_slug == "alpha"
    assert entry.changes == {"mlflow.alias:champion": {"from": int(old), "to": int(new)}}
    model.mlflow_link.refresh_from_db()
    assert model.mlflow_link.aliases == {"champion": int(new)}
    moved_to = ModelVersion.objects.get(model=model, mlflow_link__version=int(new))
    assert moved_to.mlflow_link.aliases == ["champion"]
    assert moved_to.description.startswith("Champion since test")
    version_entry = AuditEntry.objects.filter(object_id=str(moved_to.uuid), action="update").latest("seq")
    assert version_entry.actor_label == SYNC
    assert version_entry.changes["mlflow.aliases"] == {"from": [], "to": ["champion"]}
    assert version_entry.changes["mlflow.tags"]["reviewed"] == {"from": None, "to": "yes"}
    assert version_entry.changes["description"]["to"] == moved_to.description


def test_what_is_deleted_upstream_is_marked_missing_and_kept(
    personas: Personas, upstream: Upstream, credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = upstream.client(monkeypatch)
    name = f"retired-{secrets.token_hex(3)}"
    client.create_registered_model(name)
    client.create_model_version(name, source=f"runs:/{upstream.runs[0]}/model", run_id=upstream.runs[0])
    client.create_model_version(name, source=f"runs:/{upstream.runs[1]}/model", run_id=upstream.runs[1])
    server = make_server(personas, upstream.uri)
    sync(server)
    model = Model.objects.get(name=name)
    v1 = ModelVersion.objects.get(model=model, number=1)

    client.delete_model_version(name, "1")
    outcome = sync(server)

    assert outcome.status == MlflowSyncStatus.OK
    v1.refresh_from_db()  # still here
    assert v1.mlflow_link.missing_upstream is True and v1.mlflow_link.missing_since is not None
    assert not ModelVersion.objects.get(model=model, number=2).mlflow_link.missing_upstream
    entry = AuditEntry.objects.filter(object_id=str(v1.uuid)).latest("seq")
    assert (entry.actor_label, entry.changes) == (SYNC, {"mlflow.missing_upstream": {"from": False, "to": True}})

    client.delete_registered_model(name)
    sync(server)

    link = MlflowModelLink.objects.get(model=model)
    assert link.missing_upstream is True
    assert ModelVersion.objects.filter(model=model).count() == 2
    assert all(v.mlflow_link.missing_upstream for v in ModelVersion.objects.filter(model=model))
    assert server.last_summary["counts"]["models missing upstream"] == 1


# Write-back -------------------------------------------------------------------------------------


def test_write_back_sets_the_stage_and_check_verdicts_as_mlflow_tags(
    personas: Personas,
    upstream: Upstream,
    credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from registry.mlflow import writeback

    def verdicts(version: Any) -> dict[str, str]:
        return {"bias": "pass"} if version.number == 2 else {}

    writeback.register_verdict_source(verdicts)
    try:
        server = make_server(personas, upstream.uri, write_back=True)
        outcome = sync(server)
        client = upstream.client(monkeypatch)
        tags = client.get_model_version("churn-classifier", "2").tags
        version = ModelVersion.objects.get(model__name="churn-classifier", number=2)
        assert outcome.status == MlflowSyncStatus.OK, outcome.message
        assert tags["custodia.stage"] == "draft"
        assert tags["custodia.check.bias"] == "pass"
        assert tags["custodia.url"].endswith(f"/model-versions/{version.uuid}/")
        assert tags["validated"] == "yes"  # MLflow's own tags are left alone
        entry = AuditEntry.objects.filter(object_id=str(version.uuid)).latest("seq")
        assert entry.actor_label == SYNC and entry.changes["mlflow.write_back"]["custodia.stage"]["to"] == "draft"

        audit_before = AuditEntry.objects.count()
        again = sync(server)
        assert AuditEntry.objects.count() == audit_before, again.message  # nothing new to write

        # A stage change is written back as soon as it commits.
        with django_capture_on_commit_callbacks(execute=True):
            do_transition_model_version(version, actor=Actor(user=personas.contributor), to_stage=ModelStage.IN_REVIEW)
        assert client.get_model_version("churn-classifier", "2").tags["custodia.stage"] == "in_review"
    finally:
        writeback.unregister_verdict_source(verdicts)
        # Leave the upstream versions as the other tests expect them.
        client = upstream.client(monkeypatch)
        for mv in client.search_model_versions():
            for key in mv.tags:
                if key.startswith("custodia."):
                    client.delete_model_version_tag(mv.name, mv.version, key)


def test_a_write_back_mlflow_refuses_leaves_the_import_in_place(
    personas: Personas, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A user of MLflow's basic-auth app who may read everything (the default) but edit nothing.
    password = secrets.token_hex(8)
    request = urllib.request.Request(
        f"{upstream.uri}/api/2.0/mlflow/users/create",
        data=json.dumps({"username": "reader", "password": password}).encode(),
        headers={"Content-Type": "application/json", "Authorization": basic_auth("admin", ADMIN_PASSWORD)},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()
    monkeypatch.setenv("MLFLOW_CUSTODIA_TEST_USERNAME", "reader")
    monkeypatch.setenv("MLFLOW_CUSTODIA_TEST_PASSWORD", password)
    server = make_server(personas, upstream.uri, write_back=True)

    outcome = sync(server)

    assert outcome.status == server.status == MlflowSyncStatus.PARTIAL
    assert "churn-classifier: MLflow refused to set tags" in server.status_message
    assert ModelVersion.objects.filter(model__name="churn-classifier").count() == 2
    assert all(not link.written_tags for link in MlflowModelVersionLink.objects.all())


def test_write_back_is_off_by_default(
    personas: Personas, upstream: Upstream, credentials: None, monkeypatch: Any
) -> None:
    server = make_server(personas, upstream.uri)
    assert server.write_back is False
    sync(server)
    tags = upstream.client(monkeypatch).get_model_version("churn-classifier", "1").tags
    assert not any(key.startswith("custodia.") for key in tags)


# Pages, command, task -------------------------------------------------------------------------


def test_the_model_version_page_shows_its_mlflow_run(personas: Personas, upstream: Upstream, credentials: None) -> None:
    register_training_data(personas, upstream)
    sync(make_server(personas, upstream.uri))
    version = ModelVersion.objects.get(model__name="churn-classifier", number=2)
    client = Client()
    client.force_login(personas.auditor)

    page = client.get(f"/model-versions/{version.uuid}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="mlflow-panel"' in html
    assert f"{upstream.uri}/#/experiments/{version.mlflow_link.experiment_id}/runs/{upstream.runs[1]}" in html
    assert "accuracy" in html and "solver" in html and "lbfgs" in html
    assert "Churn training data" in html  # the matched dataset version, linked
    assert "No registered dataset version has this hash" in html  # churn-holdout
    assert "@champion" in html
    outsider = Client()
    outsider.force_login(personas.outsider)
    assert outsider.get(f"/model-versions/{version.uuid}/").status_code == 404


def test_the_management_command_syncs_and_reports(
    personas: Personas, upstream: Upstream, credentials: None, capsys: Any
) -> None:
    make_server(personas, upstream.uri)
    call_command("sync_mlflow", "--server", "tracking")
    assert "tracking: ok." in capsys.readouterr().out
    assert Model.objects.filter(name="churn-classifier").exists()


def test_the_task_syncs_and_returns_the_outcome(
    personas: Personas, upstream: Upstream, credentials: None, eager_celery: None
) -> None:
    from registry.tasks import sync_mlflow_server

    server = make_server(personas, upstream.uri)
    result = sync_mlflow_server.apply(args=[server.pk]).get()
    assert result["status"] == "ok" and result["server"] == "tracking"
    assert result["counts"]["models seen"] >= 2


# Bad input -------------------------------------------------------------------------------------


def test_wrong_credentials_give_a_clear_status_and_import_nothing(
    personas: Personas, upstream: Upstream, monkeypatch: Any
) -> None:
    monkeypatch.setenv("MLFLOW_CUSTODIA_TEST_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_CUSTODIA_TEST_PASSWORD", "not-the-password")
    server = make_server(personas, upstream.uri)

    outcome = sync(server)

    assert outcome.status == server.status == MlflowSyncStatus.UNAUTHORIZED
    assert "refused the credentials" in server.status_message and upstream.uri in server.status_message
    assert "not-the-password" not in server.status_message
    assert not Model.objects.exists() and not Prompt.objects.exists()
    with pytest.raises(CommandError, match="Could not sync: tracking"):
        call_command("sync_mlflow")


def test_missing_credentials_name_the_variables_to_set(personas: Personas, upstream: Upstream) -> None:
    server = make_server(personas, upstream.uri, auth_name="MLFLOW_NOT_SET_ANYWHERE")
    sync(server)
    assert server.status == MlflowSyncStatus.MISCONFIGURED
    assert "MLFLOW_NOT_SET_ANYWHERE_TOKEN" in server.status_message


def test_credentials_from_a_secret_file(personas: Personas, upstream: Upstream, settings: Any, tmp_path: Path) -> None:
    settings.MLFLOW_SECRETS_DIR = tmp_path
    (tmp_path / "mlflow-test").write_text(f"admin:{ADMIN_PASSWORD}\n", encoding="utf-8")
    server = make_server(personas, upstream.uri, auth_source=MlflowCredentialSource.FILE, auth_name="mlflow-test")

    assert sync(server).status == MlflowSyncStatus.OK
    assert ADMIN_PASSWORD not in json.dumps(list(AuditEntry.objects.values_list("changes", flat=True)))

    (tmp_path / "wrong").write_text("admin:nope", encoding="utf-8")
    MlflowServer.objects.filter(pk=server.pk).update(auth_name="wrong")
    assert sync(server).status == MlflowSyncStatus.UNAUTHORIZED
    MlflowServer.objects.filter(pk=server.pk).update(auth_name="../etc/passwd")
    sync(server)
    assert server.status == MlflowSyncStatus.MISCONFIGURED and "without a path" in server.status_message


def test_an_unreachable_server_is_retried_a_bounded_number_of_times(personas: Personas, eager_celery: None) -> None:
    from registry.tasks import sync_mlflow_server

    server = make_server(personas, f"http://127.0.0.1:{free_port()}", auth_source=MlflowCredentialSource.NONE)

    result = sync_mlflow_server.apply(args=[server.pk]).get()

    server.refresh_from_db()
    assert result["status"] == "unreachable" and result["retry"] is False
    assert "connection refused" in result["message"] and "Gave up after 2 attempts" in result["message"]
    assert server.status == MlflowSyncStatus.UNREACHABLE and server.sync_attempt == 2
    assert server.status_message == result["message"]
    assert not Model.objects.exists()


class NotMlflow(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><body>Not found</body></html>")

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_uri_without_mlflow_says_to_check_the_uri(personas: Personas) -> None:
    other = ThreadingHTTPServer(("127.0.0.1", 0), NotMlflow)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        uri = f"http://127.0.0.1:{other.server_address[1]}/not-mlflow"
        server = make_server(personas, uri, auth_source=MlflowCredentialSource.NONE)
        sync(server)
    finally:
        other.shutdown()
        other.server_close()
    assert server.status == MlflowSyncStatus.MISCONFIGURED
    assert "No MLflow REST API answers" in server.status_message


class DyingProxy:
    """Forwards requests to the MLflow server until told to die: then drops every connection."""

    def __init__(self, upstream: str, die_at_run: int) -> None:
        self.upstream = upstream
        self.die_at_run = die_at_run  # the n-th GET of a run is the first one not answered
        self.runs_asked = 0
        self.dead = False
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self) -> None:
                if "/runs/get" in self.path:
                    proxy.runs_asked += 1
                    if proxy.runs_asked >= proxy.die_at_run:
                        proxy.dead = True
                if proxy.dead:
                    self.close_connection = True
                    return  # no answer at all, as from a process that died
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "accept-encoding", "connection")
                }
                request = urllib.request.Request(
                    proxy.upstream + self.path, data=body, headers=headers, method=self.command
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, content, ctype = response.status, response.read(), response.headers.get("Content-Type")
                except urllib.error.HTTPError as error:
                    status, content, ctype = error.code, error.read(), error.headers.get("Content-Type")
                self.send_response(status)
                self.send_header("Content-Type", ctype or "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PATCH = do_DELETE = forward

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DyingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_server_that_dies_mid_sync_leaves_nothing_half_imported(
    personas: Personas, upstream: Upstream, credentials: None
) -> None:
    # Registered models are read in name order; churn-classifier's two runs are fetched, then the
    # server dies while drift-model is read.
    with DyingProxy(upstream.uri, die_at_run=3) as proxy:
        server = make_server(personas, proxy.uri)
        outcome = sync(server)

        assert outcome.status == server.status == MlflowSyncStatus.UNREACHABLE
        assert "Before that, this sync imported" in server.status_message
        assert "imported whole or not at all" in server.status_message
        # churn-classifier is complete; drift-model and the prompt are not there at all.
        assert sorted(Model.objects.values_list("name", flat=True)) == ["churn-classifier"]
        versions = ModelVersion.objects.filter(model__name="churn-classifier")
        assert versions.count() == 2
        assert all(v.mlflow_link.run_id and v.mlflow_link.metrics for v in versions)
        assert not MlflowPromptLink.objects.exists() and not Prompt.objects.exists()
        assert not MlflowModelLink.objects.filter(missing_upstream=True).exists()  # nothing taken as deleted

        proxy.dead, proxy.die_at_run = False, 10**9  # the server is back
        outcome = sync(server)

    assert outcome.status == MlflowSyncStatus.OK, outcome.message
    assert ModelVersion.objects.filter(model__name="churn-classifier").count() == 2
    assert Model.objects.filter(name="drift-model").exists() and Prompt.objects.filter(name="support-reply").exists()
    assert MlflowModelVersionLink.objects.filter(name="churn-classifier").count() == 2
