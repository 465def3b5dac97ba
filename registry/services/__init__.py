"""One function per state change of the registry, used by UI, API, admin, commands and tasks.

Each takes the acting principal as ``actor=``, checks it may act, writes the change and its
audit-trail entry in one transaction, and re-checks scope inside that transaction.
"""

from registry.services.assets import do_create_asset, do_delete_asset, do_update_asset
from registry.services.components import do_add_component, do_remove_component
from registry.services.errors import InUseError, NotVisible
from registry.services.lifecycle import do_transition_model_version
from registry.services.prompts import do_delete_prompt_alias, do_set_prompt_alias, parse_template_variables
from registry.services.versions import (
    do_create_dataset_version,
    do_create_generator_version,
    do_create_model_version,
    do_create_prompt_version,
    do_delete_version,
    do_update_version_metadata,
)

__all__ = [
    "InUseError",
    "NotVisible",
    "do_add_component",
    "do_create_asset",
    "do_create_dataset_version",
    "do_create_generator_version",
    "do_create_model_version",
    "do_create_prompt_version",
    "do_delete_asset",
    "do_delete_prompt_alias",
    "do_delete_version",
    "do_remove_component",
    "do_set_prompt_alias",
    "do_transition_model_version",
    "do_update_asset",
    "do_update_version_metadata",
    "parse_template_variables",
]
