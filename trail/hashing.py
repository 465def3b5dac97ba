"""The hash chain over audit-trail entries.

Each entry's hash covers its own recorded fields and the previous entry's hash, so editing,
deleting or inserting any past entry breaks every link after it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_digest(
    *,
    prev_hash: str,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    team_slug: str,
    changes: Any,
    request_id: str,
) -> str:
    payload = canonical_json(
        [
            seq,
            occurred_at.isoformat(timespec="microseconds"),
            actor_id,
            actor_label,
            action,
            object_type,
            object_id,
            object_repr,
            team_slug,
            changes,
            request_id,
        ]
    )
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()
