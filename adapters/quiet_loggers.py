"""HTTP client libraries log every request's full URL at INFO (a line's server URL, a JWKS
URL, Stripe's API paths); they log at WARNING and above only."""

from __future__ import annotations

import logging

HTTP_CLIENT_LOGGERS = ("httpx", "httpcore", "stripe", "urllib3")


def quiet_http_client_loggers() -> None:
    """Called by the factory (never at import time)."""
    for name in HTTP_CLIENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
