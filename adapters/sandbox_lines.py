"""State of the sandbox line server: whether each sandbox line is up and has iMessage."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from adapters.database import store_errors
from adapters.schema import sandbox_line_status

t = sandbox_line_status.c


class SandboxLines:
    """Lines are up with iMessage available unless an operator says otherwise."""

    def __init__(self, write_engine: Engine, read_engine: Engine) -> None:
        self.write_engine = write_engine
        self.read_engine = read_engine

    def status(self, line_id: str) -> tuple[bool, bool]:
        with store_errors(), self.read_engine.connect() as conn:
            row = conn.execute(select(t.up, t.imessage).where(t.line_id == line_id)).first()
        return (True, True) if row is None else (bool(row.up), bool(row.imessage))

    def set(self, line_id: str, up: bool | None = None, imessage: bool | None = None) -> None:
        current_up, current_imessage = self.status(line_id)
        values = {
            "line_id": line_id,
            "up": current_up if up is None else up,
            "imessage": current_imessage if imessage is None else imessage,
        }
        with store_errors(), self.write_engine.begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(sandbox_line_status).values(values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[t.line_id],
                    set_={"up": values["up"], "imessage": values["imessage"]},
                )
            )
