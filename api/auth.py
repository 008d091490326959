"""Who is calling: a workspace API key (`Bearer tuco_…`), a Clerk session token, or the
internal service token. `Access` names what an endpoint accepts, for the checks here, the
401 messages and the OpenAPI security requirements alike."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import Enum

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from adapters.clerk import ClerkVerifier, InvalidToken
from api.errors import Unauthorized
from api.observe import WORKSPACE_KEY
from application.keys import KEY_PREFIX, ApiKeys
from domain.enums import RequestSource

# Security scheme names in /openapi.json.
API_KEY, CLERK, INTERNAL = "ApiKey", "ClerkSession", "InternalToken"


class Access(Enum):
    """What an endpoint accepts: (security schemes, how a 401 message names it)."""

    PUBLIC = ((), "no credentials")
    KEY_OR_CLERK = ((API_KEY, CLERK), f"an API key ({KEY_PREFIX}…) or a Clerk session token")
    CLERK = ((CLERK,), "a Clerk session token")
    KEY = ((API_KEY,), f"a workspace API key ({KEY_PREFIX}…)")
    INTERNAL = ((INTERNAL,), "the internal service token")
    SIGNED = ((), "a Stripe-Signature header")

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(self.value[0])

    @property
    def accepts(self) -> str:
        return str(self.value[1])


@dataclass(frozen=True)
class Caller:
    workspace_id: str
    source: RequestSource
    actor: str


def bearer_token(request: Request, access: Access) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            f"This endpoint takes {access.accepts}: send 'Authorization: Bearer <token>'."
        )
    return token.strip()


def authenticate(request: Request, keys: ApiKeys, clerk: ClerkVerifier | None) -> Caller:
    """An API key or a Clerk token; runs in the thread pool (it reads the key store)."""
    token = bearer_token(request, Access.KEY_OR_CLERK)
    if token.startswith(KEY_PREFIX):
        workspace_id = keys.authenticate(token)
        if workspace_id is None:
            raise Unauthorized("The API key is not valid or has been revoked.")
        return _key_holder(request, workspace_id, token)
    if clerk is None:
        raise Unauthorized(
            f"The token is not an API key, and Clerk session tokens are not configured here; "
            f"this endpoint takes {Access.KEY_OR_CLERK.accepts}."
        )
    return _clerk_holder(request, token, clerk)


async def authenticate_async(
    request: Request, keys: ApiKeys, clerk: ClerkVerifier | None
) -> Caller:
    """As `authenticate`, from the event loop: a key remembered (and re-checked within the
    last 0.5 s) costs no I/O; anything else goes to the thread pool."""
    token = bearer_token(request, Access.KEY_OR_CLERK)
    workspace_id = keys.cached(token) if token.startswith(KEY_PREFIX) else None
    if workspace_id is not None:
        return _key_holder(request, workspace_id, token)
    return await run_in_threadpool(authenticate, request, keys, clerk)


async def authenticate_key_async(request: Request, keys: ApiKeys) -> Caller:
    """A workspace API key only (a Clerk token is refused)."""
    token = bearer_token(request, Access.KEY)
    if not token.startswith(KEY_PREFIX):
        raise Unauthorized(f"This endpoint takes {Access.KEY.accepts}.")
    workspace_id = keys.cached(token)
    if workspace_id is None:
        workspace_id = await run_in_threadpool(keys.authenticate, token)
    if workspace_id is None:
        raise Unauthorized("The API key is not valid or has been revoked.")
    return _key_holder(request, workspace_id, token)


def _key_holder(request: Request, workspace_id: str, key: str) -> Caller:
    request.scope[WORKSPACE_KEY] = workspace_id  # for the request log
    return Caller(workspace_id, RequestSource.API, f"api_key:{key[:12]}")


def authenticate_dashboard(request: Request, clerk: ClerkVerifier | None) -> Caller:
    """A Clerk session token only: the token's organization names the workspace."""
    token = bearer_token(request, Access.CLERK)
    if token.startswith(KEY_PREFIX):
        raise Unauthorized("This endpoint takes a Clerk session token, not an API key.")
    if clerk is None:
        raise Unauthorized("This endpoint takes a Clerk session token; none is configured here.")
    return _clerk_holder(request, token, clerk)


def _clerk_holder(request: Request, token: str, clerk: ClerkVerifier) -> Caller:
    try:
        workspace_id = clerk.workspace_for(token)
    except InvalidToken as e:
        raise Unauthorized(str(e)) from None
    request.scope[WORKSPACE_KEY] = workspace_id
    return Caller(workspace_id, RequestSource.DASHBOARD, f"dashboard:{workspace_id}")


def authenticate_service(request: Request, expected: str | None) -> None:
    """The internal service token (constant-time comparison); none configured: refused."""
    token = bearer_token(request, Access.INTERNAL)
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized(f"This endpoint takes {Access.INTERNAL.accepts}.")
