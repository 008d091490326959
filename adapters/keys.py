"""API key hashes in SQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from adapters.database import store_errors
from adapters.schema import api_keys
from application.keys import ApiKeyRecord, KeyStore


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class SqlKeyStore(KeyStore):
    def __init__(self, write_engine: Engine, read_engine: Engine) -> None:
        self.write_engine = write_engine
        self.read_engine = read_engine

    def add(self, key_hash: str, prefix: str, workspace_id: str, created_at: datetime) -> None:
        with store_errors(), self.write_engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    key_hash=key_hash,
                    prefix=prefix,
                    workspace_id=workspace_id,
                    created_at=created_at,
                )
            )

    def workspace_for(self, key_hash: str) -> str | None:
        query = select(api_keys.c.workspace_id).where(
            api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
        )
        with store_errors(), self.read_engine.connect() as conn:
            return conn.execute(query).scalar()

    def still_valid(self, key_hashes: list[str]) -> set[str]:
        valid: set[str] = set()
        t = api_keys.c
        with store_errors(), self.read_engine.connect() as conn:
            for start in range(0, len(key_hashes), 500):
                chunk = key_hashes[start : start + 500]
                query = select(t.key_hash).where(t.key_hash.in_(chunk), t.revoked_at.is_(None))
                valid.update(conn.execute(query).scalars())
        return valid

    def list(self, workspace_id: str) -> list[ApiKeyRecord]:
        query = (
            select(api_keys)
            .where(api_keys.c.workspace_id == workspace_id)
            .order_by(api_keys.c.created_at)
        )
        with store_errors(), self.read_engine.connect() as conn:
            return [
                ApiKeyRecord(
                    prefix=r.prefix,
                    workspace_id=r.workspace_id,
                    created_at=_utc(r.created_at) or r.created_at,
                    revoked_at=_utc(r.revoked_at),
                )
                for r in conn.execute(query)
            ]

    def revoke(self, prefix: str, key_hash: str | None, revoked_at: datetime) -> int:
        match = api_keys.c.key_hash == key_hash if key_hash else api_keys.c.prefix == prefix
        stmt = update(api_keys).where(match, api_keys.c.revoked_at.is_(None))
        with store_errors(), self.write_engine.begin() as conn:
            return conn.execute(stmt.values(revoked_at=revoked_at)).rowcount
