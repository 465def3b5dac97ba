from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trail.services import verify_chain


class Command(BaseCommand):
    help = "Checks the hash chain of the audit trail; exits non-zero naming the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain()
        if result.broken is not None:
            broken = result.broken
            raise CommandError(f"Audit trail broken at entry #{broken.seq}: {broken.reason}.")
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {result.checked} entries verified."))
