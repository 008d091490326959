"""Workspace API keys: generated here, stored only as a hash, shown once."""

from __future__ import annotations

import hashlib
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from application.ports import Clock

KEY_PREFIX = "tuco_"
SHOWN_PREFIX_LENGTH = 12


@dataclass(frozen=True)
class ApiKeyRecord:
    prefix: str
    workspace_id: str
    created_at: datetime
    revoked_at: datetime | None


class KeyStore(ABC):
    """Where key hashes live; every lookup reads the store, so a key created or revoked by
    the CLI takes effect at once on every running server."""

    @abstractmethod
    def add(self, key_hash: str, prefix: str, workspace_id: str, created_at: datetime) -> None:
        """Store a new key's hash."""

    @abstractmethod
    def workspace_for(self, key_hash: str) -> str | None:
        """The workspace of a key that exists and is not revoked."""

    @abstractmethod
    def list(self, workspace_id: str) -> list[ApiKeyRecord]:
        """The workspace's keys, oldest first."""

    @abstractmethod
    def revoke(self, prefix: str, key_hash: str | None, revoked_at: datetime) -> int:
        """Revoke the key with this hash, or without a hash every key with this prefix;
        returns how many were revoked."""


def hash_key(key: str) -> str:
    # Keys carry 192 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    def __init__(self, store: KeyStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def create(self, workspace_id: str) -> str:
        key = KEY_PREFIX + secrets.token_urlsafe(24)
        self.store.add(hash_key(key), key[:SHOWN_PREFIX_LENGTH], workspace_id, self.clock.now())
        return key

    def authenticate(self, key: str) -> str | None:
        if not key.startswith(KEY_PREFIX):
            return None
        return self.store.workspace_for(hash_key(key))

    def list(self, workspace_id: str) -> list[ApiKeyRecord]:
        return self.store.list(workspace_id)

    def revoke(self, key_or_prefix: str) -> int:
        whole = len(key_or_prefix) > SHOWN_PREFIX_LENGTH
        key_hash = hash_key(key_or_prefix) if whole else None
        return self.store.revoke(key_or_prefix[:SHOWN_PREFIX_LENGTH], key_hash, self.clock.now())
