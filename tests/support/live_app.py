"""The API on a real uvicorn in a thread of the test process, on 127.0.0.1: real HTTP in
and out (callbacks, probes) while the test still holds the services and the clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from api.app import create_app
from api.bootstrap import Services


@contextmanager
def live_app(services: Services, port: int, run_worker: bool = False) -> Iterator[str]:
    """Serves `services` on `port` (pick it with `free_port()` before building them, so
    `public_url` names it); yields the base URL."""
    app = create_app(services, run_worker=run_worker)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.01)  # polling a condition (the server started), not waiting for state
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
