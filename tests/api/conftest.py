"""Objects of team beta (the outsider's team), for references alpha's members must not reach."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from access.actors import Actor
from registry.models import Dataset, Model, Prompt, SyntheticGenerator
from registry.services import (
    do_create_asset,
    do_create_dataset_version,
    do_create_generator_version,
    do_create_model_version,
    do_create_prompt_version,
)
from tests.conftest import Personas


@dataclass
class BetaObjects:
    dataset: Dataset
    dataset_version: Any
    generator_version: Any
    model: Model
    model_version: Any
    prompt: Prompt
    prompt_version: Any


@pytest.fixture
def beta(personas: Personas) -> BetaObjects:
    actor = Actor(user=personas.outsider)
    team = personas.other_team
    dataset = do_create_asset(Dataset, actor=actor, data={"name": "Beta data", "owner_team": team}, tags=["beta-only"])
    dv = do_create_dataset_version(dataset, actor=actor, data={"uri": "s3://beta/data.csv"})
    generator = do_create_asset(SyntheticGenerator, actor=actor, data={"name": "Beta synth", "owner_team": team})
    gv = do_create_generator_version(generator, actor=actor, data={"method": "rules"})
    model = do_create_asset(Model, actor=actor, data={"name": "Beta model", "owner_team": team})
    mv = do_create_model_version(model, actor=actor, data={"base_model": "beta-base"})
    prompt = do_create_asset(Prompt, actor=actor, data={"name": "Beta prompt", "owner_team": team})
    pv = do_create_prompt_version(prompt, actor=actor, data={"template": "Beta {{ x }}", "commit_message": "b"})
    return BetaObjects(dataset, dv, gv, model, mv, prompt, pv)
