"""The diff page compares any two versions of a prompt, line by line."""

from __future__ import annotations

from django.test import Client

from access.actors import Actor
from registry.services import do_create_prompt_version
from tests.ui.conftest import url


def make_versions(catalogue):
    actor = Actor(user=catalogue.prompt.created_by)
    v2 = do_create_prompt_version(
        catalogue.prompt,
        actor=actor,
        data={"template": "Hello {{ customer }}\nBe brief.\nNever ask for passwords.", "commit_message": "rules"},
    )
    v3 = do_create_prompt_version(
        catalogue.prompt,
        actor=actor,
        data={"template": "Good morning {{ customer }}\nNever ask for passwords.", "commit_message": "tone"},
    )
    return catalogue.prompt_version, v2, v3


def test_the_diff_page_shows_inserted_and_deleted_lines(catalogue, contributor: Client) -> None:
    _v1, v2, v3 = make_versions(catalogue)
    page = contributor.get(url("registry:prompt_diff", uuid=catalogue.prompt.uuid), {"old": v2.uuid, "new": v3.uuid})
    body = page.content.decode()
    assert page.status_code == 200
    assert '<tr class="diff__row diff__row--delete">' in body and "<del>Hello {{ customer }}</del>" in body
    assert "<del>Be brief.</del>" in body
    assert '<tr class="diff__row diff__row--insert">' in body and "<ins>Good morning {{ customer }}</ins>" in body
    assert '<td class="diff__text">Never ask for passwords.</td>' in body
    assert "1 line added" in body and "2 lines removed" in body


def test_any_two_versions_can_be_compared_in_either_order(catalogue, contributor: Client) -> None:
    v1, v2, v3 = make_versions(catalogue)
    diff = url("registry:prompt_diff", uuid=catalogue.prompt.uuid)
    body = contributor.get(diff, {"old": v3.uuid, "new": v1.uuid}).content.decode()
    assert "<ins>Hello {{ customer }}</ins>" in body and "<del>Good morning {{ customer }}</del>" in body
    # Without a choice, the latest version is compared with its parent.
    body = contributor.get(diff).content.decode()
    assert f'<option value="{v3.uuid}" selected>' in body and f'<option value="{v2.uuid}" selected>' in body


def test_a_version_of_another_prompt_is_404_on_the_diff_page(catalogue, personas, contributor: Client) -> None:
    from registry.models import Prompt
    from registry.services import do_create_asset

    actor = Actor(user=personas.contributor)
    other = do_create_asset(Prompt, actor=actor, data={"name": "Other", "owner_team": personas.team})
    foreign = do_create_prompt_version(other, actor=actor, data={"template": "x", "commit_message": "x"})
    diff = url("registry:prompt_diff", uuid=catalogue.prompt.uuid)
    assert contributor.get(diff, {"old": foreign.uuid, "new": catalogue.prompt_version.uuid}).status_code == 404


def test_the_prompt_version_page_shows_template_variables_settings_and_aliases(catalogue, contributor: Client) -> None:
    from registry.services import do_set_prompt_alias

    _v1, v2, _v3 = make_versions(catalogue)
    do_set_prompt_alias(catalogue.prompt, actor=Actor(user=catalogue.prompt.created_by), name="production", version=v2)
    body = contributor.get(url("registry:promptversion_detail", uuid=v2.uuid)).content.decode()
    assert '<td class="lines__no">3</td><td class="lines__text">Never ask for passwords.</td>' in body
    assert '<code class="var">customer</code>' in body
    assert '<span class="chip chip--alias">production</span>' in body
    assert 'data-testid="diff-parent-button"' in body and f"old={catalogue.prompt_version.uuid}" in body
