"""Issue an API token for a pipeline from the command line; prints only the key."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.actors import Actor
from access.choices import TokenScope
from access.models import Team
from access.services import do_create_api_token


class Command(BaseCommand):
    help = (
        "Create an API token acting for USERNAME within one of their teams. Prints only the key "
        "(so it can be captured, e.g. KEY=$(manage.py create_api_token …)); it is not shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--team", required=True, help="slug of a team the user belongs to")
        parser.add_argument("--scope", choices=TokenScope.values, default=TokenScope.READ)
        parser.add_argument("--name", default="", help="what the token is for (default: command line)")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        user = User._default_manager.filter(**{User.USERNAME_FIELD: options["username"]}).first()
        if user is None or not user.is_active:
            raise CommandError(f"No active user “{options['username']}”.")
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"No team “{options['team']}”.")
        name = options["name"] or "command line"
        try:
            issued = do_create_api_token(actor=Actor(user=user), team=team, name=name, scope=options["scope"])
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(issued.key)
