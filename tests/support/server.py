"""A real `tuco serve` in a subprocess, for tests that need real HTTP and processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

TUCO = str(Path(sys.executable).with_name("tuco"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(base_url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tuco serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling a condition (the port answering), not waiting for state
    raise TimeoutError(f"{base_url} did not start within {timeout} s")


@contextmanager
def running_server(
    database_url: str, *args: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    with server_process(database_url, *args, env=env) as (base_url, _):
        yield base_url


@contextmanager
def server_process(
    database_url: str,
    *args: str,
    env: dict[str, str] | None = None,
    output: IO[bytes] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`tuco serve` in its own process group; yields its URL and process. Its stdout and
    stderr go to `output` when given (a file), else to the test's own."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    full_env = {
        **os.environ,
        "TUCO_DATABASE_URL": database_url,
        "TUCO_PUBLIC_URL": base_url,
        "TUCO_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    proc = subprocess.Popen(
        [TUCO, "serve", "--port", str(port), *args],
        env=full_env,
        start_new_session=True,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )
    try:
        wait_until_serving(base_url, proc)
        yield base_url, proc
    finally:
        stop_process_group(proc)


def stop_process_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
