"""API keys: stored hashed, checked in constant time, scopes kept, revocation honoured."""

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
