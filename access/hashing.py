"""API token generation and hashing.

Tokens carry 256 bits of randomness, so a single SHA-256 (as GitHub does for its tokens) is
enough to store them safely; a slow password hash would only slow every API request.
"""

import hashlib
import secrets

TOKEN_PREFIX = "cus_"  # noqa: S105 - a public marker, not a secret


def new_token_key() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
