"""Who is calling: a workspace API key (`Authorization: Bearer tuco_…`)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from api.errors import Unauthorized
from application.keys import ApiKeys
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
        raise Unauthorized("Send a workspace API key as 'Authorization: Bearer tuco_…'.")
    return token.strip()


def authenticate(request: Request, keys: ApiKeys) -> Caller:
    """Runs in the thread pool (it reads the key store)."""
    token = bearer_token(request)
    workspace_id = keys.authenticate(token)
    if workspace_id is None:
        raise Unauthorized("The API key is not valid or has been revoked.")
    return Caller(
        workspace_id=workspace_id, source=RequestSource.API, actor=f"api_key:{token[:12]}"
    )
