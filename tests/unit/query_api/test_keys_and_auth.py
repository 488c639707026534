"""API keys: stored hashed, checked in constant time, scopes kept, revocation honoured."""

import asyncio
import threading
import time

import pytest

from etawatch.query_api.application.auth import Authenticator, create_key
from etawatch.query_api.domain.keys import (
    MalformedToken,
    Scope,
    StoredKey,
    hash_secret,
    secret_matches,
    split_token,
)


class Keys:
    def __init__(self) -> None:
        self.keys: dict[str, StoredKey] = {}
        self.lookups = 0

    def add(self, key: StoredKey) -> None:
        self.keys[key.key_id] = key

    def get(self, key_id: str) -> StoredKey | None:
        self.lookups += 1
        return self.keys.get(key_id)

    def revoke(self, key_id: str) -> bool:
        key = self.keys[key_id]
        self.keys[key_id] = StoredKey(key.key_id, key.scopes, key.hash, key.label, revoked=True)
        return True


def test_the_secret_is_not_stored_and_only_it_matches() -> None:
    stored = hash_secret("s3cret")
    assert "s3cret" not in stored
    assert secret_matches("s3cret", stored)
    assert not secret_matches("s3cret!", stored)
    assert not secret_matches("s3cret", "md5$abc")


@pytest.mark.parametrize(
    "token", ["", "etw", "etw_", "etw_short_x", "abc_0123456789ab_x", "etw_0123456789ab_"]
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(MalformedToken):
        split_token(token)


def test_a_key_has_its_scopes_and_a_checked_key_is_remembered() -> None:
    keys = Keys()
    token = create_key(keys, {Scope.READ}, "shop")
    auth = Authenticator(keys, ttl=60)
    assert auth.cached(token) is None
    assert auth.verify(token) == frozenset({Scope.READ})
    assert auth.cached(token) == frozenset({Scope.READ})
    key_id = split_token(token)[0]
    assert keys.keys[key_id].label == "shop"
    assert auth.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert auth.verify("etw_ffffffffffff_nothing") is None


def test_a_revoked_key_stops_working_once_its_cache_expires() -> None:
    keys = Keys()
    token = create_key(keys, {Scope.READ, Scope.WRITE})
    auth = Authenticator(keys, ttl=0)
    assert auth.verify(token) is not None
    keys.revoke(split_token(token)[0])
    assert auth.cached(token) is None
    assert auth.verify(token) is None


async def test_requests_that_bring_a_token_at_once_share_one_check() -> None:
    keys = Keys()
    token = create_key(keys, {Scope.READ}, "shop")
    other = create_key(keys, {Scope.WRITE}, "warehouse")
    auth = Authenticator(keys, ttl=60)
    asked = [token] * 20 + [other] * 5 + ["etw_ffffffffffff_nothing"] * 5
    answers = await asyncio.gather(*map(auth.scopes, asked))
    assert answers == [frozenset({Scope.READ})] * 20 + [frozenset({Scope.WRITE})] * 5 + [None] * 5
    assert keys.lookups == 3  # one check per token, not thirty
    assert await auth.scopes(token) == frozenset({Scope.READ})
    assert keys.lookups == 3  # remembered


async def test_a_caller_that_gives_up_does_not_cancel_the_shared_check() -> None:
    keys = Keys()
    token = create_key(keys, {Scope.READ}, "shop")
    auth = Authenticator(keys, ttl=60)
    first, second = asyncio.create_task(auth.scopes(token)), asyncio.create_task(auth.scopes(token))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == frozenset({Scope.READ})
    with pytest.raises(asyncio.CancelledError):
        await first
    assert keys.lookups == 1


async def test_a_forgotten_token_is_checked_again_and_a_revoked_one_then_refused() -> None:
    keys = Keys()
    token = create_key(keys, {Scope.READ}, "shop")
    auth = Authenticator(keys, ttl=0)
    assert await auth.scopes(token) == frozenset({Scope.READ})
    keys.revoke(split_token(token)[0])
    assert await auth.scopes(token) is None
    assert keys.lookups == 2


class SlowKeys(Keys):
    """Keys whose lookups take a while and count how many run at the same time."""

    def __init__(self) -> None:
        super().__init__()
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def get(self, key_id: str) -> StoredKey | None:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(0.01)
        with self._lock:
            self.running -= 1
        return super().get(key_id)


@pytest.mark.parametrize("at_once", [1, 2])
async def test_wrong_secrets_take_turns_and_a_remembered_key_does_not_wait(at_once: int) -> None:
    keys = SlowKeys()
    token = create_key(keys, {Scope.READ}, "shop")
    key_id = split_token(token)[0]
    auth = Authenticator(keys, ttl=60, checks_at_once=at_once)
    assert await auth.scopes(token) == frozenset({Scope.READ})
    wrong = [f"etw_{key_id}_wrong{n}" for n in range(8)]
    checks = asyncio.gather(*map(auth.scopes, wrong))
    await asyncio.sleep(0)
    assert await auth.scopes(token) == frozenset({Scope.READ})  # remembered: no turn taken
    assert await checks == [None] * 8
    assert keys.most_at_once == at_once
    assert keys.lookups == 9


def test_checks_at_once_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Authenticator(Keys(), checks_at_once=0)
