import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.choices import MlflowSyncStatus
from registry.models import MlflowServer


class Command(BaseCommand):
    help = (
        "Imports registered models, model versions (with their runs) and prompts from the configured MLflow "
        "servers, now, in this process. An unreachable server is tried MLFLOW_SYNC_MAX_ATTEMPTS times. Exits "
        "with an error when a server could not be synced."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--server",
            action="append",
            default=[],
            metavar="NAME",
            help="Sync only this server (repeat for several); by default every enabled server.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from registry.mlflow.runs import max_attempts, run_sync

        servers = MlflowServer.objects.all()
        names = options["server"]
        if names:
            servers = servers.filter(name__in=names)
            unknown = sorted(set(names) - set(servers.values_list("name", flat=True)))
            if unknown:
                raise CommandError(f"No MLflow server named {', '.join(unknown)}.")
            disabled = sorted(servers.filter(enabled=False).values_list("name", flat=True))
            if disabled:
                raise CommandError(f"Disabled MLflow server (enable it to sync): {', '.join(disabled)}.")
        else:
            servers = servers.filter(enabled=True)
        failed = []
        for server in servers.order_by("name"):
            for attempt in range(1, max_attempts() + 1):
                outcome = run_sync(server.pk, attempt=attempt, final=attempt == max_attempts())
                if not outcome.retry:
                    break
                self.stderr.write(f"{server.name}: {outcome.message}")
                time.sleep(min(30, 2**attempt))
            ok = outcome.status in (MlflowSyncStatus.OK, MlflowSyncStatus.PARTIAL)
            line = f"{server.name}: {outcome.status}. {outcome.message}"
            self.stdout.write(self.style.SUCCESS(line) if outcome.status == MlflowSyncStatus.OK else line)
            if not ok:
                failed.append(server.name)
        if not servers.exists():
            self.stdout.write("No enabled MLflow server is configured.")
        if failed:
            raise CommandError(f"Could not sync: {', '.join(failed)}.")
