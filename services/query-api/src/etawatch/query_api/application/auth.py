"""Who may do what: a bearer token checked once against its hash, then remembered a while."""

import asyncio
import hashlib
import time
from typing import Protocol

from etawatch.query_api.domain.keys import (
    MalformedToken,
    Scope,
    StoredKey,
    hash_secret,
    new_token,
    secret_matches,
    split_token,
)


class KeyStore(Protocol):
    def add(self, key: StoredKey) -> None: ...

    def get(self, key_id: str) -> StoredKey | None: ...

    def revoke(self, key_id: str) -> bool: ...


def create_key(store: KeyStore, scopes: set[Scope], label: str = "") -> str:
    """Store a new key and return its token: the only time the secret is seen."""
    key_id, secret, token = new_token()
    store.add(
        StoredKey(key_id=key_id, scopes=frozenset(scopes), hash=hash_secret(secret), label=label)
    )
    return token


class Authenticator:
    """Checks tokens. A token that passed is remembered (by its SHA-256) for ``ttl`` seconds.

    At most ``checks_at_once`` tokens are checked at a time (each is a scrypt hash, about 50 ms
    of CPU): requests with wrong secrets, however many, cannot take more of the server than
    that, while callers with remembered keys are answered as before; the others wait their
    turn."""

    def __init__(self, store: KeyStore, ttl: float = 60.0, checks_at_once: int = 1) -> None:
        if checks_at_once < 1:
            raise ValueError("checks_at_once must be at least 1")
        self.store = store
        self.ttl = ttl
        self.checks_at_once = checks_at_once
        self._known: dict[bytes, tuple[float, frozenset[Scope]]] = {}
        self._checking: dict[bytes, asyncio.Future[frozenset[Scope] | None]] = {}
        self._turns = asyncio.Semaphore(checks_at_once)

    def cached(self, token: str) -> frozenset[Scope] | None:
        hit = self._known.get(hashlib.sha256(token.encode()).digest())
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    async def scopes(self, token: str) -> frozenset[Scope] | None:
        """``verify``, remembered, and off the event loop: a token's check (a scrypt hash,
        about 50 ms of CPU) is made once however many requests bring the token meanwhile. All
        of a busy client's connections used to check it at once, whenever it was forgotten:
        a second and more of every answer's time, once a ``ttl``."""
        scopes = self.cached(token)
        if scopes is not None:
            return scopes
        digest = hashlib.sha256(token.encode()).digest()
        checking = self._checking.get(digest)
        if checking is None:
            checking = asyncio.ensure_future(self._check_in_turn(token))
            self._checking[digest] = checking
            checking.add_done_callback(lambda _: self._checking.pop(digest, None))
        return await asyncio.shield(checking)  # a caller that gives up leaves it to the rest

    async def _check_in_turn(self, token: str) -> frozenset[Scope] | None:
        async with self._turns:
            return await asyncio.to_thread(self.verify, token)

    def verify(self, token: str) -> frozenset[Scope] | None:
        """The token's scopes, or ``None`` when it is not a valid, unrevoked key."""
        try:
            key_id, secret = split_token(token)
        except MalformedToken:
            return None
        key = self.store.get(key_id)
        if key is None or key.revoked or not secret_matches(secret, key.hash):
            return None
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[hashlib.sha256(token.encode()).digest()] = (
            time.monotonic() + self.ttl,
            key.scopes,
        )
        return key.scopes
