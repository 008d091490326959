"""Structured logs: one JSON object a line on stderr, through structlog.

Every record goes the same way, ours and the libraries' (uvicorn, SQLAlchemy, httpx, the
Stripe SDK): the stdlib handler on the root logger formats it with structlog's
`ProcessorFormatter`. Fields given as `extra={...}` become keys of the object. The id of the
HTTP request being served (set once per request by the API's middleware) is added to each
line emitted while serving it; nothing is done per log call that is filtered out.

Known secrets (the configured keys, tokens and database password) and anything shaped like
one (API keys, Stripe keys, bearer tokens, passwords in URLs) are masked in the rendered
line, whatever logged it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Callable, Iterable, MutableMapping
from contextvars import ContextVar
from typing import IO, Any

import orjson
import structlog
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from adapters.config import Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("tuco_request_id", default=None)
MASK = "[redacted]"
FORMATS = ("json", "console")
# Shapes of secrets, masked even when they are not configured here (a client's API key).
_SHAPES = re.compile(
    r"tuco_[A-Za-z0-9_\-]{20,}"  # workspace API keys (the 12-character prefix is not secret)
    r"|\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]{4,}"  # Stripe keys
    r"|\bwhsec_[A-Za-z0-9+/=_\-]{4,}"  # webhook signing secrets
    r"|(?<=[Bb]earer )[^\s\"',]{8,}"  # bearer tokens (Clerk sessions, service tokens)
    r"|(?<=://)([^:/@\s]+):[^@/\s]+(?=@)"  # user:password@ in URLs
)
# Each shape needs one of these substrings: a line without any (most lines, such as every
# request's access line) skips the expression, the costliest step of writing a line.
_SHAPE_HINTS = ("tuco_", "_test_", "_live_", "whsec_", "earer ", "://")
_Processor = Callable[[Any, str, MutableMapping[str, Any]], Any]


def secrets_of(settings: Settings) -> list[str]:
    """The configured secret values, to be masked wherever they appear."""
    found = [settings.internal_token, settings.notify_secret]
    if settings.stripe is not None:
        found += [settings.stripe.api_key, settings.stripe.webhook_secret]
    with contextlib.suppress(ArgumentError):  # refused when the database is opened
        found.append(make_url(settings.database_url).password)
    return [s for s in found if s and len(s) >= 4]


class Redactor:
    """Masks known secret values and secret-shaped strings in a rendered line."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def __call__(self, line: str) -> str:
        for secret in self.secrets:
            if secret in line:
                line = line.replace(secret, MASK)
        if not any(hint in line for hint in _SHAPE_HINTS):
            return line
        return _SHAPES.sub(_mask_match, line)


def _mask_match(m: re.Match[str]) -> str:
    if m.group(1) is not None:  # keep the user name of user:password@
        return f"{m.group(1)}:{MASK}"
    return MASK


def _drop_color(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
    return event


def _add_request_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    request_id = REQUEST_ID.get()
    if request_id is not None and "request_id" not in event:
        event["request_id"] = request_id
    return event


def _renderer(fmt: str, redact: Redactor) -> _Processor:
    if fmt == "console":
        inner: _Processor = structlog.dev.ConsoleRenderer(colors=False)
    else:
        inner = structlog.processors.JSONRenderer(
            serializer=lambda obj, **_: orjson.dumps(obj, default=str).decode()
        )

    def render(logger: Any, name: str, event: MutableMapping[str, Any]) -> str:
        return redact(str(inner(logger, name, event)))

    return render


def configure_logging(
    level: str = "INFO",
    fmt: str = "json",
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> None:
    """Route every log record through structlog to `stream` (stderr), one line each;
    replaces the root logger's handlers (safe to call again)."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(f"unknown log level {level!r}")
    shared: list[_Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        _add_request_id,
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _drop_color],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(fmt, Redactor(secrets)),
        ],
    )
    # No line shows where it was logged from, nor the thread or process: the logging
    # HOWTO's "Optimization" switches, so no record looks up its caller's frame (one per
    # request's access line) or the process id.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
