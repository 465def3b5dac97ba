"""The PII check's targets, bad inputs, offline operation, masking and verdicts."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from audits.checks import pii

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = pii.PiiSettings()
SAMPLE = (
    "Hola, soy cliente. Mi DNI es 12345678Z y mi móvil es el 612 345 678.\n"
    "Write to jane.doe@example.org or visit https://www.example.org/help please.\n"
    "Cuenta IBAN ES91 2100 0418 4502 0005 1332 para la domiciliación.\n"
    "Nothing personal on this line at all.\n"
)
RAW_VALUES = ["12345678Z", "612 345 678", "jane.doe@example.org", "ES91 2100 0418 4502 0005 1332", "2100 0418"]


def test_it_scans_a_text_file_per_line_with_record_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "transcript.txt"
    path.write_text(SAMPLE, encoding="utf-8")
    result = pii.judge(pii.scan_text_stream(path, SETTINGS))
    data = result.to_dict()
    assert data["verdict"] == "fail"
    found = {finding["entity"]: finding for finding in data["findings"]}
    assert {"ES_NIF", "PHONE_NUMBER", "EMAIL_ADDRESS", "URL", "IBAN_CODE"} <= found.keys()
    assert found["ES_NIF"]["severity"] == "high" and found["EMAIL_ADDRESS"]["severity"] == "medium"
    assert found["ES_NIF"]["evidence"]["locations"] == [{"record": 0, "offset": SAMPLE.index("12345678Z")}]
    assert found["URL"]["evidence"]["count"] == 1  # not the domain inside the e-mail address
    assert data["metrics"]["records"] == 4


def test_no_raw_personal_data_reaches_the_result(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text(SAMPLE, encoding="utf-8")
    serialised = json.dumps(pii.judge(pii.scan_text_stream(path, SETTINGS)).to_dict(), ensure_ascii=False)
    for value in RAW_VALUES:
        assert value not in serialised
    assert "Hola" not in serialised  # capitalised words (possible names) are cut to their initial


def test_masks_keep_only_a_little_of_the_value() -> None:
    assert pii.mask("jane.doe@example.org", "EMAIL_ADDRESS") == "j***@e***.org"
    assert pii.mask("12345678Z", "ES_NIF") == "******78Z"
    assert pii.mask("28013", "ES_POSTCODE") == "*****"
    assert pii.mask("+34 612 345 678", "PHONE_NUMBER") == "+** *** *** 678"


def test_it_scans_tables_per_column_with_row_and_column(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "email": ["ana@correo.es", "luis@empresa.com", None],
            "phone": [612345678, 699111222, 912345678],
            "amount": [1.5, 2.25, 3.0],
            "comment": ["sin datos", "llamar al 612 345 678", "todo bien"],
        }
    )
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    partial = pii.scan_table(path, SETTINGS)
    assert partial.columns["email"]["main_entity"] == "EMAIL_ADDRESS"
    assert partial.columns["email"]["entities"] == {"EMAIL_ADDRESS": 2}
    assert partial.columns["phone"]["entities"] == {"PHONE_NUMBER": 3}  # numbers stored as integers too
    assert partial.columns["amount"]["entities"] == {}
    assert partial.samples["EMAIL_ADDRESS"][0]["location"] == {"row": 0, "column": "email", "offset": 0}
    assert partial.columns["amount"]["rows"] == 3


def test_a_column_of_numbers_gives_a_clear_result() -> None:
    frame = pd.DataFrame({"score": [0.1 * index for index in range(1000)], "count": list(range(1000))})
    result = pii.judge(pii.scan_table_chunks([frame], SETTINGS)).to_dict()
    assert result["verdict"] == "pass"
    assert any("score" in note for note in result["notes"])


def test_partials_merge_to_the_whole() -> None:
    lines = SAMPLE.splitlines()
    whole = pii.scan_text_stream(lines, SETTINGS)
    parts = [pii.scan_text_stream(lines[:2], SETTINGS), pii.scan_text_stream(lines[2:], SETTINGS, start_record=2)]
    merged = pii.merge(pii.PiiPartial.from_dict(json.loads(json.dumps(part.to_dict()))) for part in parts)
    assert merged.entities == whole.entities
    assert merged.records == whole.records
    assert pii.judge(merged).to_dict() == pii.judge(whole).to_dict()


def test_jsonl_records_are_located_by_record_and_field(tmp_path: Path) -> None:
    path = tmp_path / "outputs.jsonl"
    rows = [{"prompt": "hola", "output": {"text": "Mi correo es ana@correo.es"}}, {"output": {"text": "nada"}}]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\nnot json\n", encoding="utf-8")
    partial = pii.scan_text_stream(path, SETTINGS, fmt="jsonl")
    assert partial.samples["EMAIL_ADDRESS"][0]["location"] == {"record": 0, "field": "output.text", "offset": 13}
    assert any("not valid JSON" in note for note in partial.notes)


def test_prompts_are_scanned_in_template_and_examples() -> None:
    partial = pii.scan_prompt("Eres un asistente amable.", ["Cliente: mi DNI es 12345678Z"])
    assert partial.samples["ES_NIF"][0]["location"] == {"part": "example 1", "offset": 19}


def test_allow_list_and_deny_list_are_applied() -> None:
    settings = pii.PiiSettings(allow_list=("@custodia.example",), deny_list=("Proyecto Fénix",))
    text = "Soporte: help@custodia.example. Cliente: ana@correo.es. Sobre el proyecto fénix no hablamos."
    hits = pii.scan_text(text, settings, language="es")
    assert [(hit.entity, text[hit.start : hit.end]) for hit in hits] == [
        ("EMAIL_ADDRESS", "ana@correo.es"),
        ("DENY_LIST", "proyecto fénix"),
    ]


def test_the_result_says_which_entities_were_not_checked() -> None:
    result = pii.judge(pii.scan_text_stream(["sin datos personales"], SETTINGS)).to_dict()
    assert result["verdict"] == "pass"
    assert [item["entity"] for item in result["not_checked"]] == ["PERSON", "LOCATION"]
    assert "Not checked: PERSON, LOCATION" in " ".join(result["reasons"])


def test_an_empty_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(pii.PiiInputError, match="is empty"):
        pii.scan_text_stream(path, SETTINGS)


def test_a_binary_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 10)
    with pytest.raises(pii.PiiInputError, match="binary data, not text"):
        pii.scan_text_stream(path, SETTINGS)


def test_a_few_undecodable_bytes_are_skipped_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(SAMPLE.encode() + "Se llama José\n".encode("latin-1"))
    partial = pii.scan_text_stream(path, SETTINGS)
    assert "ES_NIF" in partial.entities
    assert any("not valid UTF-8" in note for note in partial.notes)


def test_mostly_undecodable_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(bytes(range(128, 256)) * 100)
    with pytest.raises(pii.PiiInputError, match="not readable text"):
        pii.scan_text_stream(path, SETTINGS)


def test_a_sparse_2_gb_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.log"
    with open(path, "wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: takes no disk, reads as NUL bytes
    tracemalloc.start()
    with pytest.raises(pii.PiiInputError, match="binary data"):
        pii.scan_text_stream(path, SETTINGS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 1024**2


class EndlessText(io.RawIOBase):
    """A 2 GB text stream made on the fly: lines of prose with an e-mail now and then."""

    def __init__(self, size: int = 2 * 1024**3) -> None:
        self.left = size
        self.line = b"Linea de texto sin nada especial, solo palabras y mas palabras para rellenar.\n"
        self.with_email = b"Escribe a persona@correo.es para mas informacion sobre el pedido.\n"
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self.left)
        out = bytearray()
        while len(out) < wanted:
            self.count += 1
            out += self.with_email if self.count % 50 == 0 else self.line
        out = out[:wanted]
        buffer[: len(out)] = out
        self.left -= len(out)
        return len(out)


def test_a_2_gb_stream_is_read_in_bounded_memory_up_to_the_byte_limit() -> None:
    settings = pii.PiiSettings(max_bytes=3 * 1024**2)
    tracemalloc.start()
    partial = pii.scan_text_stream(io.BufferedReader(EndlessText()), settings, name="endless.log")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert partial.truncated and partial.bytes == 3 * 1024**2
    assert any("Only the first 3.1 MB of 'endless.log' were scanned" in note for note in partial.notes)
    assert partial.entities["EMAIL_ADDRESS"]["count"] > 500
    assert peak < 64 * 1024**2
    assert pii.judge(partial).to_dict()["truncated"] is True


def test_a_stream_without_personal_data_cut_at_the_limit_is_inconclusive() -> None:
    partial = pii.scan_text_stream(
        ("solo texto normal sin datos" for _ in range(10**9)), pii.PiiSettings(max_bytes=10_000)
    )
    assert pii.judge(partial).verdict == "inconclusive"


def test_it_runs_with_networking_disabled() -> None:
    # A fresh interpreter, so that importing Presidio, spaCy and tldextract happens with the network cut.
    script = textwrap.dedent(
        """
        import socket, sys
        def refuse(*args, **kwargs):
            raise RuntimeError(f"network access attempted: {args!r}")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        sys.path.insert(0, sys.argv[1])
        from audits.checks import pii
        text = "Mail ana@correo.es, bob@mail.co.uk, web https://www.ejemplo.es y http://sub.example.com.au/x"
        hits = pii.scan_text(text, pii.PiiSettings(), language="es")
        print(sorted({hit.entity for hit in hits}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "['EMAIL_ADDRESS', 'URL']"


def test_bad_settings_are_refused_with_clear_messages() -> None:
    with pytest.raises(pii.PiiInputError, match="Spanish"):
        pii.PiiSettings(languages=("fr",))
    with pytest.raises(pii.PiiInputError, match="pinned SHA-256"):
        pii.PiiSettings(ner_model_path="/models/es")
