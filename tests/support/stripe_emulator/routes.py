"""Dispatch of a `/v1` request to the handler registered for it, with `expand[]` applied."""

from __future__ import annotations

from . import api_billing, api_other
from .errors import EmulatedStripeError
from .expand import expand
from .params import Params, expand_paths
from .registry import ROUTES
from .store import Obj, Store

MODULES = (api_billing, api_other)  # importing them registers their routes


def dispatch(store: Store, method: str, path: str, params: Params) -> Obj:
    """Run the matching handler, or answer Stripe's 404 for an unknown URL."""
    for route_method, regex, handler in ROUTES:
        match = regex.match(path)
        if match and route_method == method:
            result = handler(store, params, *match.groups())
            return expand(store, result, expand_paths(params))
    raise EmulatedStripeError(
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or "
        "we can help at https://support.stripe.com/.",
        status=404,
        replayable=False,
    )
