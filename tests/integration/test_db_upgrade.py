"""`tuco db upgrade` creates everything and is safe to run again."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from adapters.config import Settings
from api import cli
from api.bootstrap import build


def test_db_upgrade_runs_twice_and_leaves_every_table(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TUCO_DATABASE_URL", database_url)
    assert cli.main(["db", "upgrade"]) == 0
    assert cli.main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.count("database ready") == 2
    services = build(Settings(database_url=database_url))
    try:
        schema = database_url.partition("?schema=")[2] or None
        tables = set(inspect(services.database.read_engine).get_table_names(schema=schema))
    finally:
        services.close()
    expected = {"line_views", "projection_positions", "api_keys", "leases", "sandbox_invoices"}
    assert expected <= tables
    assert tables & {"stored_events", "tucolines_events"}
