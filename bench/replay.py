"""4. Replay: the projection rebuilt from position 0 and an audit replay of every event,
against a raw SQL scan of the events table plus a raw insert of the rows (same database)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete

from api.bootstrap import Services
from bench.common import Store, log, ratio
from bench.report import Row
from projections.schema import line_views, positions

SCRATCH = "bench_raw_copy"
CHUNK = 10_000


def rebuild(services: Services) -> dict[str, Any]:
    """Delete the `lines` rows and position, then catch up from position 0."""
    with services.database.write_engine.begin() as conn:
        conn.execute(delete(line_views))
        conn.execute(delete(positions).where(positions.c.name == services.runner.name))
    started = time.perf_counter()
    reached = services.runner.catch_up()
    seconds = time.perf_counter() - started
    return {"events": reached, "seconds": seconds, "events_per_s": reached / seconds}


def rebuilder(services: Services) -> dict[str, Any] | None:
    """The product's zero-downtime rebuild (shadow table, then swap), where it exists."""
    factory: Callable[[], Any] | None = getattr(services, "rebuilder", None)
    if factory is None:
        return None
    head = services.app.recorder.max_notification_id() or 0
    started = time.perf_counter()
    factory().rebuild()
    seconds = time.perf_counter() - started
    return {"events": head, "seconds": seconds, "events_per_s": head / seconds}


def audit_replay(services: Services) -> dict[str, Any]:
    """Read every event of the log and fold every aggregate. Uses the product's audit
    (`services.audit.verify()`: fold each request, compare with its read-model row) when it
    exists; otherwise decodes all notifications and folds every aggregate itself."""
    head = services.app.recorder.max_notification_id() or 0
    audit = getattr(services, "audit", None)
    started = time.perf_counter()
    if audit is not None and hasattr(audit, "verify"):
        report = audit.verify()
        how = "services.audit.verify()"
        mismatches = len(report.mismatches)
    else:
        folded: dict[Any, Any] = {}
        recorder, mapper, start = services.app.recorder, services.app.mapper, 0
        while notes := recorder.select_notifications(start, CHUNK, inclusive_of_start=False):
            for n in notes:
                event: Any = mapper.to_domain_event(n)
                folded[event.originator_id] = event.mutate(folded.get(event.originator_id))
            start = notes[-1].id
        how = "decode all + fold every aggregate"
        mismatches = 0
    seconds = time.perf_counter() - started
    return {
        "events": head,
        "seconds": seconds,
        "events_per_s": head / seconds,
        "how": how,
        "mismatches": mismatches,
    }


def raw_scan_insert(store: Store) -> dict[str, Any]:
    """One SELECT over the whole events table, and executemany INSERTs of the same rows
    into a scratch table, in one transaction, with the event store's own driver."""
    conn = store.raw_connect()
    table = store.events_table
    try:
        if store.backend == "sqlite":
            conn.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
            conn.execute(
                f"CREATE TABLE {SCRATCH} (originator_id TEXT, originator_version INTEGER, "
                "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
            )
            insert = f"INSERT INTO {SCRATCH} VALUES (?, ?, ?, ?)"
            started = time.perf_counter()
            conn.execute("BEGIN")
            scan = conn.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {table} "
                "ORDER BY rowid"
            )
            rows = 0
            while chunk := scan.fetchmany(CHUNK):
                conn.executemany(insert, chunk)
                rows += len(chunk)
            conn.execute("COMMIT")
        else:
            conn.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
            conn.execute(
                f"CREATE TABLE {SCRATCH} (originator_id uuid NOT NULL, originator_version "
                "bigint NOT NULL, topic text, state bytea, notification_id bigint, "
                "PRIMARY KEY (originator_id, originator_version))"
            )
            conn.commit()
            insert = f"INSERT INTO {SCRATCH} VALUES (%s, %s, %s, %s, %s)"
            started = time.perf_counter()
            rows = 0
            with conn.cursor(name="bench_scan") as scan, conn.cursor() as out:
                scan.itersize = CHUNK
                scan.execute(
                    "SELECT originator_id, originator_version, topic, state, notification_id "
                    f"FROM {table} ORDER BY notification_id"
                )
                while chunk := scan.fetchmany(CHUNK):
                    out.executemany(insert, chunk)
                    rows += len(chunk)
            conn.commit()
        seconds = time.perf_counter() - started
    finally:
        conn.close()
    return {"events": rows, "seconds": seconds, "events_per_s": rows / seconds}


def run(
    store: Store, services: Services, with_rebuilder: bool = False
) -> tuple[list[Row], dict[str, Any]]:
    backend = store.backend
    log(f"replay on {backend}: projection rebuild from 0")
    rebuilt = rebuild(services)
    log(f"  rebuilt {rebuilt['events']:,} events in {rebuilt['seconds']:.1f} s; audit replay")
    audited = audit_replay(services)
    log("  raw scan + insert")
    raw = raw_scan_insert(store)
    results: dict[str, Any] = {"rebuild": rebuilt, "audit": audited, "raw": raw}
    n = f"{rebuilt['events']:,} ev"
    rows = [
        Row("4 replay", backend, f"raw SELECT scan + INSERT ({n})", raw, "ev/s"),
        Row(
            "4 replay",
            backend,
            f"projection rebuild from 0 ({n})",
            rebuilt,
            "ev/s",
            baseline="raw scan + insert",
            ratio=ratio(rebuilt["events_per_s"], raw["events_per_s"]),
            target=0.5,
        ),
        Row(
            "4 replay",
            backend,
            f"audit replay ({n})",
            audited,
            "ev/s",
            baseline="raw scan + insert",
            ratio=ratio(audited["events_per_s"], raw["events_per_s"]),
            note=f"{audited['how']}; {audited['mismatches']} mismatches",
        ),
    ]
    if with_rebuilder:
        log("  zero-downtime rebuilder")
        shadow = rebuilder(services)
        if shadow is not None:
            results["rebuilder"] = shadow
            rows.append(
                Row(
                    "4 replay",
                    backend,
                    f"zero-downtime Rebuilder ({n})",
                    shadow,
                    "ev/s",
                    baseline="raw scan + insert",
                    ratio=ratio(shadow["events_per_s"], raw["events_per_s"]),
                )
            )
    return rows, results
