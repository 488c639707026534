"""API keys: random bearer tokens with scopes, kept only as scrypt hashes.

A token reads ``etw_<key id>_<secret>``: the key id finds the stored hash, the secret is checked
against it in constant time. The secret itself is shown once, when the key is made.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "etw"
_N, _R, _P = 2**14, 8, 1


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class StoredKey:
    key_id: str
    scopes: frozenset[Scope]
    hash: str
    label: str
    revoked: bool = False


class MalformedToken(ValueError):  # noqa: N818 - says what it is
    pass


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def secret_matches(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(candidate.hex(), digest)


def new_token() -> tuple[str, str, str]:
    """A new key: ``(key_id, secret, token)``."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    return key_id, secret, f"{PREFIX}_{key_id}_{secret}"


def split_token(token: str) -> tuple[str, str]:
    prefix, sep, rest = token.partition("_")
    key_id, sep2, secret = rest.partition("_")
    if prefix != PREFIX or not sep or not sep2 or len(key_id) != 12 or not secret:
        raise MalformedToken("not an etawatch API key")
    return key_id, secret
