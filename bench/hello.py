"""Hello-world Starlette baseline, served with the same uvicorn settings as `tuco serve`.

`POST /hello` reads the body and answers a small JSON object without leaving the event loop;
`POST /hello-pool` does the same work through one hop to the thread pool, the way every Tuco
endpoint runs its (synchronous) work. Both render with the service's orjson response class.

    python -m bench.hello --port 8001 [--workers N]
"""

from __future__ import annotations

import argparse
import os

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.responses import JSON


async def hello(request: Request) -> Response:
    body = await request.body()
    return JSON({"hello": "world", "bytes": len(body)}, status_code=201)


async def hello_pool(request: Request) -> Response:
    body = await request.body()
    answer = await run_in_threadpool(lambda: {"hello": "world", "bytes": len(body)})
    return JSON(answer, status_code=201)


async def health(request: Request) -> Response:
    return JSON({"status": "ok"})


def app_factory() -> Starlette:
    return Starlette(
        routes=[
            Route("/hello", hello, methods=["POST"]),
            Route("/hello-pool", hello_pool, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


def main() -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.hello")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    a = parser.parse_args()
    # The same call as `tuco serve` (api/cli.py: serve).
    uvicorn.run(
        "bench.hello:app_factory",
        factory=True,
        host=a.host,
        port=a.port,
        workers=a.workers,
        log_level=os.environ.get("TUCO_LOG_LEVEL", "info").lower(),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
