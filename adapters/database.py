"""One configuration point for storage: a database URL gives the event store's settings
and the SQLAlchemy engines of the read models, keys and sandbox tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.config import ConfigError
from adapters.sqlite_recorder import TakeTurns
from application.errors import store_unavailable


@dataclass(frozen=True)
class Database:
    url: URL
    event_store_env: dict[str, str]
    write_engine: Engine
    read_engine: Engine
    # Where projections write: their rows are rebuilt from the log, so a commit need not
    # wait for the disk (SQLite synchronous=NORMAL; PostgreSQL synchronous_commit off per
    # transaction, see projections.runner). Rows and position still commit together.
    projection_engine: Engine
    # Held around a projection's write transaction: on SQLite, the turn the event store's
    # recorder takes too (adapters.sqlite_recorder), so the two writers of a process wait
    # for each other's commit instead of sleeping in SQLite's busy handler.
    projection_turn: Callable[[], AbstractContextManager[object]] = nullcontext

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    def dispose(self) -> None:
        for engine in {self.write_engine, self.read_engine, self.projection_engine}:
            engine.dispose()


def open_database(
    database_url: str, timeout: float = 5.0, pool_size: int = 5, create_tables: bool = True
) -> Database:
    """Parse `TUCO_DATABASE_URL`: `sqlite:///path.db` or `postgresql+psycopg://…[?schema=S]`.
    `create_tables` off: the event store's tables already exist (made by `db upgrade`)."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        db = _sqlite(url, timeout)
    elif backend == "postgresql":
        db = _postgres(url, timeout, pool_size)
    else:
        raise ConfigError(
            f"Unsupported TUCO_DATABASE_URL backend {backend!r}: use sqlite or postgresql"
        )
    db.event_store_env["CREATE_TABLE"] = "y" if create_tables else "n"
    return db


def _sqlite_env(url: URL, timeout: float) -> tuple[str, dict[str, str]]:
    if not url.database or url.database == ":memory:":
        raise ConfigError("SQLite needs a file: TUCO_DATABASE_URL=sqlite:///path/to/tuco.db")
    path = str(Path(url.database).resolve())
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": path,
        "SQLITE_LOCK_TIMEOUT": str(max(1, round(timeout))),
        "APPLICATION_RECORDER_TOPIC": "adapters.sqlite_recorder:BatchedSQLiteRecorder",
    }
    return path, env


def open_reader(database_url: str, timeout: float = 5.0) -> tuple[dict[str, str], Engine]:
    """The event store's settings and one reading connection's engine, for a process that
    only reads an existing store (a rebuild's fold worker): nothing is created, locked or
    opened until it reads."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path, env = _sqlite_env(url, timeout)
        engine = _sqlite_engine(path, timeout, None, 1)
    elif url.get_backend_name() != "postgresql":
        raise ConfigError(f"Unsupported TUCO_DATABASE_URL backend {url.get_backend_name()!r}")
    else:
        db = _postgres(url, timeout, 1)
        env, engine = db.event_store_env, db.read_engine
    env["CREATE_TABLE"] = "n"
    return env, engine


def _sqlite(url: URL, timeout: float) -> Database:
    path, env = _sqlite_env(url, timeout)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    turn = TakeTurns(path, timeout)  # built once here, not on every projection pass
    write_engine = _sqlite_engine(path, timeout, "BEGIN IMMEDIATE", READERS)
    with write_engine.connect() as conn:  # WAL is a property of the file: set it once
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    return Database(
        url=url,
        event_store_env=env,
        write_engine=write_engine,
        read_engine=_sqlite_engine(path, timeout, None, READERS),
        projection_engine=_sqlite_engine(path, timeout, "BEGIN IMMEDIATE", 4, "NORMAL"),
        projection_turn=lambda: turn,
    )


# Threads that may read at once: Starlette's thread pool (40), the event loop, the writer,
# the follower and the worker. A pool smaller than that opens and closes a connection per
# read under load.
READERS = 48
PAGE_CACHE_KIB = 512


def _sqlite_engine(
    path: str, timeout: float, begin: str | None, pool_size: int, synchronous: str = "FULL"
) -> Engine:
    """Writers take SQLite's write lock when they begin, so a transaction that reads and
    then writes never fails on a stale snapshot; WAL lets readers run beside them. Readers
    (`begin` None) run each statement in its own implicit transaction: no BEGIN round."""
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": timeout, "check_same_thread": False},
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=timeout,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        dbapi_conn.execute(f"PRAGMA synchronous={synchronous}")
        # Each connection has its own page cache (2 MiB by default), and a pool of 48 fills
        # them one by one as the file grows: the process's memory then creeps up for minutes
        # (the soak). Interior B-tree pages fit in 512 KiB; the OS caches the rest of the file.
        dbapi_conn.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")

    if begin is not None:

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql(begin)

    return engine


def _postgres(url: URL, timeout: float, pool_size: int) -> Database:
    schema = url.query.get("schema")
    if isinstance(schema, tuple):
        schema = schema[0]
    url = url.difference_update_query(["schema"])
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.database or "postgres",
        "POSTGRES_HOST": url.host or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_CONNECT_TIMEOUT": str(max(1, round(timeout))),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_PRE_PING": "y",  # a pooled connection may have died with a restarted server
        "POSTGRES_LOCK_TIMEOUT": str(max(1, round(timeout))),
        "APPLICATION_RECORDER_TOPIC": "adapters.pg_recorder:FailFastPostgresRecorder",
    }
    wait_ms = int(timeout * 1000)
    options = f"-c lock_timeout={wait_ms} -c statement_timeout={wait_ms * 2}"
    connect_args: dict[str, Any] = {"connect_timeout": max(1, round(timeout))}
    if schema:
        env["POSTGRES_SCHEMA"] = schema
        options += f" -c search_path={schema}"
    connect_args["options"] = options
    # No pre-ping (a round trip per checkout): a connection that died with a restarted
    # server fails once, and SQLAlchemy then discards the whole pool.
    # No overflow: a connection opened and closed per request costs more than waiting for
    # a pooled one (several processes share the server's max_connections).
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=timeout,
        connect_args=connect_args,
    )
    return Database(
        url=url,
        event_store_env=env,
        write_engine=engine,
        read_engine=engine,
        projection_engine=engine,
    )


@contextmanager
def store_errors() -> Iterator[None]:
    """Database failures leave an adapter as the application's `ServiceBusy` (503 at the
    edge), so the layers above see no SQLAlchemy error but a constraint violation."""
    try:
        yield
    except IntegrityError:
        raise  # a constraint the caller handles (a duplicate), not an outage
    except DBAPIError as e:
        raise store_unavailable(e) from e
