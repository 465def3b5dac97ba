"""Dataset versions with an uploaded file: profiled on arrival, clear errors for a bad file."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from registry.models import DatasetVersion
from tests.ui.conftest import create_urls
from trail.models import AuditEntry


def test_uploading_a_malformed_csv_shows_a_clear_error_and_creates_no_version(
    catalogue, contributor: Client, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    entries = AuditEntry.objects.count()
    bad = SimpleUploadedFile("tickets.csv", b"id,channel,text\n1,web,hello\n2,phone\n", content_type="text/csv")
    response = contributor.post(
        create_urls(catalogue)["datasetversion"], {"file": bad, "origin": "collected", "format": "other"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-file"' in body
    assert "Line 3 of the CSV file has 2 fields but the header has 3." in body
    assert DatasetVersion.objects.filter(dataset=catalogue.dataset).count() == 1
    assert AuditEntry.objects.count() == entries
    assert not any(tmp_path.rglob("*.csv")), "no file is kept for a refused upload"


def test_uploading_a_csv_profiles_it_into_the_new_version(catalogue, contributor: Client, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    good = SimpleUploadedFile("tickets.csv", b"id,channel\n1,web\n2,phone\n3,chat\n", content_type="text/csv")
    response = contributor.post(
        create_urls(catalogue)["datasetversion"], {"file": good, "origin": "collected", "format": "other"}
    )
    assert response.status_code == 302
    version = DatasetVersion.objects.get(dataset=catalogue.dataset, number=2)
    assert version.row_count == 3 and version.format == "csv"
    assert version.column_schema == [{"name": "id", "type": "integer"}, {"name": "channel", "type": "string"}]
    assert len(version.sha256) == 64
    page = contributor.get(response["Location"]).content.decode()
    assert 'data-testid="column-schema"' in page and version.sha256 in page


def test_a_version_needs_a_location_or_a_file(catalogue, contributor: Client) -> None:
    response = contributor.post(create_urls(catalogue)["datasetversion"], {"origin": "collected", "format": "csv"})
    assert 'data-testid="error-uri"' in response.content.decode()
