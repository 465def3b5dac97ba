"""Shared personas: owners, a team member, a read-only auditor, an outsider, pipeline tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from access.actors import Actor
from access.choices import Role, TokenScope
from access.models import Team
from access.services import do_create_api_token, do_create_team, do_set_membership, do_set_role
from registry.models import AISystem, Dataset, Model, Prompt, SyntheticGenerator
from registry.services import (
    do_add_component,
    do_create_asset,
    do_create_dataset_version,
    do_create_generator_version,
    do_create_model_version,
    do_create_prompt_version,
)

SYSTEM = Actor.for_system("tests")
PASSWORD = "correct-horse-battery-staple"


@dataclass
class Personas:
    team: Team  # "alpha": the team that owns the test assets
    other_team: Team  # "beta": the outsider's team
    admin: User
    officer: User
    contributor: User
    auditor: User
    outsider: User
    read_token: str
    write_token: str
    revoked_token: str

    def actor(self, user: User) -> Actor:
        return Actor(user=user)

    def client(self, user: User | None = None, token: str | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        if token is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client


def make_user(username: str, role: str, teams: list[Team]) -> User:
    user = User.objects.create_user(username, email=f"{username}@example.org", password=PASSWORD)
    do_set_role(actor=SYSTEM, user=user, role=role)
    for team in teams:
        do_set_membership(actor=SYSTEM, team=team, user=user, member=True)
    return user


@pytest.fixture
def personas(db: Any) -> Personas:
    from access.services import do_revoke_api_token

    alpha = do_create_team(actor=SYSTEM, slug="alpha", name="Alpha")
    beta = do_create_team(actor=SYSTEM, slug="beta", name="Beta")
    admin = make_user("admin", Role.ADMIN, [alpha])
    officer = make_user("officer", Role.OFFICER, [alpha])
    contributor = make_user("contributor", Role.CONTRIBUTOR, [alpha])
    auditor = make_user("auditor", Role.AUDITOR, [alpha])
    outsider = make_user("outsider", Role.CONTRIBUTOR, [beta])
    read = do_create_api_token(actor=Actor(user=contributor), team=alpha, name="read", scope=TokenScope.READ)
    write = do_create_api_token(actor=Actor(user=contributor), team=alpha, name="write", scope=TokenScope.WRITE)
    revoked = do_create_api_token(actor=Actor(user=contributor), team=alpha, name="old", scope=TokenScope.WRITE)
    do_revoke_api_token(actor=Actor(user=contributor), token=revoked.token)
    return Personas(alpha, beta, admin, officer, contributor, auditor, outsider, read.key, write.key, revoked.key)


@dataclass
class Catalogue:
    system: AISystem
    dataset: Dataset
    dataset_version: Any
    generator: SyntheticGenerator
    generator_version: Any
    synthetic_version: Any
    model: Model
    model_version: Any
    prompt: Prompt
    prompt_version: Any


@pytest.fixture
def catalogue(personas: Personas) -> Catalogue:
    """One asset of each kind owned by team alpha, wired into an AI system."""
    actor = Actor(user=personas.contributor)
    team = personas.team
    dataset = do_create_asset(Dataset, actor=actor, data={"name": "Tickets", "owner_team": team}, tags=["pii"])
    dv = do_create_dataset_version(
        dataset,
        actor=actor,
        data={"uri": "s3://bucket/tickets.csv", "origin": "collected", "contains_personal_data": True, "format": "csv"},
    )
    generator = do_create_asset(SyntheticGenerator, actor=actor, data={"name": "Ticket synth", "owner_team": team})
    gv = do_create_generator_version(
        generator, actor=actor, data={"method": "llm_prompting", "parameters": {"n": 100}}, training_datasets=[dv]
    )
    synthetic = do_create_asset(Dataset, actor=actor, data={"name": "Synthetic tickets", "owner_team": team})
    sv = do_create_dataset_version(
        synthetic, actor=actor, data={"uri": "s3://bucket/synth.jsonl", "origin": "synthetic", "generator_version": gv}
    )
    model = do_create_asset(
        Model, actor=actor, data={"name": "Support LLM", "owner_team": team, "provider": "in-house"}
    )
    mv = do_create_model_version(model, actor=actor, data={"base_model": "llama-3.1-8b"}, training_datasets=[dv])
    prompt = do_create_asset(Prompt, actor=actor, data={"name": "System prompt", "owner_team": team})
    pv = do_create_prompt_version(
        prompt, actor=actor, data={"template": "Hello {{ customer }}", "commit_message": "first", "model_version": mv}
    )
    system = do_create_asset(
        AISystem,
        actor=actor,
        data={"name": "Support chatbot", "owner_team": team, "purpose": "Answer customers", "risk_class": "limited"},
    )
    do_add_component(system, actor=actor, role="knowledge_base", part=dv)
    do_add_component(system, actor=actor, role="primary_model", part=mv)
    do_add_component(system, actor=actor, role="system_prompt", part=pv)
    return Catalogue(system, dataset, dv, generator, gv, sv, model, mv, prompt, pv)
