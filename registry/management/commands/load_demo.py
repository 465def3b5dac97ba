from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry.demo import DEMO_PASSWORD, DEMO_USERS, SYSTEM, load_demo
from registry.signals import demo_loaded


class Command(BaseCommand):
    help = (
        "Loads the demo: the support chatbot of the telecom provider UnaEmpresa, its datasets, models and "
        "prompts, and four users (admin, officer, contributor, auditor). Never loads it twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Only load the demo into a registry that has no AI systems yet.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_demo(if_empty=options["if_empty"])
        if not result.created:
            self.stdout.write(result.message)
            return
        assert result.system is not None
        # Apps above the registry add their part of the demo (lineage: the pipeline's runs).
        demo_loaded.send(sender=self.__class__, team=result.system.owner_team, actor=SYSTEM)
        self.stdout.write(self.style.SUCCESS(result.message))
        logins = ", ".join(username for username, _role, _name in DEMO_USERS)
        self.stdout.write(f"Demo logins: {logins} (password: {DEMO_PASSWORD})")
