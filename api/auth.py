"""Who is calling: a workspace API key (`Bearer tuco_…`) or a Clerk session token."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from adapters.clerk import ClerkVerifier, InvalidToken
from api.errors import Unauthorized
from application.keys import KEY_PREFIX, ApiKeys
from domain.enums import RequestSource


@dataclass(frozen=True)
class Caller:
    workspace_id: str
    source: RequestSource
    actor: str


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <API key or Clerk session token>'.")
    return token.strip()


def authenticate(request: Request, keys: ApiKeys, clerk: ClerkVerifier | None) -> Caller:
    """An API key or a Clerk token; runs in the thread pool (it reads the key store)."""
    token = bearer_token(request)
    if token.startswith(KEY_PREFIX):
        workspace_id = keys.authenticate(token)
        if workspace_id is None:
            raise Unauthorized("The API key is not valid or has been revoked.")
        return _key_holder(workspace_id, token)
    return authenticate_dashboard(request, clerk)


async def authenticate_async(
    request: Request, keys: ApiKeys, clerk: ClerkVerifier | None
) -> Caller:
    """As `authenticate`, from the event loop: a key remembered (and re-checked within the
    last 0.5 s) costs no I/O; anything else goes to the thread pool."""
    token = bearer_token(request)
    workspace_id = keys.cached(token) if token.startswith(KEY_PREFIX) else None
    if workspace_id is not None:
        return _key_holder(workspace_id, token)
    return await run_in_threadpool(authenticate, request, keys, clerk)


def _key_holder(workspace_id: str, key: str) -> Caller:
    return Caller(workspace_id, RequestSource.API, f"api_key:{key[:12]}")


def authenticate_dashboard(request: Request, clerk: ClerkVerifier | None) -> Caller:
    """A Clerk session token only: the token's organization names the workspace."""
    token = bearer_token(request)
    if clerk is None or token.startswith(KEY_PREFIX):
        raise Unauthorized("This endpoint takes a Clerk session token.")
    try:
        workspace_id = clerk.workspace_for(token)
    except InvalidToken as e:
        raise Unauthorized(str(e)) from None
    return Caller(workspace_id, RequestSource.DASHBOARD, f"dashboard:{workspace_id}")
