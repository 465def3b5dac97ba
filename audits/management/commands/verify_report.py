"""``manage.py verify_report <file.pdf>``: is this PDF, byte for byte, a report Custodia generated?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.reports.services import verify_pdf


class Command(BaseCommand):
    help = "Check a report PDF against the stored reports; exit code 0 only when it matches one exactly."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pdf", type=Path, help="The PDF file to check.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["pdf"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from None
        result = verify_pdf(data)
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {result.message}"))
            return
        raise CommandError(f"NOT VERIFIED ({result.status}): {result.message}")
